"""Reading what ClickHouse holds about dead-lettered events: the DLQ table's totals, digest and examples, the
`pipeline_step_dlq` ingestion warnings, and the table's footprint in part metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

from posthog_doctor.check import Context, Query, QueryResult, units

from .._common import as_int
from .generation import Footprint
from .rows import CauseRow, Totals

DIGEST = Query.from_file(__file__, "digest.sql", "clickhouse", "dlq_digest")
TOTALS = Query.from_file(__file__, "totals.sql", "clickhouse", "dlq_totals")
EXAMPLES = Query.from_file(__file__, "examples.sql", "clickhouse", "dlq_examples")
WARNINGS = Query.from_file(__file__, "warnings_digest.sql", "clickhouse", "dlq_warnings_digest")
WARNINGS_DEDUP = Query.from_file(__file__, "warnings_digest_dedup.sql", "clickhouse", "dlq_warnings_digest_dedup")
WARNINGS_COUNT = Query.from_file(__file__, "warnings_count.sql", "clickhouse", "dlq_warnings_count")
FOOTPRINT = Query.from_file(__file__, "table_footprint.sql", "clickhouse", "dlq_table_footprint")
QUERIES = (TOTALS, DIGEST, EXAMPLES, WARNINGS, WARNINGS_COUNT, WARNINGS_DEDUP, FOOTPRINT)
MAX_DIGEST_ROWS = 1000  # causes a digest returns at most (the totals count every row regardless)
MAX_PAYLOAD_BYTES = 16_000
# The totals read two 4-byte time columns a row, the digest the messages: the totals may read this many times
# the rows the digest may normalise.
TOTALS_ROWS_PER_DIGEST_ROW = 50
MINUTE = 60
DIGEST_TIME_RESERVE = 6.0  # seconds of the check's deadline kept for what follows the digest


@dataclass
class Coverage:
    """How much of the context period the digest normalised: all of it, or (a flood) its newest minutes."""

    since: int = 0  # Unix time the digest started from; 0: the whole context period
    digested: int = 0  # rows of the context period the digest covered
    context: int = 0  # rows of the context period (the totals)
    budget: int = 0

    @property
    def complete(self) -> bool:
        return self.digested >= self.context

    def note(self, now: int) -> str:
        """What the causes cover when they cover less than every row, or ''."""
        if self.complete:
            return ""
        share = 100.0 * self.digested / self.context if self.context else 0.0
        return (
            f"budget {self.budget:,} rows: causes from the newest {units.duration(max(now - self.since, MINUTE))} "
            f"({self.digested:,} of {self.context:,} rows, {share:.1f}%), totals from every row"
        )


@dataclass
class Read:
    """One source's causes, their totals, and the results (for their partial flags)."""

    causes: list[CauseRow] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)
    results: list[QueryResult] = field(default_factory=list)  # what counted the totals, then what digested
    server_now: int = 0
    coverage: Coverage | None = None  # the DLQ table only
    per_hour: dict[int, int] | None = None  # every row of the DLQ table per hour (None: sum the causes)


