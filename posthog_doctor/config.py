"""Settings for one run, merged in this precedence: flags > environment > YAML file/profile > defaults.

For a component URL, the environment means `POSTHOG_DOCTOR_<COMPONENT>_URL` first, then PostHog's own
variables (see topology.py). Every problem is a `ConfigError` with a one-line message that names the
offending flag, variable or key, and never contains a password.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .connectors.kafka import target as _kafka_urls  # noqa: F401  (registers the kafka:// URL syntax)
from .endpoints import Endpoint, EndpointError, parse_endpoint
from .topology import COMPONENTS, DISABLED, URL_COMPONENTS, posthog_env_roles, posthog_env_url

FORMATS = ("json", "md", "html")
DEFAULT_OUTPUT = "posthog-doctor-report"
MAX_CONFIG_BYTES = 1_000_000


class ConfigError(Exception):
    """A usage or configuration problem: reported in one line, exit code 4."""


# Keys a config file (or one of its profiles) may hold, with the type each must have.
_LIST = "list of text"
KEYS: dict[str, Any] = {
    **{c.config_key: str for c in URL_COMPONENTS},
    "api_key": str,
    "project_token": str,
    "status_file": str,
    "timeout": float,
    "concurrency": int,
    "only": _LIST,
    "skip": _LIST,
    "checks_dirs": _LIST,
    "output": str,
    "format": _LIST,
    "redact": bool,
    "include_payloads": bool,
    "ticket": str,
    "customer": str,
    "checks": dict,
}
FILE_ONLY_KEYS = ("profiles",)


@dataclass
class Settings:
    endpoints: dict[str, Endpoint | None] = field(default_factory=dict)  # None: disabled on purpose
    api_key: str = field(default="", repr=False)
    project_token: str = field(default="", repr=False)  # a project API key (phc_...) to validate without ingesting
    status_file: Path | None = None
    timeout: float = 60.0
    concurrency: int = 4
    only: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    checks_dirs: list[Path] = field(default_factory=list)
    check_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # raw, validated by the registry
    output: Path = Path(DEFAULT_OUTPUT)
    formats: list[str] = field(default_factory=lambda: list(FORMATS))
    redact: bool = True
    include_payloads: bool = False
    ticket: str = ""
    customer: str = ""
    config_file: Path | None = None
    profile: str = ""

    @property
    def secrets(self) -> list[str]:
        """Every secret the run was given: these strings must never reach an output."""
        found = [secret for secret in (self.api_key, self.project_token) if secret]
        for endpoint in self.endpoints.values():
            if endpoint is not None:
                found.extend(endpoint.secrets)
        return found

    def target_summary(self) -> dict[str, Any]:
        """What was checked, without secrets: goes into every report."""
        return {
            "components": {name: (ep.url() if ep is not None else "disabled") for name, ep in self.endpoints.items()},
            "component_sources": {name: (ep.source if ep is not None else "") for name, ep in self.endpoints.items()},
            # Components given several endpoints: each, with what it is for when it is not the component itself.
            "candidates": {
                name: [f"{c.url()} ({c.role})" if c.role else c.url() for c in ep.candidates()]
                for name, ep in self.endpoints.items()
                if ep is not None and ep.alternates
            },
            "api_key_given": bool(self.api_key),
            "status_file": self.status_file.name if self.status_file else "",
            "profile": self.profile,
            "ticket": self.ticket,
            "customer": self.customer,
        }


def offline_settings(*, status_file: Path) -> Settings:
    """Settings that reach no component: every URL component off, only the given file read."""
    return Settings(endpoints={c.name: None for c in URL_COMPONENTS}, status_file=status_file, timeout=30.0)


def load_settings(flags: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings for a run from parsed flags (None = not given) and the environment."""
    env = os.environ if env is None else env
    config_path = flags.get("config") or env.get("POSTHOG_DOCTOR_CONFIG") or ""
    profile = flags.get("profile") or env.get("POSTHOG_DOCTOR_PROFILE") or ""
    file_layer: dict[str, Any] = {}
    if config_path:
        file_layer = load_config_file(Path(config_path), profile)
    elif profile:
        raise ConfigError(f"--profile {profile!r} needs a config file (--config FILE)")

    def pick(key: str, flag_value: Any, env_name: str = "") -> Any:
        if flag_value not in (None, [], ""):
            return flag_value
        if env_name and env.get(env_name):
            return env[env_name]
        return file_layer.get(key)

    s = Settings(config_file=Path(config_path) if config_path else None, profile=profile)
    for comp in URL_COMPONENTS:
        s.endpoints[comp.name] = _endpoint(comp.name, flags.get(comp.config_key), env, file_layer)

    s.api_key = str(
        pick("api_key", flags.get("api_key"), "POSTHOG_PERSONAL_API_KEY") or env.get("POSTHOG_DOCTOR_API_KEY") or ""
    ).strip()
    s.project_token = str(
        pick("project_token", flags.get("project_token"), "POSTHOG_DOCTOR_PROJECT_TOKEN") or ""
    ).strip()
    status_file = pick("status_file", flags.get("status_file"))
    s.status_file = Path(status_file) if status_file else None
    if s.status_file is not None and (s.status_file.is_dir() or not os.access(s.status_file, os.R_OK)):
        raise ConfigError(f"--status-file {s.status_file}: not a readable file")
    s.timeout = _number(
        "timeout", pick("timeout", flags.get("timeout"), "POSTHOG_DOCTOR_TIMEOUT"), 60.0, float, 1, 3600
    )
    s.concurrency = _number("concurrency", pick("concurrency", flags.get("concurrency")), 4, int, 1, 32)
    s.only = _terms(pick("only", flags.get("only")))
    s.skip = _terms(pick("skip", flags.get("skip")))
    s.checks_dirs = [Path(p) for p in _as_list(file_layer.get("checks_dirs")) + _as_list(flags.get("checks_dirs"))]
    s.check_options = _merge_options(file_layer.get("checks") or {}, flags.get("options") or [])
    s.output = Path(pick("output", flags.get("output"), "POSTHOG_DOCTOR_OUTPUT") or DEFAULT_OUTPUT)
    s.formats = parse_formats(pick("format", flags.get("format")) or ["all"])
    s.redact = not flags.get("no_redact") and file_layer.get("redact", True) is not False
    s.include_payloads = bool(flags.get("include_payloads") or file_layer.get("include_payloads"))
    s.ticket = str(pick("ticket", flags.get("ticket")) or "")
    s.customer = str(pick("customer", flags.get("customer")) or "")
    return s


