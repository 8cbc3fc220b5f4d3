"""From interleaved rounds to figures: the whole run, the DLQ check alone against PostHog's DLQ page, the Postgres
volume check against `count(*)`, per doctor (after, before), every figure a median over the rounds."""

from __future__ import annotations

from typing import Any

from .measure import DoctorRun, median
from .naive import GROUP_BYS, NaiveDlq, NaivePg
from .rounds import Rounds

DLQ_CHECK = "clickhouse.dead_letter_queue"
PG_VOLUME_CHECK = "postgres.event_volume"
# The DLQ check's statements on the DLQ table, by the query name in their ids (reading.py).
DLQ_COUNTING = ("dlq_totals",)
DLQ_DIGEST = ("dlq_digest",)
DLQ_EXAMPLES = ("dlq_examples",)
# Before this work the digest also counted the totals, and a second pass (dlq_totals) ran past 1,000 causes.
DLQ_TABLE_READS = ("dlq_totals", "dlq_digest")


def whole(rounds: Rounds, label: str) -> dict[str, Any]:
    runs: list[DoctorRun] = rounds.of(f"whole:{label}")
    every: list[DoctorRun] = rounds.all_of(f"whole:{label}")
    if not runs:
        return {}
    last = runs[-1]
    return {
        "wall_s": median(r.process.wall_s for r in runs),
        "wall_all": [round(r.process.wall_s, 3) for r in every],
        "loads": [round(r.load, 2) for r in every],
        "rss_mb": max(r.process.max_rss_mb for r in every),
        "exit_codes": sorted({r.process.code for r in every}),
        "ch_queries": median(len(r.ch_queries) for r in runs),
        "ch_failed": max(r.ch_failed() for r in every),
        "ch_rows": median(r.ch_total("read_rows") for r in runs),
        "ch_bytes": median(r.ch_total("bytes") for r in runs),
        "ch_read_bytes": median(r.ch_total("read_bytes") for r in runs),
        "ch_server_ms": median(r.ch_total("ms") for r in runs),
        "ch_cpu_ms": median(r.ch_total("cpu_ms") for r in runs),
        "ch_peak_query_memory": max(max((q["memory"] for q in r.ch_queries), default=0) for r in every),
        "checks": {
            c: {
                "ms": median(r.checks[c]["duration_ms"] for r in runs if c in r.checks),
                "status": last.checks[c]["status"],
                "summary": last.checks[c]["summary"],
                "rows": median(r.ch_total("read_rows", c) for r in runs),
                "bytes": median(r.ch_total("bytes", c) for r in runs),
                "io": last.checks[c]["io"],
            }
            for c in sorted(last.checks)
        },
        "io_rows": median(sum(c["io"].get("rows_read", 0) for c in r.checks.values()) for r in runs),
        "io_bytes": median(sum(c["io"].get("bytes_read", 0) for c in r.checks.values()) for r in runs),
        "pg": {k: median(r.pg.get(k, 0) for r in runs) for k in last.pg},
        "failed_queries": sorted(
            {q["name"] + ": " + q["exception"][:120] for r in every for q in r.ch_queries if q["failed"]}
        ),
    }


def by_name(runs: list[DoctorRun], check: str) -> dict[str, dict[str, float]]:
    """Median per run of each statement the check sent, by the query name in its id."""
    names = sorted({q["name"] for r in runs for q in r.ch_queries if q["check"] == check})
    return {
        n: {
            k: median(r.ch_total(k, check, (n,)) for r in runs)
            for k in ("read_rows", "read_bytes", "bytes", "ms", "cpu_ms")
        }
        for n in names
    }


def dlq_alone(rounds: Rounds, label: str) -> dict[str, Any]:
    runs: list[DoctorRun] = rounds.of(f"dlq:{label}")
    if not runs:
        return {}
    queries = by_name(runs, DLQ_CHECK)

    def total(names, key):
        return sum(queries.get(n, {}).get(key, 0) or 0 for n in names)

    return {
        "check_ms": median(r.checks[DLQ_CHECK]["duration_ms"] for r in runs),
        "wall_s": median(r.process.wall_s for r in runs),
        "rss_mb": max(r.process.max_rss_mb for r in rounds.all_of(f"dlq:{label}")),
        "queries": queries,
        "table_ms": total(DLQ_TABLE_READS, "ms"),
        "table_cpu_ms": total(DLQ_TABLE_READS, "cpu_ms"),
        "table_rows": total(DLQ_TABLE_READS, "read_rows"),
        "table_bytes": total(DLQ_TABLE_READS, "bytes"),
        "digest_bytes": total(DLQ_DIGEST, "bytes"),
        "examples_bytes": total(DLQ_EXAMPLES, "bytes"),
        "examples_read_bytes": total(DLQ_EXAMPLES, "read_bytes"),
        "examples_rows": total(DLQ_EXAMPLES, "read_rows"),
        "all_ms": median(r.ch_total("ms") for r in runs),
        "all_cpu_ms": median(r.ch_total("cpu_ms") for r in runs),
        "io": runs[-1].checks[DLQ_CHECK]["io"],
        "summary": runs[-1].checks[DLQ_CHECK]["summary"],
        "status": runs[-1].checks[DLQ_CHECK]["status"],
        "partial": runs[-1].checks[DLQ_CHECK]["partial"],
        "failed": max(r.ch_failed() for r in rounds.all_of(f"dlq:{label}")),
    }


def pg_alone(rounds: Rounds, label: str) -> dict[str, Any]:
    runs: list[DoctorRun] = rounds.of(f"pg:{label}")
    if not runs:
        return {}
    return {
        "check_ms": median(r.checks[PG_VOLUME_CHECK]["duration_ms"] for r in runs),
        "counters": {k: median(r.pg.get(k, 0) for r in runs) for k in runs[-1].pg},
        "summary": runs[-1].checks[PG_VOLUME_CHECK]["summary"],
    }


def page(rounds: Rounds) -> dict[str, Any]:
    runs: list[NaiveDlq] = rounds.of("page")
    if not runs:
        return {}
    return {
        "wall_s": median(n.wall_s for n in runs),
        "server_ms": median(n.total("ms") for n in runs),
        "cpu_ms": median(n.total("cpu_ms") for n in runs),
        "rows": median(n.total("read_rows") for n in runs),
        "bytes": median(n.total("bytes") for n in runs),
        "read_bytes": median(n.total("read_bytes") for n in runs),
        "groupby_wall_s": median(n.total("wall_s", GROUP_BYS) for n in runs),
        "groupby_ms": median(n.total("ms", GROUP_BYS) for n in runs),
        "failed": max(n.failed for n in rounds.all_of("page")),
        "per_query": {
            k: {
                f: median(n.queries[k][f] for n in runs if k in n.queries)
                for f in ("read_rows", "bytes", "ms", "wall_s")
            }
            for k in runs[0].queries
        },
    }


def pg_count(rounds: Rounds) -> dict[str, Any]:
    runs: list[NaivePg] = rounds.of("pgcount")
    if not runs:
        return {}
    return {
        "count_s": median(n.count_s for n in runs),
        "per_month_s": median(n.per_month_s for n in runs),
        "heap_count_s": median(n.heap_count_s for n in runs),
        "count": runs[0].count,
        "counters": {k: median(n.counters[k] for n in runs) for k in runs[0].counters},
    }


def simple(rounds: Rounds, kind: str) -> float | None:
    return median(p.wall_s for p in rounds.of(kind))
