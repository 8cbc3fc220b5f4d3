"""The report model: one typed, versioned structure that every output is rendered from.

JSON is this model serialised as is; Markdown and HTML are views of it. `SCHEMA_VERSION` follows semver:
bump the minor version when adding optional fields, the major version when a reader of an older
report would misread a newer one. The JSON Schema is published in `schema/report.schema.json`.

Changelog
- 1.0.0: first version.
- 1.1.0: `checks[].findings`: the findings a check's verdict was made of (status, text, a stable key, and
  the indexes of the check's advice that answer each).
- 1.2.0: `diagnosis`: the walk along the event's path (each stage's state, the first broken one), the
  ranked root causes with their evidence chains and the checks each explains, reconciled false alarms.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from typing import Any

SCHEMA_VERSION = "1.2.0"


class Status(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"  # could not determine: never shown as healthy
    SKIPPED = "skipped"  # did not run, with the reason in the summary

    @property
    def rank(self) -> int:
        """How much a status should worry a reader; drives ordering and the overall verdict."""
        return _RANK[self]


_RANK = {Status.SKIPPED: 0, Status.OK: 1, Status.WARN: 2, Status.ERROR: 3, Status.FAIL: 4}

# A check tagged so points at data being lost right now: its failure makes the ticket urgent.
URGENT_TAG = "data-loss"

# Exit codes (DESIGN.md): 0 ok, 1 warnings, 2 failure, 3 could not run (none failed), 4 usage error.
EXIT_OK, EXIT_WARN, EXIT_FAIL, EXIT_INCOMPLETE, EXIT_USAGE = 0, 1, 2, 3, 4


def worst(statuses) -> Status:
    """The most severe status among `statuses` (OK when there are none)."""
    ranked = [Status(s) for s in statuses]
    return max(ranked, key=lambda s: s.rank) if ranked else Status.OK


# --- evidence -----------------------------------------------------------------------------------
# Evidence is small, typed and bounded: a table, a series for a chart, key/values, or a text excerpt.


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    truncated: bool = False  # rows were cut to the report's bound; total_rows says how many existed
    total_rows: int | None = None
    personal: bool = False  # holds data from the customer's tables: IPs and personal values are pseudonymised
    type: str = field(default="table", init=False)


@dataclass
class Point:
    label: str
    value: float


@dataclass
class Series:
    title: str
    points: list[Point]
    unit: str = ""
    note: str = ""
    type: str = field(default="series", init=False)


@dataclass
class Item:
    label: str
    value: Any
    key: str = ""  # a stable machine name, when the label is for humans


@dataclass
class Values:
    title: str
    items: list[Item]
    note: str = ""
    personal: bool = False
    type: str = field(default="values", init=False)


@dataclass
class Text:
    title: str
    text: str
    note: str = ""
    truncated: bool = False
    personal: bool = False
    type: str = field(default="text", init=False)


Evidence = Table | Series | Values | Text


@dataclass
class Advice:
    """What to do about a result: one instruction, optional commands to run and links to read."""

    text: str
    commands: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


@dataclass
class FindingRecord:
    """One finding of a check as the report keeps it. `advice` holds indexes into the check's advice."""

    status: Status
    text: str
    key: str = ""
    advice: list[int] = field(default_factory=list)


# --- results ------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    id: str
    title: str
    status: Status
    summary: str
    category: str = ""
    tags: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    duration_ms: int = 0
    timed_out: bool = False
    partial: bool = False  # some data was cut by a read budget; the summary or evidence says which
    io: dict[str, int] = field(default_factory=dict)  # what the check cost its targets: queries, rows/bytes read
    metrics: dict[str, float] = field(default_factory=dict)  # key figures (DLQ share, lag, disk runway) for diff
    findings: list[FindingRecord] = field(default_factory=list)  # what the verdict was made of, when the check said


# --- diagnosis ------------------------------------------------------------------------------------
# Written after the checks, from their results alone (no I/O): where along the event's path ingestion
# breaks, and which finding explains which.

STAGE_STATES = ("ok", "degraded", "broken", "unknown", "unchecked")


@dataclass
class StageView:
    """One stage of the event's path (or a dead-letter branch, or a side service) as the checks saw it."""

    id: str
    title: str
    kind: str  # "path": on the event's way; "dead_letter": where failed events go; "service": a side service
    state: str  # one of STAGE_STATES
    checks: list[str] = field(default_factory=list)  # the checks that spoke for it
    said: str = ""  # the strongest signal, one line
    settle: str = ""  # when unknown: what access would settle it


@dataclass
class CauseView:
    """A likely root cause (or a lag, a reconciled false alarm, an unreconciled conflict) with its evidence."""

    id: str
    kind: str  # "cause", "lag", "false_alarm" or "conflict"
    title: str
    stage: str = ""
    chain: list[str] = field(default_factory=list)  # the evidence, from the root to its consequences
    explains: list[str] = field(default_factory=list)  # checks whose red results this accounts for
    confirm: str = ""  # what would confirm it
    next_step: str = ""
    commands: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    reason: str = ""  # why the link holds (from the rules file)
    source: str = ""  # where that knowledge comes from


