"""clickhouse.errors, clickhouse.background_work, clickhouse.system_logs, clickhouse.disk_usage (and the disk
check's attribution) on ClickHouse 18.16 and chdb, with the faults provoked for real where the engine can:

- errors: a query over its memory limit and an insert of rows that do not parse, read back from system.errors
  (chdb; 18.16 has no system.errors: the gate is tested there);
- a mutation that fails on every part (chdb records why; 18.16 does not) and, on chdb, a slow mutation that shows
  as a running merge (18.16 does not list mutations in system.merges, and no real merge lasts long enough);
- log tables: MergeTree tables planted in the `system` database, shaped like ClickHouse's logs, stand in for a
  runaway query_log / trace_log (chdb writes no logs; 18.16's only is the test suite's small query_log);
- bytes planted in each group of tables: events, the DLQ, recordings, ingestion warnings, app logs.
"""

from __future__ import annotations

import contextlib
import json
import time

import pytest

from posthog_doctor import units
from tests.clickhouse_support import (
    ENGINES,
    HOUR,
    evidence,
    make_deployment,
    plant_log_table,
    run_doctor,
    table_rows,
)
from tests.conftest import require_module, run_process, target

ERRORS, WORK, LOGS, USAGE, DISK = (
    "clickhouse.errors",
    "clickhouse.background_work",
    "clickhouse.system_logs",
    "clickhouse.disk_usage",
    "clickhouse.disk",
)
PLANTED_LOGS = ("phd_trace_log", "phd_trace_log_0", "phd_kept_log")


def _fails(dep, sql: str) -> None:
    with pytest.raises(Exception):  # noqa: B017 - either engine's client raises its own exception type
        dep.execute(sql)


def _wait_for(dep, sql: str, seconds: float = 15.0) -> None:
    stop = time.monotonic() + seconds
    while not int(dep.scalar(sql)):
        assert time.monotonic() < stop, f"timed out waiting for: {sql}"
        time.sleep(0.2)


def _plant_groups(dep) -> None:
    dep.plant_events(3000, first_age=HOUR, spacing=60)
    dep.plant_dlq(2000, location="plugin_server_ingest_event:prepareEventStep", error="'boom'", age=HOUR)
    for table in ("session_replay_events", "sharded_ingestion_warnings", "plugin_log_entries"):
        dep.execute(f"CREATE TABLE {table} (team_id Int64, at DateTime, body String) ENGINE = MergeTree ORDER BY at")
        dep.execute(
            f"INSERT INTO {table} SELECT 1, now() - number, hex(MD5(concat('{table}', toString(number)))) "
            "FROM system.numbers LIMIT 5000"
        )


