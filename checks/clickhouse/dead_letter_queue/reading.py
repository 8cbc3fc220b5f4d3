"""Reading what ClickHouse holds about dead-lettered events: the DLQ table's digest, its totals and examples,
the `pipeline_step_dlq` ingestion warnings, and the table's footprint in part metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

from posthog_doctor.check import Context, Query, QueryResult

from .._common import as_int
from .generation import Footprint
from .rows import CauseRow, Totals

DIGEST = Query.from_file(__file__, "digest.sql", "clickhouse", "dlq_digest")
TOTALS = Query.from_file(__file__, "totals.sql", "clickhouse", "dlq_totals")
EXAMPLES = Query.from_file(__file__, "examples.sql", "clickhouse", "dlq_examples")
WARNINGS = Query.from_file(__file__, "warnings_digest.sql", "clickhouse", "dlq_warnings_digest")
WARNINGS_DEDUP = Query.from_file(__file__, "warnings_digest_dedup.sql", "clickhouse", "dlq_warnings_digest_dedup")
FOOTPRINT = Query.from_file(__file__, "table_footprint.sql", "clickhouse", "dlq_table_footprint")
QUERIES = (DIGEST, TOTALS, EXAMPLES, WARNINGS, WARNINGS_DEDUP, FOOTPRINT)
MAX_DIGEST_ROWS = 1000  # causes a digest returns at most (more are counted by a second pass)
MAX_PAYLOAD_BYTES = 16_000


@dataclass
class Read:
    """One source's causes, their totals, and the results (for their partial flags)."""

    causes: list[CauseRow] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)
    results: list[QueryResult] = field(default_factory=list)
    server_now: int = 0


def table_digest(ctx: Context, params: dict, budget: dict) -> Read:
    """The DLQ table digested by cause; totals from the causes, or a second pass when there were too many."""
    digest = ctx.clickhouse.query(DIGEST, params, **budget)
    rows = digest.dicts()
    causes = [CauseRow.from_row(r) for r in rows]
    read = Read(causes, Totals.of(causes), [digest], max((as_int(r["server_now"]) for r in rows), default=0))
    if len(causes) >= params["max_rows"]:
        result = ctx.clickhouse.query(TOTALS, params, **budget)
        row = result.first() or {}
        read.totals = Totals(*(as_int(row.get(f"{f}_events")) for f in ("window", "context", "day", "hour")))
        read.totals.untimed = as_int(row.get("untimed"))
        read.results.append(result)
    return read


def warnings_digest(ctx: Context, params: dict, budget: dict, *, dedupe: bool) -> Read:
    """`pipeline_step_dlq` warnings digested by step and error. With `dedupe` (a DLQ table exists) and warnings
    found, a second pass asks per cause whether its events are rows of the table too (building that set reads
    the table's event ids, so it is skipped when there is nothing to match). Totals count only the events the
    table does not hold."""
    result = ctx.clickhouse.query(WARNINGS, params, **budget)
    results = [result]
    if dedupe and result.rows:
        result = ctx.clickhouse.query(WARNINGS_DEDUP, params, **budget)
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
    """The DLQ rows the digest picked as examples, by id (a primary-key read)."""
    ids = [i for c in causes for i in c.example_ids]
    if not ids:
        return {}
    result = ctx.clickhouse.query(
        EXAMPLES, {"ids": tuple(ids), "max_payload_bytes": MAX_PAYLOAD_BYTES}, max_rows_to_read=1_000_000
    )
    return {str(r["example_id"]): r for r in result.dicts()}