@dataclass
class Diagnosis:
    headline: str  # one line: where ingestion breaks, that it lags, that it flows, or what could not be seen
    break_stage: str = ""  # the first broken stage on the path ("" when none is broken)
    stages: list[StageView] = field(default_factory=list)
    causes: list[CauseView] = field(default_factory=list)  # ranked root causes, at most three
    notes: list[CauseView] = field(default_factory=list)  # reconciled false alarms, unreconciled conflicts
    unexplained: list[str] = field(default_factory=list)  # red checks no cause accounts for
    lag_minutes: float | None = None  # how late events arrive, when they still arrive

    @property
    def saw_anything(self) -> bool:
        """Whether any check spoke for a stage (checks of other tools, or none, leave the walk empty)."""
        return bool(self.causes or self.notes or any(s.state != "unchecked" for s in self.stages))

    @property
    def losing_events(self) -> bool:
        """Whether the break lies on the event's path: events are not ingested, or are dead-lettered."""
        kinds = {s.id: s.kind for s in self.stages}
        return bool(self.break_stage) and kinds.get(self.break_stage) in ("path", "dead_letter")

    def stage(self, stage_id: str) -> StageView | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "headline": self.headline,
            "break_stage": self.break_stage,
            "lag_minutes": self.lag_minutes,
            "stages": [vars(s).copy() for s in self.stages],
            "causes": [vars(c).copy() for c in self.causes],
            "notes": [vars(c).copy() for c in self.notes],
            "unexplained": list(self.unexplained),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnosis:
        def cause(d: dict[str, Any]) -> CauseView:
            return CauseView(**{f.name: d[f.name] for f in fields(CauseView) if f.name in d})

        lag = data.get("lag_minutes")
        return cls(
            headline=str(data["headline"]),
            break_stage=str(data.get("break_stage", "")),
            stages=[
                StageView(**{f.name: s[f.name] for f in fields(StageView) if f.name in s})
                for s in data.get("stages", [])
            ],
            causes=[cause(c) for c in data.get("causes", [])],
            notes=[cause(c) for c in data.get("notes", [])],
            unexplained=[str(c) for c in data.get("unexplained", [])],
            lag_minutes=float(lag) if isinstance(lag, (int, float)) else None,
        )


