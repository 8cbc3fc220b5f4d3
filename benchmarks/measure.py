"""Measuring one run of the doctor (a real process) and the hero's naive queries, on the servers' own records.

- wall time: from spawning the process to its exit (interpreter start included);
- peak memory: the child's maximum resident set size, from the kernel (`wait4` rusage), exact;
- ClickHouse: every statement of the run from `system.query_log`, found by the run's query ids
  (`posthog-doctor:<run id>:<check id>:<query name>:<n>:<hex>`) and attributed by the query name in the id,
  never by matching SQL text: rows, bytes, server time and CPU; statements that failed are counted. Bytes are
  given twice: `read_bytes` as the server reports it, which on 18.16 counts only the PREWHERE columns of a
  query that has a PREWHERE, and the uncompressed bytes its decompression actually produced
  (`CompressedReadBufferBytes`), which count every column read;
- Postgres: the deltas of posthog_event's counters in pg_stat_user_tables / pg_statio_user_tables, read once
  every doctor session has ended (a backend publishes its counters when it exits).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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


@dataclass
class Doctor:
    """One installed doctor: its console script, and the environment it runs with."""

    label: str  # "after", "before"
    script: Path
    source: str  # what was installed (a checkout, a commit)

    def command(self, *args: str) -> list[str]:
        return [str(self.script), *args]


@dataclass
class DoctorRun:
    process: Process
    run_id: str
    overall: str
    checks: dict[str, dict]  # id -> {status, duration_ms, io, summary, partial}
    ch_queries: list[dict] = field(default_factory=list)  # from system.query_log
    pg: dict[str, int] = field(default_factory=dict)  # counter deltas on posthog_event
    load: float = 0.0  # 1-minute load average when the run started

    def ch_total(self, key: str, check: str = "", names: tuple[str, ...] = ()) -> int:
        return sum(
            q[key]
            for q in self.ch_queries
            if (not check or q["check"] == check) and (not names or q["name"] in names) and not q["failed"]
        )

    def ch_failed(self) -> int:
        return sum(1 for q in self.ch_queries if q["failed"])


def run_doctor(
    doctor: Doctor,
    args: list[str],
    env: dict[str, str],
    ch_admin=None,
    pg_admin_url: str | None = None,
    extra: list[str] = (),
) -> DoctorRun:
    """`posthog-doctor run` as the README tells customers (default formats: Markdown, HTML and JSON, each scanned
    for secrets before it is written), reports in a fresh folder; then the servers' records of what it cost."""
    out = Path(tempfile.mkdtemp(prefix="phd-bench-report-"))
    try:
        before = pg_counters(pg_admin_url) if pg_admin_url else {}
        load = os.getloadavg()[0]
        process = run_process(doctor.command("run", *args, "--output", str(out), *extra), env=env, cwd=out)
        report_file = out / "report.json"
        if not report_file.exists():
            raise RuntimeError(f"the doctor wrote no report (exit {process.code}): {process.stderr[-2000:]}")
        report = json.loads(report_file.read_text())
        missing = [f for f in ("report.md", "report.html") if not (out / f).exists() and "--format" not in extra]
        if missing:
            raise RuntimeError(f"the doctor did not write {', '.join(missing)}")
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
                "partial": c.get("partial", False),
            }
            for c in report["checks"]
        },
        load=load,
    )
    if ch_admin is not None:
        run.ch_queries = query_log(ch_admin, f"posthog-doctor:{run.run_id}:%")
    if pg_admin_url:
        after = pg_counters(pg_admin_url, wait_for_doctor=True)
        run.pg = {k: after.get(k, 0) - before.get(k, 0) for k in PG_COUNTERS}
    return run


def query_log(ch_admin, id_pattern: str, expect: int = 0) -> list[dict]:
    """Every statement whose id matches `id_pattern` (a LIKE pattern) that ended, finished or failed, with its
    name (from the id), rows, bytes, server time, CPU and memory. Waits until the log holds `expect` of them."""
    for _ in range(50):
        ch_admin.execute("SYSTEM FLUSH LOGS")
        rows = ch_admin.execute(
            "SELECT query_id, type, read_rows, read_bytes, query_duration_ms, memory_usage, "
            "arrayFilter((v, n) -> n = 'CompressedReadBufferBytes', ProfileEvents.Values, ProfileEvents.Names)[1], "
            "arrayFilter((v, n) -> n = 'UserTimeMicroseconds', ProfileEvents.Values, ProfileEvents.Names)[1], "
            "exception "
            "FROM system.query_log WHERE type != 1 AND query_id LIKE %(p)s AND event_date >= yesterday()",
            {"p": id_pattern},
        )
        if len(rows) >= expect:
            break
        time.sleep(0.1)
    queries = []
    for query_id, kind, read_rows, read_bytes, duration, memory, decompressed, cpu_us, exception in rows:
        parts = query_id.split(":")
        # posthog-doctor:<run>:<check>:<name>:<n>:<hex>; the benchmark's own: <tag>:<name>:<n>
        check, name = (parts[2], parts[3]) if parts[0] == "posthog-doctor" and len(parts) >= 6 else ("", parts[-2])
        queries.append(
            {
                "id": query_id,
                "check": check,
                "name": name,
                "failed": int(kind) != 2,
                "exception": str(exception)[:300],
                "read_rows": int(read_rows),
                "read_bytes": int(read_bytes),
                "bytes": int(decompressed or 0),
                "ms": int(duration),
                "cpu_ms": int(cpu_us or 0) // 1000,
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
