"""What a check author writes against: the `Check` base class, declared queries and options, outcomes.

A check is a short declarative class. It names the components it needs, declares the statements it
may send (so `explain` can print them without connecting), and returns one `Outcome`. The engine does
the I/O, the limits, the deadlines and the rendering.

    class PingAge(Check):
        id = "redis.example"
        title = "Example"
        needs = ("redis",)
        category = "Deployments/Maintenance"

        def run(self, ctx):
            value = ctx.redis.get("some-key")
            return ok("the key is there") if value else warn("the key is missing")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from .model import Advice, Evidence, Status

if TYPE_CHECKING:  # pragma: no cover
    from .context import Context


class Skip(Exception):
    """Raise to report `skipped`: the check does not apply here. The message is the reason."""


class Undetermined(Exception):
    """Raise to report `error`: the check could not find out. The message says why, in plain words."""


@dataclass(frozen=True)
class Query:
    """A statement a check may send. `explain` prints it; connectors accept it in place of text."""

    component: str
    name: str
    text: str

    @classmethod
    def from_file(cls, anchor: str, filename: str, component: str, name: str | None = None) -> Query:
        """Load SQL kept beside the check: `Query.from_file(__file__, "digest.sql", "clickhouse")`."""
        path = Path(anchor).with_name(filename)
        return cls(component, name or path.stem, path.read_text(encoding="utf-8").strip())


@dataclass(frozen=True)
class Option:
    """A tunable of a check (a threshold, a window). Its type is the type of its default.

    Set from the config file (`checks: {<check id>: {<name>: value}}`) or `--option ID.NAME=VALUE`.
    A bundled check may also give it a command-line flag of its own (`flag="--dlq-window"`).
    """

    default: Any
    help: str = ""
    flag: str = ""

    def parse(self, raw: Any) -> Any:
        """Coerce `raw` (from YAML or a command-line string) to the default's type, or raise ValueError."""
        kind = type(self.default)
        if isinstance(raw, kind) and not (kind is int and isinstance(raw, bool)):
            return raw
        if kind is bool:
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"expected true or false, got {raw!r}")
        if kind in (int, float):
            if isinstance(raw, bool):
                raise ValueError(f"expected a number, got {raw!r}")
            try:
                number = float(str(raw).strip())
            except ValueError:
                raise ValueError(f"expected a number, got {raw!r}") from None
            if kind is int:
                if not number.is_integer():
                    raise ValueError(f"expected a whole number, got {raw!r}")
                return int(number)
            return number
        if kind is str:
            if isinstance(raw, (dict, list)):
                raise ValueError(f"expected text, got {type(raw).__name__}")
            return str(raw)
        if kind is list:
            if isinstance(raw, str):
                return [part.strip() for part in raw.split(",") if part.strip()]
            raise ValueError(f"expected a list, got {raw!r}")
        raise ValueError(f"unsupported option type {kind.__name__}")


@dataclass
class Outcome:
    """What a check returns: a status, a one-line summary, evidence and advice."""

    status: Status
    summary: str
    evidence: list[Evidence] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    partial: bool = False
    metrics: dict[str, float] = field(default_factory=dict)  # key figures `diff` compares between runs


def _outcome(status: Status):
    def build(summary: str, *, evidence: Sequence[Evidence] = (), advice: Sequence[Advice] = (), partial: bool = False,
              metrics: Mapping[str, float | None] | None = None) -> Outcome:
        return Outcome(status, summary, list(evidence), list(advice), partial,
                       {k: v for k, v in (metrics or {}).items() if v is not None})

    build.__name__ = status.value
    build.__doc__ = f"An outcome with status `{status.value}`."
    return build


ok = _outcome(Status.OK)
warn = _outcome(Status.WARN)
fail = _outcome(Status.FAIL)
undetermined = _outcome(Status.ERROR)
_BUILDERS = {Status.OK: ok, Status.WARN: warn, Status.FAIL: fail, Status.ERROR: undetermined}


def verdict(status: Status | str, summary: str, **details) -> Outcome:
    """An outcome whose status was worked out (e.g. the worst of several findings): ok, warn, fail or error."""
    return _BUILDERS[Status(status)](summary, **details)


class Check:
    """Base class of every check. Subclasses set the class attributes and implement `run`."""

    id: ClassVar[str] = ""  # stable dotted id, e.g. "clickhouse.dead_letter_queue"
    title: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()  # components that must be reachable, else `skipped`
    uses: ClassVar[tuple[str, ...]] = ()  # components used when available (ctx raises Skip otherwise)
    tags: ClassVar[tuple[str, ...]] = ()
    category: ClassVar[str] = ""  # the support conversation category a finding points to
    timeout: ClassVar[float] = 20.0  # seconds; the run's global deadline can cut it shorter
    options: ClassVar[Mapping[str, Option]] = {}
    queries: ClassVar[Sequence[Query]] = ()

    def run(self, ctx: Context) -> Outcome:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def components(cls) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cls.needs + cls.uses))

    @classmethod
    def describe(cls) -> str:
        """The first paragraph of the class docstring: what the check looks at."""
        doc = (cls.__doc__ or "").strip()
        return " ".join(doc.split("\n\n")[0].split())