def _endpoint(
    name: str, flag_value: str | None, env: Mapping[str, str], file_layer: Mapping[str, Any]
) -> Endpoint | None:
    comp = COMPONENTS[name]
    try:
        from_posthog_env = posthog_env_url(name, env)
    except EndpointError as exc:  # PostHog's own variables describe no usable address (e.g. a bad KAFKA_HOSTS)
        if flag_value in (None, "") and not env.get(comp.env):
            raise ConfigError(f"PostHog's environment: {exc}") from None
        from_posthog_env = None
    if flag_value not in (None, ""):
        raw, source = flag_value, "flag " + comp.flag
    elif env.get(comp.env):
        raw, source = env[comp.env], "env:" + comp.env
    elif (found := from_posthog_env) is not None:
        raw, source = found
    elif file_layer.get(comp.config_key):
        raw, source = file_layer[comp.config_key], "config"
    else:
        raw, source = comp.default_url, "default"
    if str(raw).strip().lower() in DISABLED:
        return None
    # A component several endpoints may play takes a comma-separated list: the first is its own endpoint,
    # the others are probed beside it (see Endpoint.alternates).
    # (A comma only separates URLs where the next URL's scheme follows it: a password may hold one.)
    urls = [u.strip() for u in _LIST_OF_URLS.split(str(raw)) if u.strip()] if comp.several else [str(raw)]
    fallback = comp.fallback_hosts if source == "default" else ()
    given = [_parse(name, comp.kind, url, source, fallback_hosts=fallback) for url in urls or [""]]
    roles = [_parse(name, comp.kind, url, where, role=role) for role, url, where in posthog_env_roles(name, env)]
    if len(given) == 1 and not roles:
        return given[0]
    return replace(given[0], alternates=tuple(given[1:] + roles))