@pytest.fixture(scope="module", params=ENGINES)
def server(request, tmp_path_factory):
    dep = make_deployment(request, "depth_server")
    dep.create_posthog_schema()
    out = tmp_path_factory.mktemp(f"depth-server-{dep.engine}")
    runs = {"before": run_doctor(dep, out / "before", "--only", WORK, "--only", LOGS)}
    _plant_groups(dep)
    for name, rows, days in (("phd_trace_log", 20_000, 10), ("phd_trace_log_0", 3_000, 3)):
        plant_log_table(dep, name, rows, days=days)
    if dep.modern:  # 18.16 has no TTL (added in 19.6)
        plant_log_table(dep, "phd_kept_log", 20_000, days=10, ttl=True)
    # Errors are provoked in a ClickHouse of their own (test_ingestion_errors_are_read_back_from_system_errors):
    # system.errors counts for the whole server, and the in-process engine is shared by every later test.
    # A mutation that fails on every part (chdb runs it at once and raises; 18.16 runs it in the background).
    dep.execute("CREATE TABLE stuck (x UInt64, s String) ENGINE = MergeTree ORDER BY x")
    dep.execute("INSERT INTO stuck SELECT number, toString(number) FROM system.numbers LIMIT 1000")
    # chdb waits for the mutation and reports its failure (expected); 18.16 returns at once.
    with contextlib.suppress(Exception):
        dep.execute("ALTER TABLE stuck UPDATE s = toString(throwIf(x >= 0)) WHERE 1")
    mutation = f"SELECT count() FROM system.mutations WHERE database = '{dep.database}' AND table = 'stuck'"
    _wait_for(dep, mutation)
    if dep.modern:
        _wait_for(dep, mutation + " AND latest_fail_reason != ''")
    runs["faults"] = run_doctor(
        dep,
        out / "faults",
        *("--only", ERRORS, "--only", WORK, "--only", LOGS, "--only", USAGE, "--only", DISK),
        *("--option", f"{LOGS}.table_warn_gib=0.0001", "--option", f"{LOGS}.share_warn_pct=0"),
        *("--option", f"{LOGS}.min_gib=0", "--option", f"{USAGE}.warn_share_pct=0", "--option", f"{USAGE}.min_gib=0"),
        *("--option", f"{DISK}.warn_free_pct=100"),
    )
    runs["defaults"] = run_doctor(dep, out / "defaults", "--only", WORK, "--only", USAGE, "--only", LOGS)
    runs["stuck_now"] = run_doctor(dep, out / "stuck_now", "--only", WORK, "--option", f"{WORK}.stuck_mutation_hours=0")
    if dep.modern:  # a slow mutation rewrites a part for seconds: a running merge
        dep.execute("CREATE TABLE slow (x UInt64, s String) ENGINE = MergeTree ORDER BY x")
        dep.execute("INSERT INTO slow SELECT number, toString(number) FROM system.numbers LIMIT 300000")
        dep.execute(
            "ALTER TABLE slow UPDATE s = concat(s, toString(sleepEachRow(0.00004))) WHERE 1 SETTINGS mutations_sync = 0"
        )
        _wait_for(
            dep,
            f"SELECT count() FROM system.merges WHERE database = '{dep.database}' AND table = 'slow' AND elapsed > 1",
        )
    runs["merging"] = run_doctor(dep, out / "merging", "--only", WORK, "--option", f"{WORK}.long_merge_hours=0.0002")
    yield dep, runs
    for name in PLANTED_LOGS:
        dep.execute(f"DROP TABLE IF EXISTS system.{name}")
    dep.execute(f"DROP DATABASE IF EXISTS {dep.database}", in_database=False)


def test_background_work_and_logs_are_quiet_before_the_faults(server):
    _, runs = server
    work, logs = runs["before"].check(WORK), runs["before"].check(LOGS)
    assert work["status"] == "ok" and work["summary"].startswith("0 mutations in progress, none stuck; ")
    assert logs["status"] == "ok", logs["summary"]


# Errors, for real, in a chdb process of its own (system.errors is server-wide: provoking them in the shared
# in-process engine would leave them for every later test): a query over a tiny memory limit, an insert whose
# rows do not parse; then the doctor, in the same process, reads them back.
_PROVOKE = """
import sys
from chdb import session
engine = session.Session({folder!r})
engine.query("CREATE TABLE default.events (uuid UUID, team_id Int64) ENGINE = Memory")
for sql in ("SELECT count() FROM numbers(3000000) GROUP BY number SETTINGS max_memory_usage = 100000",
            'INSERT INTO default.events (uuid, team_id) FORMAT JSONEachRow {{"uuid": "secret-customer-value"}}'):
    try:
        engine.query(sql)
    except Exception:
        pass
counts = engine.query("SELECT code, sum(value) FROM system.errors WHERE code IN (241, 27, 6, 117, 376) GROUP BY code",
                      "JSONCompact").bytes().decode()
open({counts!r}, "w").write(counts)
from posthog_doctor.cli import main
sys.exit(main(["run", "--clickhouse-url", "chdb://{folder}?database=default", "--postgres-url", "off",
               "--redis-url", "off", "--posthog-url", "off", "--plugin-server-url", "off", "--only", {check!r},
               "--quiet", "--output", {out!r}]))
"""


def test_ingestion_errors_on_a_server_without_system_errors_are_said(server):
    dep, runs = server
    result = runs["faults"].check(ERRORS)
    if dep.has_system_table("errors"):
        assert result["status"] == "ok"  # nothing was provoked in this (shared) engine
        return
    assert result["status"] == "skipped"
    assert result["summary"].startswith(f"ClickHouse {dep.version} has no system.errors (added in 20.11)")


