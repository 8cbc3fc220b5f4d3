"""What Postgres can tell about `posthog_event` and its sibling tables without reading them.

Sizes and row counts come from the catalog, time-range counts from the planner, and the first and last
timestamps from the ends of the timestamp index (only once the plan shows no scan). Every reader
returns plain values; judging them is the caller's job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from posthog_doctor.check import Context, Query, explained

EVENT_TABLE = "posthog_event"
# The other tables that grow with event volume on a Postgres-era PostHog (posthog/models/*.py, old).
RELATED_TABLES = (
    "posthog_person",
    "posthog_persondistinctid",
    "posthog_sessionrecordingevent",
    "posthog_element",
    "posthog_elementgroup",
)

TABLES_QUERY = Query.from_file(__file__, "event_tables.sql", "postgres")
HISTOGRAM_QUERY = Query.from_file(__file__, "event_histogram.sql", "postgres")
BOUNDS_QUERY = Query.from_file(__file__, "event_time_bounds.sql", "postgres")
RANGE_QUERY = Query.from_file(__file__, "range_estimate.sql", "postgres")
# Every statement the readers below may send, for a check's `queries`.
QUERIES = (TABLES_QUERY, HISTOGRAM_QUERY, explained(BOUNDS_QUERY), BOUNDS_QUERY, explained(RANGE_QUERY))


@dataclass(frozen=True)
class TableStats:
    """One table (summed over its partitions) as the catalog and the statistics collector see it."""

    name: str
    reltuples: float | None  # rows at the last VACUUM/ANALYZE; None when never counted (-1 on PG 14+)
    live_rows: int | None  # the statistics collector's running count (reset by a crash or stats reset)
    dead_rows: int
    changed_since_analyze: int
    last_analyzed: dt.datetime | None
    table_bytes: int
    index_bytes: int
    total_bytes: int
    partitions: int  # 0 for a plain table
    now: dt.datetime

    @property
    def rows(self) -> int:
        """Best estimate of the rows now: the running count, else the last ANALYZE's count."""
        if self.live_rows:
            return self.live_rows
        return int(self.reltuples or 0)


def read_table_stats(ctx: Context, tables: tuple[str, ...]) -> dict[str, TableStats]:
    """Catalog statistics of the named tables that exist (absent ones are simply missing)."""
    found = {}
    for row in ctx.postgres.query(TABLES_QUERY, {"tables": list(tables)}).dicts():
        found[row["table_name"]] = TableStats(
            name=row["table_name"],
            reltuples=None if row["reltuples_unknown"] or row["reltuples"] is None else float(row["reltuples"]),
            live_rows=_int(row["live_rows"]),
            dead_rows=_int(row["dead_rows"]) or 0,
            changed_since_analyze=_int(row["changed_since_analyze"]) or 0,
            last_analyzed=row["last_analyzed"],
            table_bytes=_int(row["table_bytes"]) or 0,
            index_bytes=_int(row["index_bytes"]) or 0,
            total_bytes=_int(row["total_bytes"]) or 0,
            partitions=(_int(row["heaps"]) or 0) if row["partitioned"] else 0,
            now=row["now"],
        )
    return found


@dataclass(frozen=True)
class Histogram:
    """Whether ANALYZE left a timestamp histogram, and the latest timestamp it recorded."""

    exists: bool
    last_timestamp: dt.datetime | None


def read_histogram(ctx: Context) -> Histogram:
    row = ctx.postgres.query(HISTOGRAM_QUERY).first() or {}
    return Histogram(bool(row.get("histograms")), row.get("histogram_last_timestamp"))


@dataclass(frozen=True)
class TimeBounds:
    first_event: dt.datetime | None  # None when the table is empty
    last_event: dt.datetime | None
    now: dt.datetime  # the server's clock, which the timestamps are compared with


def read_time_bounds(ctx: Context) -> TimeBounds:
    """The first and last event timestamp, from the index ends; raises WouldScan when no index serves them."""
    row = ctx.postgres.query(BOUNDS_QUERY, no_scan=True).first() or {}
    return TimeBounds(row.get("first_event"), row.get("last_event"), row["now"])


def estimate_range(ctx: Context, start: dt.datetime, end: dt.datetime) -> float:
    """The planner's estimate of the events with start <= timestamp < end (1 means "about none")."""
    return ctx.postgres.estimate_rows(RANGE_QUERY, {"start": start, "end": end})


def _int(value) -> int | None:
    return None if value is None else int(value)
