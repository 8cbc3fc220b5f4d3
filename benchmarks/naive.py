"""The way a support hero gets the same answers by hand, measured on the same servers and data.

- ClickHouse: the queries behind PostHog's own dead-letter-queue page (posthog/api/dead_letter_queue.py),
  with the page's default window (`after=-7d`) and its 10-row limits: the queue's size, the last error, the
  latest events, and the events per error, per location, per day and per tag.
- Postgres: `SELECT count(*) FROM posthog_event` (and, for the same answer as the volume check gives,
  events per month with a GROUP BY).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from .measure import PG_COUNTERS, _read_counters, flush_own_counters, query_log

_WHERE = "WHERE error_timestamp >= %(start)s AND error_timestamp <= %(end)s"
DLQ_PAGE = {  # metric key -> SQL, as the page's view sends them
    "dlq_size": f"SELECT count(*) FROM events_dead_letter_queue {_WHERE}",
    "dlq_last_error_timestamp": f"SELECT max(error_timestamp) FROM events_dead_letter_queue {_WHERE}",
    "dlq_events": (
        "SELECT id, event_uuid, event, properties, distinct_id, team_id, elements_chain, created_at, ip, "
        "site_url, now, raw_payload, error_timestamp, error_location, error, tags, _timestamp, _offset "
        f"FROM events_dead_letter_queue {_WHERE} ORDER BY error_timestamp DESC LIMIT 10 OFFSET 0"
    ),
    "dlq_events_per_error": (
        f"SELECT error, count(*) AS c FROM events_dead_letter_queue {_WHERE} GROUP BY error "
        "ORDER BY c DESC, error DESC LIMIT 10 OFFSET 0"
    ),
    "dlq_events_per_location": (
        f"SELECT error_location, count(*) AS c FROM events_dead_letter_queue {_WHERE} "
        "GROUP BY error_location ORDER BY c DESC, error_location DESC LIMIT 10 OFFSET 0"
    ),
    "dlq_events_per_day": (
        f"SELECT toDate(error_timestamp) as day, count(*) AS c FROM events_dead_letter_queue "
        f"{_WHERE} GROUP BY day ORDER BY c DESC, day DESC LIMIT 10 OFFSET 0"
    ),
    "dlq_events_per_tag": (
        f"SELECT arrayJoin(tags) as tag, count(*) as c from events_dead_letter_queue {_WHERE} "
        "GROUP BY tag ORDER BY c DESC, tag DESC LIMIT 10 OFFSET 0"
    ),
}
GROUP_BYS = (
    "dlq_size",
    "dlq_last_error_timestamp",
    "dlq_events_per_error",
    "dlq_events_per_location",
    "dlq_events_per_day",
    "dlq_events_per_tag",
)  # the page without its list of raw events


@dataclass
class NaiveDlq:
    wall_s: float
    queries: dict[str, dict] = field(default_factory=dict)  # metric -> {read_rows, bytes, ms, cpu_ms, wall_s}
    failed: int = 0

    def total(self, key: str, only=None) -> float:
        return sum(q[key] for k, q in self.queries.items() if only is None or k in only)


def naive_dlq(ch_admin, database: str, window_days: int = 7) -> NaiveDlq:
    """PostHog's DLQ page, one metric after another as its view computes them, on the same connection kind as
    the doctor (the native protocol)."""
    from datetime import timedelta

    now = ch_admin.execute("SELECT now()")[0][0]
    params = {"start": now.replace(microsecond=0) - timedelta(days=window_days), "end": now}
    tag = f"naive-dlq:{uuid.uuid4().hex[:12]}"
    walls = {}
    ch_admin.execute(f"USE {database}")
    started = time.perf_counter()
    for n, (key, sql) in enumerate(DLQ_PAGE.items()):
        begun = time.perf_counter()
        ch_admin.execute(sql, params, query_id=f"{tag}:{key}:{n}")
        walls[key] = time.perf_counter() - begun
    wall = time.perf_counter() - started
    result = NaiveDlq(wall)
    for q in query_log(ch_admin, f"{tag}:%", expect=len(DLQ_PAGE)):
        result.queries[q["name"]] = dict(q, wall_s=walls.get(q["name"], 0.0))
        result.failed += int(q["failed"])
    return result


@dataclass
class NaivePg:
    count_s: float
    count: int
    per_month_s: float
    heap_count_s: float  # count(*) with index-only scans off: reading the table itself
    counters: dict[str, int]  # posthog_event counter deltas of the count(*)


def naive_pg(url: str, admin_url: str) -> NaivePg:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        before = _read_counters(admin)
        with psycopg.connect(url, autocommit=True, application_name="naive-hero") as conn:
            started = time.perf_counter()
            count = conn.execute("SELECT count(*) FROM posthog_event").fetchone()[0]
            count_s = time.perf_counter() - started
            flush_own_counters(conn)
        admin.execute("SELECT pg_stat_clear_snapshot()")
        after = _read_counters(admin)
        with psycopg.connect(url, autocommit=True, application_name="naive-hero") as conn:
            started = time.perf_counter()
            conn.execute(
                "SELECT date_trunc('month', \"timestamp\") AS month, count(*) FROM posthog_event GROUP BY 1 ORDER BY 1"
            ).fetchall()
            per_month_s = time.perf_counter() - started
            conn.execute("SET enable_indexonlyscan = off")
            started = time.perf_counter()
            conn.execute("SELECT count(*) FROM posthog_event").fetchone()
            heap_count_s = time.perf_counter() - started
    return NaivePg(
        count_s, int(count), per_month_s, heap_count_s, {k: after.get(k, 0) - before.get(k, 0) for k in PG_COUNTERS}
    )