@dataclass
class Report:
    tool: dict[str, str]
    generated_at: str
    target: dict[str, Any]
    checks: list[CheckResult]
    run: dict[str, Any] = field(default_factory=dict)
    redaction: dict[str, Any] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION
    diagnosis: Diagnosis | None = None

    @property
    def overall(self) -> Status:
        return worst(c.status for c in self.checks)

    @property
    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for c in self.checks:
            counts[c.status.value] += 1
        return counts

    @property
    def suggested_categories(self) -> list[str]:
        """Ticket categories: the top cause's checks first, then those of the checks that found something,
        most severe first."""
        by_id = {c.id: c for c in self.checks}
        first = [
            by_id[i].category
            for c in (self.diagnosis.causes[:1] if self.diagnosis else [])
            for i in c.explains
            if i in by_id and by_id[i].category
        ]
        found = [c for c in self.checks if c.status in (Status.FAIL, Status.WARN) and c.category]
        found.sort(key=lambda c: -c.status.rank)
        return list(dict.fromkeys(first + [c.category for c in found]))

    @property
    def priority_hint(self) -> dict[str, str]:
        """How soon a support engineer should look: a hint from the diagnosis and the results, not a verdict."""
        failing = [c for c in self.checks if c.status is Status.FAIL]
        if self.diagnosis is not None and self.diagnosis.losing_events:
            stage = self.diagnosis.stage(self.diagnosis.break_stage)
            return {
                "level": "urgent",
                "reason": f"events are not ingested: the pipeline breaks at "
                f"{stage.title if stage else self.diagnosis.break_stage}",
            }
        losing = [c.id for c in failing if URGENT_TAG in c.tags]
        if losing:
            return {"level": "urgent", "reason": f"events are being lost or not ingested ({', '.join(losing)})"}
        if failing:
            return {"level": "high", "reason": f"{len(failing)} check(s) failed"}
        if any(c.status in (Status.ERROR, Status.WARN) for c in self.checks):
            return {"level": "normal", "reason": "warnings, or checks that could not run"}
        return {"level": "low", "reason": "every check that ran passed"}

    def exit_code(self) -> int:
        statuses = {c.status for c in self.checks}
        if Status.FAIL in statuses:
            return EXIT_FAIL
        if Status.ERROR in statuses:
            return EXIT_INCOMPLETE
        if Status.WARN in statuses:
            return EXIT_WARN
        return EXIT_OK

    def ordered_checks(self) -> list[CheckResult]:
        """Most severe first, then by id: the order a reader should look at them."""
        return sorted(self.checks, key=lambda c: (-c.status.rank, c.id))

    # -- serialisation --

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "tool": dict(self.tool),
            "generated_at": self.generated_at,
            "target": self.target,
            "overall": self.overall.value,
            "counts": self.counts,
            "suggested_categories": self.suggested_categories,
            "priority_hint": self.priority_hint,
            "run": self.run,
            "redaction": self.redaction,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis is not None else None,
            "checks": [_result_to_dict(c) for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Rebuild a report from its JSON form; raises ReportFormatError on a wrong shape or version."""
        if not isinstance(data, dict):
            raise ReportFormatError("not a posthog-doctor report (expected a JSON object)")
        version = data.get("schema_version")
        if not isinstance(version, str) or not version.split(".")[0].isdigit():
            raise ReportFormatError("not a posthog-doctor report (no schema_version)")
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise ReportFormatError(
                f"report schema {version} is not readable by this posthog-doctor "
                f"(reads {SCHEMA_VERSION.split('.')[0]}.x); use a matching version of the tool"
            )
        try:
            return cls(
                schema_version=version,
                tool=dict(data["tool"]),
                generated_at=str(data["generated_at"]),
                target=dict(data.get("target") or {}),
                run=dict(data.get("run") or {}),
                redaction=dict(data.get("redaction") or {}),
                checks=[_result_from_dict(c) for c in data["checks"]],
                diagnosis=Diagnosis.from_dict(data["diagnosis"]) if data.get("diagnosis") else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ReportFormatError(f"malformed report: {_describe(exc)}") from None


class ReportFormatError(ValueError):
    """A saved report cannot be read."""


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


_EVIDENCE_TYPES = {"table": Table, "series": Series, "values": Values, "text": Text}


def evidence_to_dict(ev: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ev.type}
    for f in fields(ev):
        if f.name == "type":
            continue
        value = getattr(ev, f.name)
        if f.name == "points":
            value = [{"label": p.label, "value": p.value} for p in value]
        elif f.name == "items":
            value = [{"key": i.key, "label": i.label, "value": i.value} for i in value]
        out[f.name] = value
    return out


def evidence_from_dict(data: dict[str, Any]) -> Evidence:
    kind = _EVIDENCE_TYPES.get(str(data.get("type")))
    if kind is None:
        raise ValueError(f"unknown evidence type {data.get('type')!r}")
    kwargs = {k: v for k, v in data.items() if k != "type"}
    if kind is Series:
        kwargs["points"] = [Point(str(p["label"]), p["value"]) for p in kwargs.get("points", [])]
    if kind is Values:
        kwargs["items"] = [
            Item(str(i["label"]), i.get("value"), str(i.get("key", ""))) for i in kwargs.get("items", [])
        ]
    return kind(**kwargs)


def _result_to_dict(c: CheckResult) -> dict[str, Any]:
    return {
        "id": c.id,
        "title": c.title,
        "status": c.status.value,
        "summary": c.summary,
        "category": c.category,
        "tags": list(c.tags),
        "components": list(c.components),
        "evidence": [evidence_to_dict(e) for e in c.evidence],
        "advice": [{"text": a.text, "commands": list(a.commands), "links": list(a.links)} for a in c.advice],
        "duration_ms": c.duration_ms,
        "timed_out": c.timed_out,
        "partial": c.partial,
        "io": dict(c.io),
        "metrics": dict(c.metrics),
        "findings": [
            {"status": f.status.value, "text": f.text, "key": f.key, "advice": list(f.advice)} for f in c.findings
        ],
    }


def _result_from_dict(d: dict[str, Any]) -> CheckResult:
    return CheckResult(
        id=str(d["id"]),
        title=str(d["title"]),
        status=Status(d["status"]),
        summary=str(d["summary"]),
        category=str(d.get("category", "")),
        tags=[str(t) for t in d.get("tags", [])],
        components=[str(t) for t in d.get("components", [])],
        evidence=[evidence_from_dict(e) for e in d.get("evidence", [])],
        advice=[
            Advice(str(a["text"]), list(a.get("commands", [])), list(a.get("links", []))) for a in d.get("advice", [])
        ],
        duration_ms=int(d.get("duration_ms", 0)),
        timed_out=bool(d.get("timed_out", False)),
        partial=bool(d.get("partial", False)),
        io={str(k): int(v) for k, v in (d.get("io") or {}).items()},
        metrics={str(k): float(v) for k, v in (d.get("metrics") or {}).items() if isinstance(v, (int, float))},
        findings=[
            FindingRecord(
                Status(f["status"]), str(f["text"]), str(f.get("key", "")), [int(i) for i in f.get("advice", [])]
            )
            for f in d.get("findings") or []
        ],
    )