def table_digest(ctx: Context, params: dict, budget: dict) -> Read:
    """The DLQ table: exact totals from its time columns, then the digest by cause of as much of the context
    period as the budget allows (every row, or the newest minutes of a flood)."""
    rows_budget = int(budget["max_rows_to_read"])
    totals = ctx.clickhouse.query(
        TOTALS,
        params,
        max_rows_to_read=rows_budget * TOTALS_ROWS_PER_DIGEST_ROW,
        max_bytes_to_read=budget["max_bytes_to_read"],
    )
    row = totals.first() or {}
    counted = Totals(*(as_int(row.get(f"{f}_events")) for f in ("window", "context", "day", "hour")))
    counted.untimed = as_int(row.get("untimed"))
    per_minute = zip(row.get("minutes") or [], row.get("minute_events") or [], strict=True)
    minutes = {as_int(m): as_int(n) for m, n in per_minute}
    coverage = plan(minutes, counted.context, rows_budget)
    # The digest scans what the totals scanned (the same time bounds), so that is its read budget; it normalises
    # at most the planned rows. When the newest minute alone holds more than the budget, or the totals could
    # not count, the budget itself bounds the scan, and the server stops it there.
    fits = not totals.partial and coverage.digested <= rows_budget
    scan = totals.rows_read + totals.rows_read // 10 + 65_536 if fits else rows_budget
    # On a busy server a flood's digest may not finish in the check's time: it then stops reading at its limit,
    # leaving time for the rest of the check, and answers from the rows it read (the coverage says how many).
    digest = ctx.clickhouse.query(
        DIGEST,
        dict(params, since=coverage.since),
        max_rows_to_read=max(scan, rows_budget),
        max_bytes_to_read=budget["max_bytes_to_read"],
        timeout=max(1.0, ctx.remaining() - DIGEST_TIME_RESERVE),
        partial_on_timeout=True,
    )
    causes = [CauseRow.from_row(r) for r in digest.dicts()]
    if digest.partial:
        coverage.digested = min(coverage.digested, sum(c.context for c in causes))
    per_hour: dict[int, int] = {}
    for minute, n in minutes.items():
        hour = minute * MINUTE // 3600 * 3600
        per_hour[hour] = per_hour.get(hour, 0) + n
    return Read(
        causes,
        counted,
        [totals, digest],
        as_int(row.get("server_now")),
        coverage,
        per_hour if not totals.partial else None,
    )


def plan(minutes: dict[int, int], context_rows: int, budget: int) -> Coverage:
    """Every row of the context period when it fits the budget; else the newest whole minutes that fit (at
    least the newest minute), counted exactly from the totals' minutes."""
    if context_rows <= budget:
        return Coverage(0, context_rows, context_rows, budget)
    taken, since = 0, 0
    for minute in sorted(minutes, reverse=True):
        if taken and taken + minutes[minute] > budget:
            break
        taken += minutes[minute]
        since = minute * MINUTE
    return Coverage(since, taken, context_rows, budget)


def warnings_digest(ctx: Context, params: dict, budget: dict, *, dedupe: bool) -> Read:
    """`pipeline_step_dlq` warnings digested by step and error. With `dedupe` (a DLQ table exists), the digest
    also asks per cause whether its events are rows of the table too; building that set reads the table's event
    ids, so a count of the warnings comes first, and without warnings there is nothing to digest. Totals count
    only the events the table does not hold."""
    if dedupe:
        counted = ctx.clickhouse.query(WARNINGS_COUNT, params, **budget)
        results = [counted]
        if not as_int(counted.scalar(0)):
            return Read(results=results)
        result = ctx.clickhouse.query(WARNINGS_DEDUP, params, **budget)
    else:
        result = ctx.clickhouse.query(WARNINGS, params, **budget)
        results = []
    results.append(result)
    rows = result.dicts()
    causes = [CauseRow.from_warning_row(r) for r in rows]
    return Read(
        causes,
        Totals.of([c for c in causes if not c.in_table]),
        results,
        max((as_int(r["server_now"]) for r in rows), default=0),
    )


def footprint(ctx: Context) -> Footprint:
    row = ctx.clickhouse.query(FOOTPRINT, {"database": ctx.clickhouse.database}).first() or {}
    return Footprint(as_int(row.get("stored_rows")), as_int(row.get("newest_part")), as_int(row.get("server_now")))


def examples(ctx: Context, causes: list[CauseRow]) -> dict[str, dict]:
    """The DLQ rows the digest picked as examples, by id (a primary-key read; see examples.sql)."""
    ids = [i for c in causes for i in c.example_ids]
    if not ids:
        return {}
    result = ctx.clickhouse.query(
        EXAMPLES, {"ids": tuple(ids), "max_payload_bytes": MAX_PAYLOAD_BYTES}, max_rows_to_read=1_000_000
    )
    return {str(r["example_id"]): r for r in result.dicts()}
