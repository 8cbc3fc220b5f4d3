"""Everything a check author needs, in one import.

A check is a short declarative class: it names the components it needs, declares the statements it may
send (so `posthog-doctor explain` prints them without connecting) and its options, and returns one
`Outcome`, usually by collecting `Finding`s and `conclude`-ing them. The engine does the connections, the
limits, the deadlines, the redaction and the rendering.

    from posthog_doctor.check import Advice, Check, Context, Finding, Option, Outcome, conclude

    class PingAge(Check):
        \"\"\"Whether the example key is there.\"\"\"

        id = "redis.example"
        title = "Example"
        needs = ("redis",)
        category = "Deployments/Maintenance"

        def run(self, ctx: Context) -> Outcome:
            found = [] if ctx.redis.get("some-key") else [Finding.warn("the key is missing", Advice("Write it."))]
            return conclude(found, "the key is there")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from . import units
from .connectors.base import Candidate, ConnectorError, ErrorKind, MissingObject, ProbeResult, WouldScan
from .connectors.clickhouse import ClickHouse
from .connectors.host import HostFacts
from .connectors.http import Http, HttpResponse
from .connectors.kafka import Kafka, KafkaMessage, KafkaOffset
from .connectors.postgres import Postgres, explained
from .connectors.redis import Redis
from .connectors.results import Query, QueryResult
from .connectors.zookeeper import FourLetterAnswer, ZooKeeper
from .context import Context
from .model import Advice, Evidence, Item, Point, Series, Status, Table, Text, Values, worst
from .outcome import Finding, Outcome, Skip, Undetermined, conclude, fail, ok, outcome, undetermined, warn
from .yaml_data import load_yaml

__all__ = [
    # declaring a check
    "Check",
    "Option",
    "Query",
    "explained",
    "Context",
    # concluding it
    "Outcome",
    "Finding",
    "conclude",
    "ok",
    "warn",
    "fail",
    "undetermined",
    "outcome",
    "Skip",
    "Undetermined",
    "Status",
    "worst",
    # what it reports
    "Advice",
    "Evidence",
    "Table",
    "Series",
    "Point",
    "Values",
    "Item",
    "Text",
    "units",
    # its knowledge, kept as YAML data beside it
    "load_yaml",
    # the connectors (for annotations) and what they return or raise
    "ClickHouse",
    "Postgres",
    "Redis",
    "Http",
    "HttpResponse",
    "ZooKeeper",
    "FourLetterAnswer",
    "Kafka",
    "KafkaMessage",
    "KafkaOffset",
    "HostFacts",
    "QueryResult",
    "ProbeResult",
    "Candidate",
    "ConnectorError",
    "ErrorKind",
    "MissingObject",
    "WouldScan",
]


@dataclass(frozen=True)
class Option:
    """A tunable of a check (a threshold, a window). Its type is the type of its default.

    Set from the config file (`checks: {<check id>: {<name>: value}}`) or `--set ID.NAME=VALUE`.
    """

    default: Any
    help: str = ""

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
            return _number(raw, kind)
        if kind is str:
            if isinstance(raw, (dict, list)):
                raise ValueError(f"expected text, got {type(raw).__name__}")
            return str(raw)
        if kind is list:
            if isinstance(raw, str):
                return [part.strip() for part in raw.split(",") if part.strip()]
            raise ValueError(f"expected a list, got {raw!r}")
        raise ValueError(f"unsupported option type {kind.__name__}")


def _number(raw: Any, kind: type) -> int | float:
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
