"""Finding checks: the bundled ones, `--checks-dir` folders, and the `posthog_doctor.checks` entry points.

A check that fails to load never stops the run: it is recorded as a load problem and shows up in the
report as an `error` result, so a broken third-party check is visible rather than silently missing.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import pkgutil
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .check import Check, Option, Query
from .config import ConfigError
from .topology import COMPONENTS

ENTRY_POINT_GROUP = "posthog_doctor.checks"
BUNDLED_PACKAGE = "posthog_doctor.checks"
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


@dataclass
class LoadProblem:
    source: str  # file, module or entry point that failed
    reason: str


@dataclass
class Registry:
    checks: dict[str, type[Check]] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    problems: list[LoadProblem] = field(default_factory=list)

    def add(self, cls: type[Check], origin: str) -> None:
        problem = validate(cls)
        if problem:
            self.problems.append(LoadProblem(origin, f"{cls.__name__}: {problem}"))
        elif cls.id in self.checks:
            if self.checks[cls.id] is not cls:
                self.problems.append(
                    LoadProblem(origin, f"check id {cls.id!r} is already provided by {self.origins[cls.id]}; ignored")
                )
        else:
            self.checks[cls.id] = cls
            self.origins[cls.id] = origin

    def sorted(self) -> list[type[Check]]:
        return [self.checks[k] for k in sorted(self.checks)]


def discover(checks_dirs: Iterable[Path] = (), *, entry_points: bool = True) -> Registry:
    registry = Registry()
    load_bundled(registry)
    for folder in checks_dirs:
        if not folder.is_dir():
            raise ConfigError(f"--checks-dir {folder}: not a folder")
        for path in sorted(folder.rglob("*.py")):
            if not any(part.startswith(("_", ".")) for part in path.relative_to(folder).parts):
                _load_file(registry, path)
    if entry_points:
        _load_entry_points(registry)
    return registry


def validate(cls: type[Check]) -> str:
    """Why `cls` is not a usable check, or "" when it is."""
    if not isinstance(cls.id, str) or not _ID.match(cls.id):
        return f"id {cls.id!r} must be dotted lower-case words, e.g. 'clickhouse.disk'"
    if not isinstance(cls.title, str) or not cls.title.strip():
        return f"check {cls.id} has no title"
    unknown = [c for c in tuple(cls.needs) + tuple(cls.uses) if c not in COMPONENTS]
    if unknown:
        return f"check {cls.id} names unknown components {unknown}; known: {', '.join(COMPONENTS)}"
    if not all(isinstance(o, Option) for o in dict(cls.options).values()):
        return f"check {cls.id}: every entry of `options` must be an Option"
    if not all(isinstance(q, Query) for q in cls.queries):
        return f"check {cls.id}: every entry of `queries` must be a Query"
    if not isinstance(cls.timeout, (int, float)) or cls.timeout <= 0:
        return f"check {cls.id}: timeout must be a positive number of seconds"
    if not callable(getattr(cls, "run", None)) or cls.run is Check.run:
        return f"check {cls.id} does not implement run()"
    return ""


def checks_in_module(module: ModuleType) -> list[type[Check]]:
    """Check classes defined in `module` (not merely imported into it), with an id."""
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Check) and obj is not Check and obj.__module__ == module.__name__ and obj.id
    ]


def load_bundled(registry: Registry) -> None:
    classes, problems = _bundled()
    registry.problems.extend(problems)
    for cls in classes:
        registry.add(cls, "bundled")


@functools.lru_cache(maxsize=1)
def _bundled() -> tuple[tuple[type[Check], ...], tuple[LoadProblem, ...]]:
    """The bundled check classes, found once per process (the CLI needs them for its flags and its run)."""
    package = importlib.import_module(BUNDLED_PACKAGE)
    classes, problems = [], []
    for info in pkgutil.walk_packages(package.__path__, BUNDLED_PACKAGE + "."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception as exc:  # noqa: BLE001 - one broken check file must not stop the others
            problems.append(LoadProblem(info.name, _one_line(exc)))
            continue
        classes.extend(checks_in_module(module))
    return tuple(classes), tuple(problems)


def _load_file(registry: Registry, path: Path) -> None:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    name = f"posthog_doctor_ext_{digest}_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}"
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError("not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - a third party's file may contain anything
        sys.modules.pop(name, None)
        registry.problems.append(LoadProblem(str(path), _one_line(exc)))
        return
    for cls in checks_in_module(module):
        registry.add(cls, str(path))


def _load_entry_points(registry: Registry) -> None:
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {ep.name} ({ep.value})"
        try:
            loaded: Any = ep.load()
        except Exception as exc:  # noqa: BLE001 - a third party's entry point may raise anything
            registry.problems.append(LoadProblem(origin, _one_line(exc)))
            continue
        found: list[Any]
        if inspect.ismodule(loaded):
            found = checks_in_module(loaded)
        elif inspect.isclass(loaded):
            found = [loaded]
        else:
            found = list(loaded) if isinstance(loaded, (list, tuple)) else []
        if not found or not all(inspect.isclass(c) and issubclass(c, Check) for c in found):
            registry.problems.append(
                LoadProblem(origin, "does not point to a Check class, a list of them, or a module")
            )
            continue
        for cls in found:
            registry.add(cls, origin)


def resolve_options(registry: Registry, raw: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each check's options: its declared defaults overlaid with the configured values, validated."""
    import difflib

    for check_id, values in raw.items():
        if check_id not in registry.checks:
            hint = difflib.get_close_matches(check_id, list(registry.checks), n=1)
            raise ConfigError(
                f"options for unknown check {check_id!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
            )
        declared = registry.checks[check_id].options
        for name in values:
            if name not in declared:
                known = ", ".join(declared) or "none"
                raise ConfigError(f"check {check_id} has no option {name!r} (options: {known})")
    resolved = {}
    for check_id, cls in registry.checks.items():
        values = {}
        for name, option in cls.options.items():
            given = raw.get(check_id, {}).get(name)
            if given is None:
                values[name] = option.default
                continue
            try:
                values[name] = option.parse(given)
            except ValueError as exc:
                raise ConfigError(f"option {check_id}.{name}: {exc}") from None
        resolved[check_id] = values
    return resolved


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300]