def test_ingestion_errors_are_read_back_from_system_errors(tmp_path):
    import subprocess
    import sys

    require_module("chdb")
    folder, out, counts_file = tmp_path / "chdb", tmp_path / "out", tmp_path / "counts.json"
    folder.mkdir()
    code = _PROVOKE.format(folder=str(folder), out=str(out), counts=str(counts_file), check=ERRORS)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]  # a warning
    report = json.loads((out / "report.json").read_text())
    result = next(c for c in report["checks"] if c["id"] == ERRORS)
    assert result["status"] == "warn"
    findings = {f["key"]: f["text"] for f in result["findings"]}
    assert findings["memory"].startswith("memory limit: ") and "MEMORY_LIMIT_EXCEEDED (241)" in findings["memory"]
    assert "the last " in findings["memory"] and "memory limit exceeded" in findings["memory"].lower()
    assert findings["format"].startswith("format, schema or parse: ")
    counted = {int(code): int(n) for code, n in json.loads(counts_file.read_text())["data"]}
    rows = {r["Family"]: r for r in table_rows(result, "Errors that matter for ingestion")}
    assert rows["memory limit"]["Count"] >= counted[241] >= 1  # more may be counted between the two reads
    written = "".join(f.read_text() for f in out.iterdir())
    assert "secret-customer-value" not in written  # the message quoted the row: masked
    assert any("system.query_log" in a["text"] for a in result["advice"])


def test_a_fresh_server_reports_no_ingestion_errors(tmp_path):
    """A chdb process of its own: system.errors starts empty, as on a freshly started server."""
    folder = tmp_path / "fresh-chdb"
    folder.mkdir()
    done = run_process(
        "run",
        *target(clickhouse=f"chdb://{folder}?database=default"),
        "--only",
        ERRORS,
        "--quiet",
        "--output",
        str(tmp_path / "out"),
    )
    assert done.returncode == 0, done.stderr
    result = next(c for c in json.loads((tmp_path / "out" / "report.json").read_text())["checks"] if c["id"] == ERRORS)
    assert result["status"] == "ok" and result["summary"].startswith(
        "no error that matters for ingestion in the last 24 h"
    )


def test_a_failing_mutation_is_reported_with_its_reason_where_the_server_keeps_one(server):
    dep, runs = server
    mutation_id = dep.scalar(
        f"SELECT mutation_id FROM system.mutations WHERE database = '{dep.database}' AND table = 'stuck'"
    )
    where = f"{dep.database}.stuck"
    if dep.modern:  # failing: reported at once, whatever its age
        result = runs["faults"].check(WORK)
        text = next(f["text"] for f in result["findings"] if f["key"] == "mutation")
        assert text.startswith(
            f"mutation {mutation_id} on {where} (UPDATE s = toString(throwIf(x >= 0)) WHERE 1) fails on part "
            "all_1_1_0 (created "
        )
        assert "1 parts to do): Code: 395" in text
        row = table_rows(result, "Unfinished mutations")[0]
        assert row["Failure reason"].startswith("Code: 395")
    else:  # no reason recorded: young, so only the table shows it until it is old enough
        assert runs["defaults"].check(WORK)["status"] == "ok"
        row = next(r for r in table_rows(runs["defaults"].check(WORK), "Unfinished mutations") if r["Table"] == where)
        assert row["Failure reason"] == "not recorded" and row["Parts to do"] == 1
        note = evidence(runs["defaults"].check(WORK), "Unfinished mutations")["note"]
        assert note.startswith(f"ClickHouse {dep.version} does not record why a mutation fails")
        text = next(f["text"] for f in runs["stuck_now"].check(WORK)["findings"] if f["key"] == "mutation")
        assert text.startswith(f"mutation {mutation_id} on {where} (UPDATE s = toString(throwIf(x >= 0)) WHERE 1)")
        assert text.endswith("1 parts to do (this server does not record why)")
    stuck = runs["stuck_now"].check(WORK)
    assert stuck["status"] == "warn"
    commands = stuck["advice"][0]["commands"]
    assert (
        f"KILL MUTATION WHERE database = '{dep.database}' AND table = 'stuck' AND mutation_id = '{mutation_id}'"
        in commands
    )