_LIST_OF_URLS = re.compile(r",\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def _parse(name: str, kind: str, url: str, source: str, **extra: Any) -> Endpoint:
    try:
        return parse_endpoint(name, kind, url, source=source, **extra)
    except EndpointError as exc:
        origin = source.removeprefix("env:").removeprefix("flag ")
        raise ConfigError(f"{origin}: {exc}") from None


def parse_formats(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip().lower()
            if not part:
                continue
            if part == "all":
                out.extend(FORMATS)
            elif part in FORMATS:
                out.append(part)
            else:
                raise ConfigError(f"unknown format {part!r}; choose from {', '.join(FORMATS)} or all")
    return list(dict.fromkeys(out)) or list(FORMATS)


def _number(name: str, raw: Any, default: float, kind: type, low: float, high: float):
    if raw in (None, ""):
        return default
    try:
        value = kind(float(raw)) if kind is int else float(raw)
        if kind is int and float(raw) != int(float(raw)):
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a {'whole ' if kind is int else ''}number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def _as_list(raw: Any) -> list[str]:
    if not raw:
        return []
    return [str(v) for v in raw] if isinstance(raw, list) else [str(raw)]


def _terms(raw: Any) -> list[str]:
    if not raw:
        return []
    items = raw if isinstance(raw, list) else [raw]
    return [t.strip() for item in items for t in str(item).split(",") if t.strip()]


def _merge_options(from_file: Mapping[str, Any], from_flags: list[str]) -> dict[str, dict[str, Any]]:
    merged = {str(k): dict(v or {}) for k, v in from_file.items()}
    for item in from_flags:
        key, sep, value = item.partition("=")
        check_id, dot, option = key.strip().rpartition(".")
        if not sep or not dot or not check_id or not option:
            raise ConfigError(f"--set expects CHECK_ID.OPTION=VALUE, got {item!r}")
        merged.setdefault(check_id, {})[option] = value
    return merged


# --- the YAML file --------------------------------------------------------------------------------


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors/aliases: they buy nothing here and allow 'billion laughs' blow-ups."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", event.start_mark)
        return super().compose_node(parent, index)


def load_config_file(path: Path, profile: str = "") -> dict[str, Any]:
    """Read and validate a config file; return its top-level settings overlaid with `profile`."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {path} is larger than {MAX_CONFIG_BYTES // 1000} kB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ConfigError(f"config file {path} is not valid YAML{where}: {problem}") from None
    except RecursionError:
        raise ConfigError(f"config file {path} is nested too deeply") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of settings, not {type(data).__name__}")
    _validate(data, f"config file {path}", allow=FILE_ONLY_KEYS)
    profiles = data.get("profiles") or {}
    if not isinstance(profiles, dict):
        raise ConfigError(f"config file {path}: 'profiles' must map names to settings")
    layer = {k: v for k, v in data.items() if k != "profiles"}
    if profile:
        if profile not in profiles:
            known = ", ".join(sorted(map(str, profiles))) or "none"
            raise ConfigError(f"profile {profile!r} not found in {path} (profiles: {known})")
        chosen = profiles[profile] or {}
        if not isinstance(chosen, dict):
            raise ConfigError(f"config file {path}: profile {profile!r} must be a mapping of settings")
        _validate(chosen, f"config file {path}, profile {profile!r}")
        checks = {**(layer.get("checks") or {}), **(chosen.get("checks") or {})}
        layer.update(chosen)
        if checks:
            layer["checks"] = checks
    return layer


def _validate(data: dict, where: str, allow: tuple[str, ...] = ()) -> None:
    for key, value in data.items():
        if not isinstance(key, str) or (key not in KEYS and key not in allow):
            hint = difflib.get_close_matches(str(key), list(KEYS), n=1)
            raise ConfigError(
                f"{where}: unknown key {str(key)[:60]!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
            )
        if key in allow:
            continue
        _check_type(key, value, KEYS[key], where)


def _check_type(key: str, value: Any, kind: Any, where: str) -> None:
    if value is None:
        return
    ok = True
    if kind is str:
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool)
    elif kind is float or kind is int:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind is bool:
        ok = isinstance(value, bool)
    elif kind == _LIST:
        ok = isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    elif kind is dict:
        ok = isinstance(value, dict) and all(isinstance(v, dict) or v is None for v in value.values())
    if not ok:
        expected = {
            str: "text",
            float: "a number",
            int: "a whole number",
            bool: "true or false",
            dict: "a mapping",
        }.get(kind, kind)
        raise ConfigError(f"{where}: {key!r} must be {expected}, got {_short(value)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
