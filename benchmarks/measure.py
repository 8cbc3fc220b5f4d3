"""Measuring one run of the doctor (a real process) and the hero's naive queries, on the servers' own records.

- wall time: from spawning the process to its exit (interpreter start included);
- peak memory: the child's maximum resident set size, from the kernel (`wait4` rusage), exact;
- ClickHouse: rows, bytes and server time from `system.query_log`, by the run's query ids
  (`posthog-doctor:<run id>:<check id>:<n>:<hex>`), after `SYSTEM FLUSH LOGS`;
- Postgres: the deltas of posthog_event's counters in pg_stat_user_tables / pg_statio_user_tables, read once
  every doctor session has ended (a backend publishes its counters when it exits).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_COUNTERS = (
    "seq_scan",
    "seq_tup_read",
    "idx_scan",
    "idx_tup_fetch",
    "heap_blks_read",
    "heap_blks_hit",
    "idx_blks_read",
    "idx_blks_hit",
)


@dataclass
class Process:
    wall_s: float
    max_rss_mb: float
    code: int
    stdout: str = ""
    stderr: str = ""


def run_process(argv: list[str], env: dict | None = None, cwd: Path | None = None) -> Process:
    """Run a command to its end; wall time and the peak RSS of that process (not of its parent). It runs in a
    folder of its own, so `python -m` cannot pick up a checkout from the working directory."""
    env = env if env is not None else doctor_env()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd or tempfile.gettempdir())
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage: its peak RSS, not the parent's
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        return Process(
            wall,
            usage.ru_maxrss / 1024,
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


_SOURCE: list[Path] = []  # a checkout to run instead of the installed doctor (use_source)
_SOURCE_NAMES: list[str] = []


def use_source(checkout: Path | None) -> None:
    """Run the doctor from another checkout (e.g. an older commit, for before/after figures), or (None) the
    installed one again. The checkout is copied as an install lays it out (checks/ and templates/ inside
    posthog_doctor/) to a temporary folder that comes first on PYTHONPATH, and started the way the console
    script starts it."""
    for old in _SOURCE:
        shutil.rmtree(old, ignore_errors=True)
    _SOURCE.clear()
    if checkout is None:
        return
    overlay = Path(tempfile.mkdtemp(prefix="phd-bench-src-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(checkout / "posthog_doctor", overlay / "posthog_doctor", ignore=ignore)
    for name in ("checks", "templates"):
        shutil.copytree(checkout / name, overlay / "posthog_doctor" / name, ignore=ignore)
    _SOURCE[:] = [overlay]
    _SOURCE_NAMES[:] = [str(checkout)]


def doctor_source() -> str:
    return _SOURCE_NAMES[0] if _SOURCE else ""


def doctor_command() -> list[str]:
    """The installed console script beside this interpreter (what a user runs), else `python -m`."""
    script = Path(sys.executable).with_name("posthog-doctor")
    if script.exists() and not _SOURCE:
        return [str(script)]
    return [sys.executable, "-c", "import sys; from posthog_doctor.cli import main; sys.exit(main())"]


def doctor_env() -> dict:
    from . import ORIGINAL_ENVIRON

    if not _SOURCE:
        return dict(ORIGINAL_ENVIRON)
    return dict(ORIGINAL_ENVIRON, PYTHONPATH=os.pathsep.join([str(_SOURCE[0]), ORIGINAL_ENVIRON.get("PYTHONPATH", "")]))


@dataclass
class DoctorRun:
    process: Process
    run_id: str
    overall: str
    checks: dict[str, dict]  # id -> {status, duration_ms, io}
    ch_queries: list[dict] = field(default_factory=list)  # from system.query_log
    pg: dict[str, int] = field(default_factory=dict)  # counter deltas on posthog_event

    def ch_total(self, key: str) -> int:
        return sum(q[key] for q in self.ch_queries)

    def ch_for(self, check_id: str, key: str, table: str = "") -> int:
        return sum(q[key] for q in self.ch_queries if q["check"] == check_id and (not table or table in q["query"]))


def run_doctor(urls: dict[str, str], ch_admin, pg_admin_url: str | None, extra: list[str] = ()) -> DoctorRun:
    out = Path(tempfile.mkdtemp(prefix="phd-bench-report-"))
    try:
        before = pg_counters(pg_admin_url) if pg_admin_url else {}
        argv = doctor_command() + [
            "run",
            "--clickhouse-url",
            urls.get("clickhouse", "off"),
            "--postgres-url",
            urls.get("postgres", "off"),
            "--redis-url",
            urls.get("redis", "off"),
            "--posthog-url",
            "off",
            "--plugin-server-url",
            "off",
            "--output",
            str(out),
            "--format",
            "json",
            "--quiet",
            *extra,
        ]
        process = run_process(argv, cwd=out)
        report_file = out / "report.json"
        if not report_file.exists():
            raise RuntimeError(f"the doctor wrote no report (exit {process.code}): {process.stderr[-2000:]}")
        report = json.loads(report_file.read_text())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    run = DoctorRun(
        process,
        report["run"]["id"],
        report["overall"],
        {
            c["id"]: {
                "status": c["status"],
                "duration_ms": c["duration_ms"],
                "io": c.get("io", {}),
                "summary": c["summary"],
            }
            for c in report["checks"]
        },
    )
    if ch_admin is not None:
        run.ch_queries = query_log(ch_admin, f"posthog-doctor:{run.run_id}:%")
    if pg_admin_url:
        after = pg_counters(pg_admin_url, wait_for_doctor=True)
        run.pg = {k: after.get(k, 0) - before.get(k, 0) for k in PG_COUNTERS}
    return run


def query_log(ch_admin, id_pattern: str) -> list[dict]:
    """Finished queries whose id matches `id_pattern` (a LIKE pattern), with rows, bytes and server time."""
    ch_admin.execute("SYSTEM FLUSH LOGS")
    rows = ch_admin.execute(
        "SELECT query_id, query, read_rows, read_bytes, query_duration_ms, memory_usage FROM system.query_log "
        "WHERE type = 2 AND query_id LIKE %(p)s AND event_date >= yesterday()",
        {"p": id_pattern},
    )
    queries = []
    for query_id, query, read_rows, read_bytes, duration, memory in rows:
        parts = query_id.split(":")
        queries.append(
            {
                "id": query_id,
                "check": parts[2] if len(parts) > 4 else parts[-2],
                "query": query,
                "read_rows": int(read_rows),
                "read_bytes": int(read_bytes),
                "ms": int(duration),
                "memory": int(memory),
            }
        )
    return queries


def pg_counters(admin_url: str, wait_for_doctor: bool = False) -> dict[str, int]:
    """posthog_event's scan and block counters (published ones: wait for the doctor's sessions to end)."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        if wait_for_doctor:
            stop_at = time.monotonic() + 15
            while (
                conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'posthog-doctor'"
                ).fetchone()[0]
                and time.monotonic() < stop_at
            ):
                time.sleep(0.05)
            time.sleep(0.2)  # the exiting backend publishes its counters as it goes
        return _read_counters(conn)


def _read_counters(conn) -> dict[str, int]:
    row = conn.execute(
        "SELECT s.seq_scan, s.seq_tup_read, coalesce(s.idx_scan, 0), coalesce(s.idx_tup_fetch, 0), "
        "io.heap_blks_read, io.heap_blks_hit, coalesce(io.idx_blks_read, 0), coalesce(io.idx_blks_hit, 0) "
        "FROM pg_stat_user_tables s JOIN pg_statio_user_tables io USING (relid) "
        "WHERE s.relname = 'posthog_event'"
    ).fetchone()
    return dict(zip(PG_COUNTERS, (int(v or 0) for v in row), strict=True)) if row else {}


def flush_own_counters(conn) -> None:
    """Publish this session's pending counters now (Postgres 15 batches them for up to a second)."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT 1")
    time.sleep(0.05)


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