def test_a_long_merge_is_reported(server):
    dep, runs = server
    result = runs["merging"].check(WORK)
    if not dep.modern:  # 18.16 lists no mutation as a merge, and real merges here last milliseconds
        assert evidence(result, "Merges running now")["columns"][0] == "Table"
        return
    merge = next(f for f in result["findings"] if f["key"] == "merge")
    assert merge["text"].startswith(f"a merge of {dep.database}.slow has run for ")
    assert result["metrics"]["merge_longest_seconds"] > 1


def test_log_tables_without_ttl_are_reported_with_size_and_statements(server):
    dep, runs = server
    result = runs["faults"].check(LOGS)
    planted = dict(
        dep.execute(
            "SELECT table, sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'system' "
            "AND table LIKE 'phd_%' GROUP BY table"
        )
    )
    rows = {r["Table"]: r for r in table_rows(result, "ClickHouse's log tables")}
    assert rows["system.phd_trace_log"]["Bytes"] == units.size(int(planted["phd_trace_log"]))
    assert rows["system.phd_trace_log"]["Rows"] == 20_000 and rows["system.phd_trace_log"]["TTL"] == "no"
    assert rows["system.phd_trace_log"]["Growth per day"] != "0 B"
    findings = {f["key"]: f["text"] for f in result["findings"]}
    assert findings["phd_trace_log"].startswith(
        f"system.phd_trace_log holds {units.size(int(planted['phd_trace_log']))} (20k rows since "
    )
    assert findings["phd_trace_log"].endswith("a day, with no TTL: it grows until the disk is full")
    assert "an old copy of a log table left by an upgrade" in findings["phd_trace_log_0"]
    assert findings["share"].startswith("ClickHouse's own log tables hold ")
    if dep.modern:
        assert rows["system.phd_kept_log"]["TTL"] == "yes" and "phd_kept_log" not in findings
    commands = result["advice"][0]["commands"]
    assert "DROP TABLE system.phd_trace_log_0   -- an old copy left by an upgrade" in commands
    assert "TRUNCATE TABLE system.phd_trace_log   -- frees the space now" in commands


def test_bytes_are_attributed_to_groups(server):
    dep, runs = server
    quiet = runs["defaults"].check(USAGE)
    assert quiet["status"] == "ok"
    own = dict(
        dep.execute(
            f"SELECT table, sum(bytes_on_disk) FROM system.parts WHERE active AND database = '{dep.database}' "
            "GROUP BY table"
        )
    )
    metrics = quiet["metrics"]
    # Groups only this test fills on the server: exactly the planted bytes. Other tests plant ingestion
    # warnings on the same server too (the DLQ and warnings tests), so those are at least this test's.
    assert metrics["disk_bytes_recordings"] == int(own["session_replay_events"])
    assert metrics["disk_bytes_app_logs"] == int(own["plugin_log_entries"])
    assert metrics["disk_bytes_ingestion_warnings"] >= int(own["sharded_ingestion_warnings"])
    assert metrics["disk_bytes_events"] >= int(own["events"]) and metrics["disk_bytes_dead_letter_queue"] >= int(
        own["events_dead_letter_queue"]
    )
    assert metrics["disk_bytes_other"] >= int(own["stuck"])
    loud = runs["faults"].check(USAGE)
    keys = {f["key"] for f in loud["findings"] if f["status"] == "warn"}
    assert {"dead_letter_queue", "recordings", "ingestion_warnings", "app_logs", "system_logs"} <= keys
    assert "events" not in keys and "persons" not in keys  # data PostHog needs is never "to trim"


def test_a_disk_warning_names_where_the_bytes_go(server):
    dep, runs = server
    result = runs["faults"].check(DISK)
    if not dep.has_system_table("disks"):
        assert result["status"] == "skipped"  # unchanged on 18.16: free space cannot be read over SQL
        return
    assert result["status"] == "warn"
    assert "; the data: " in result["summary"] and "%" in result["summary"]
    assert any("clickhouse.system_logs" in a["text"] or "dead letter" in a["text"] for a in result["advice"])
