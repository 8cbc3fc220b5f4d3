"""Comparing two reports of the same deployment: what was fixed, what is new, what still fails, and how
the key figures moved. Used for the follow-up after a fix ("run it again and send both")."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Report, ReportFormatError, Status

PROBLEMS = (Status.FAIL, Status.WARN, Status.ERROR)


@dataclass
class Change:
    id: str
    title: str
    old: str  # status before ("absent" when the check was not in the report)
    new: str
    summary: str  # the newer summary (or the older one when the check disappeared)


@dataclass
class MetricMove:
    check: str
    metric: str
    old: float
    new: float

    @property
    def change(self) -> float:
        return self.new - self.old


@dataclass
class BreakMove:
    """Where the diagnosis put the break before and after, in words."""

    old: str  # the stage's title, "" when nothing was broken (or the report had no diagnosis)
    new: str
    headline_old: str
    headline_new: str

    @property
    def said(self) -> str:
        if self.old and not self.new:
            return f"the break at {self.old} is closed"
        if not self.old and self.new:
            return f"a new break at {self.new}"
        if self.old and self.new and self.old != self.new:
            return f"the break moved from {self.old} to {self.new}"
        if self.old:
            return f"still broken at {self.old}"
        return "no break before or after"


@dataclass
class Diff:
    old: Report
    new: Report
    pipeline: BreakMove | None = None
    fixed: list[Change] = field(default_factory=list)
    new_problems: list[Change] = field(default_factory=list)
    still_failing: list[Change] = field(default_factory=list)
    other_changes: list[Change] = field(default_factory=list)
    metrics: list[MetricMove] = field(default_factory=list)

    def to_dict(self) -> dict:
        def side(r: Report) -> dict:
            return {
                "generated_at": r.generated_at,
                "overall": r.overall.value,
                "counts": r.counts,
                "tool_version": r.tool.get("version", ""),
                "schema_version": r.schema_version,
            }

        return {
            "old": side(self.old),
            "new": side(self.new),
            "fixed": [vars(c) for c in self.fixed],
            "new_problems": [vars(c) for c in self.new_problems],
            "still_failing": [vars(c) for c in self.still_failing],
            "other_changes": [vars(c) for c in self.other_changes],
            "metrics": [{**vars(m), "change": m.change} for m in self.metrics],
            "pipeline": {**vars(self.pipeline), "said": self.pipeline.said} if self.pipeline else None,
        }


def compare(old: Report, new: Report) -> Diff:
    if old.schema_version.split(".")[0] != new.schema_version.split(".")[0]:
        raise ReportFormatError(f"cannot compare reports of schema {old.schema_version} and {new.schema_version}")
    diff = Diff(old, new, _break_move(old, new))
    before = {c.id: c for c in old.checks}
    after = {c.id: c for c in new.checks}
    for check_id in list(dict.fromkeys(list(before) + list(after))):
        was, now = before.get(check_id), after.get(check_id)
        old_status = was.status if was else None
        new_status = now.status if now else None
        latest = now or was
        assert latest is not None  # the id came from one of the two reports
        change = Change(
            check_id,
            latest.title,
            old_status.value if old_status else "absent",
            new_status.value if new_status else "absent",
            latest.summary,
        )
        if old_status in PROBLEMS and new_status not in PROBLEMS:
            diff.fixed.append(change)
        elif new_status in PROBLEMS and old_status not in PROBLEMS:
            diff.new_problems.append(change)
        elif new_status in PROBLEMS:
            diff.still_failing.append(change)
        elif old_status != new_status:
            diff.other_changes.append(change)
        if was and now:
            for name in sorted(set(was.metrics) & set(now.metrics)):
                diff.metrics.append(MetricMove(check_id, name, was.metrics[name], now.metrics[name]))
    return diff


def _break_move(old: Report, new: Report) -> BreakMove | None:
    if old.diagnosis is None and new.diagnosis is None:
        return None

    def broken(report: Report) -> str:
        dx = report.diagnosis
        stage = dx.stage(dx.break_stage) if dx and dx.break_stage else None
        return stage.title if stage else ""

    return BreakMove(
        broken(old),
        broken(new),
        old.diagnosis.headline if old.diagnosis else "",
        new.diagnosis.headline if new.diagnosis else "",
    )
