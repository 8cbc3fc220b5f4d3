"""The benchmark's ClickHouse data on the current ClickHouse engine, in-process (chdb), with PostHog's current DDL.

tests/clickhouse_generations.py holds PostHog's 2025 schema with its sources (posthog/clickhouse/test/__snapshots__/
test_schema.ambr @ bb3f43d): `sharded_events` with DateTime64 times, ZSTD codecs, materialized columns and the
`kafka_timestamp_minmax_sharded_events` skip index on `_timestamp`; a View `events` standing in for the Distributed
table; `events_dead_letter_queue` with DateTime64 times, the `_timestamp` minmax skip index (GRANULARITY 3) and the
4-week TTL; `sharded_ingestion_warnings` with `source LowCardinality(String)` behind a View `ingestion_warnings`.
The rows are the same generators' as on 18.16 (benchmarks/data.py), written into those tables.

chdb keeps one engine per process and locks its data folder, so each use is a process of its own:
`python -m benchmarks.chdb_side seed PATH SCALE`, `... page PATH ROUNDS` (PostHog's DLQ page queries, timed,
printed as JSON), and the doctor itself (`--clickhouse-url chdb://PATH?database=posthog`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from . import data

DATABASE = data.DATABASE


def url(path: Path) -> str:
    return f"chdb://{path}?database={DATABASE}"


def _session(path: str):
    from chdb import session

    return session.Session(path)


def _run(s, sql: str, fmt: str = "JSONCompact"):
    result = s.query(sql, fmt)
    return json.loads(result.bytes()) if result is not None and result.bytes() else {}


def seed(path: str, scale: float) -> dict:
    from tests.clickhouse_generations import schema
    from tests.clickhouse_support import Deployment

    s = _session(path)
    s.query(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    s.query(f"USE {DATABASE}")
    if not _run(s, f"SELECT count() FROM system.tables WHERE database = '{DATABASE}' AND name = 'sharded_events'")[
        "data"
    ][0][0]:
        for statement in schema(Deployment("chdb", DATABASE, url(Path(path))), "2025"):
            s.query(statement)
    units = data.units_of(scale)
    have = _run(s, "SELECT count() FROM sharded_events")["data"][0][0] // data.CH_EVENTS_PER_UNIT
    timings = {}
    for unit in range(have, units):
        started = time.monotonic()
        s.query(
            data.events_insert(unit, 0, data.CH_EVENTS_PER_UNIT).replace(
                "INSERT INTO events ", "INSERT INTO sharded_events "
            )
        )
        for first, count in data.time_ordered_chunks(
            data.CH_DLQ_PER_UNIT, data.DLQ_DAYS * 86400 // data.DLQ_CHUNK_SECONDS
        ):
            s.query(data.dlq_insert(unit, first, count))
        for statement in data.warnings_inserts(unit):
            s.query(statement.replace("INSERT INTO ingestion_warnings ", "INSERT INTO sharded_ingestion_warnings "))
        timings[unit] = round(time.monotonic() - started)
    return {"units": units, "seconds": timings, **describe_session(s)}


def describe_session(s) -> dict:
    rows = _run(
        s,
        "SELECT table, sum(rows), sum(data_uncompressed_bytes), sum(data_compressed_bytes) FROM system.parts "
        f"WHERE active AND database = '{DATABASE}' GROUP BY table",
    ).get("data", [])
    found = {r[0]: [int(v) for v in r[1:]] for r in rows}
    version = _run(s, "SELECT version()")["data"][0][0]
    return {"version": version, "tables": found}


def page(path: str, rounds: int) -> list[dict]:
    """PostHog's DLQ page queries (benchmarks/naive.py), `rounds` times, timed in this process."""
    from datetime import timedelta

    from .naive import DLQ_PAGE

    s = _session(path)
    s.query(f"USE {DATABASE}")
    out = []
    for _ in range(rounds):
        now = _run(s, "SELECT toString(now())")["data"][0][0]
        from datetime import datetime

        end = datetime.fromisoformat(now)
        params = {"start": f"'{end - timedelta(days=7)}'", "end": f"'{end}'"}
        per = {}
        started = time.perf_counter()
        for key, sql in DLQ_PAGE.items():
            begun = time.perf_counter()
            stats = _run(s, sql.replace("%(start)s", params["start"]).replace("%(end)s", params["end"])).get(
                "statistics", {}
            )
            per[key] = {
                "wall_s": time.perf_counter() - begun,
                "read_rows": int(stats.get("rows_read", 0)),
                "bytes": int(stats.get("bytes_read", 0)),
            }
        out.append({"wall_s": time.perf_counter() - started, "queries": per})
    return out


def in_process(*args: str, python: str = sys.executable) -> dict | list:
    """Run this module in a process of its own (chdb's one engine per process) and return what it printed."""
    done = subprocess.run(
        [python, "-m", "benchmarks.chdb_side", *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if done.returncode != 0:
        raise RuntimeError(f"chdb {args[0]} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    command, folder = sys.argv[1], sys.argv[2]
    if command == "seed":
        if len(sys.argv) > 4:  # the benchmark's --tiny
            data.shrink(int(sys.argv[4]))
        print(json.dumps(seed(folder, float(sys.argv[3]))))
    elif command == "page":
        print(json.dumps(page(folder, int(sys.argv[3]))))
    elif command == "describe":
        print(json.dumps(describe_session(_session(folder))))
    else:
        raise SystemExit(f"unknown command {command}")
