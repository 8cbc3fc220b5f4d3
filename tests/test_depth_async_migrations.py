"""postgres.async_migrations on a real Postgres: every MigrationStatus in PostHog's 2022+ layout and the 2021 one,
a database without the tables, and a running migration whose query does (or does not) run on ClickHouse 18.16."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import target
from tests.postgres_support import AsyncMigrationRow as Row
from tests.postgres_support import async_migration_deployment, deployment

pytestmark = pytest.mark.postgres

CHECK = "postgres.async_migrations"
OOM = (
    "Code: 241. DB::Exception: Memory limit (total) exceeded: would use 7.45 GiB (attempt to allocate chunk of "
    "4194304 bytes), maximum: 7.45 GiB: While executing AggregatingTransform. " + "SELECT x FROM events " * 40
)
RUNNING_ID = "7c3a1f0e-5b8d-4c2a-9e61-0d4f2b8a6c11"

EVERY_STATE = (
    Row("0001_events_sample_by", 2, progress=100, started_hours_ago=900, finished_hours_ago=899),
    # An earlier attempt failed, the rerun succeeded: the old error is history, not a problem.
    Row(
        "0002_events_sample_by",
        2,
        progress=100,
        started_hours_ago=800,
        finished_hours_ago=790,
        errors=((850, "Celery worker crashed while running migration."),),
    ),
    Row(
        "0003_fill_person_distinct_id2",
        3,
        progress=40,
        operation=2,
        started_hours_ago=50,
        finished_hours_ago=48,
        errors=((49, "Healthcheck failed with error: disk space"), (48, OOM)),
    ),
    Row(
        "0004_replicated_schema",
        4,
        progress=10,
        operation=1,
        started_hours_ago=30,
        finished_hours_ago=29,
        errors=((29, "Force stopped by user"),),
    ),
    Row(
        "0005_person_replacing_by_version",
        6,
        finished_hours_ago=20,
        errors=((20, "Service clickhouse is in version 21.6.5. Expected range: >=21.11.4.14."),),
    ),
    Row("0006_persons_and_groups_on_events_backfill", 5),
    Row(
        "0007_persons_and_groups_on_events_backfill",
        1,
        progress=35,
        operation=4,
        started_hours_ago=72,
        query_id=RUNNING_ID,
    ),
    Row("0008_speed_up_kafka_timestamp_filters", 2, progress=40, operation=2, started_hours_ago=10),
    Row(
        "0009_minmax_indexes_for_materialized_columns",
        2,
        progress=100,
        started_hours_ago=5,
        finished_hours_ago=4,
        errors=((4.5, "Failed to execute ClickHouse op: sql=ALTER TABLE sharded_events ADD INDEX ..."),),
    ),
    Row("0010_move_old_partitions", 0),
)
HEALTHY = (EVERY_STATE[0], EVERY_STATE[1], EVERY_STATE[-1])


@pytest.fixture(scope="module")
def databases(postgres_server):
    return {
        "every_state": async_migration_deployment(postgres_server, "phd_am_every_state", "2022", EVERY_STATE),
        "healthy": async_migration_deployment(postgres_server, "phd_am_healthy", "2022", HEALTHY),
        "old": async_migration_deployment(
            postgres_server,
            "phd_am_2021",
            "2021",
            (
                Row("0001_events_sample_by", 2, progress=100, started_hours_ago=2000, finished_hours_ago=1999),
                Row(
                    "0002_events_sample_by",
                    3,
                    progress=60,
                    operation=3,
                    started_hours_ago=100,
                    finished_hours_ago=99,
                    errors=((99, "Code: 60. DB::Exception: Table posthog.events_backup doesn't exist."),),
                ),
            ),
        ),
        "empty": async_migration_deployment(postgres_server, "phd_am_empty", "2022", ()),
    }


def run(doctor, dep, *flags, **urls):
    return doctor("run", "--only", CHECK, *flags, *target(postgres=dep.url, **urls)).check(CHECK)


def finding(check, start):
    return next(f for f in check["findings"] if f["text"].startswith(start))


def test_every_state_is_named_with_its_error_and_advice(databases, doctor):
    check = run(doctor, databases["every_state"])
    assert check["status"] == "fail"
    texts = [f["text"] for f in check["findings"]]
    assert len(texts) == 7, texts

    errored = finding(check, "async migration 0003_fill_person_distinct_id2 failed at ")
    assert errored["status"] == "fail"
    assert re.fullmatch(
        r"async migration 0003_fill_person_distinct_id2 failed at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(operation 2, 40% "
        r"done\); last error at \d{4}-\d\d-\d\d \d\d:\d\d UTC: Code: 241\. DB::Exception: Memory limit \(total\) "
        r"exceeded: would use .{20,}…",
        errored["text"],
    ), errored["text"]
    assert len(errored["text"]) <= 300  # clipped to one line: the SQL it quotes is not repeated
    assert "was rolled back after an error" in finding(check, "async migration 0004_replicated_schema")["text"]
    assert "Force stopped by user" in finding(check, "async migration 0004_replicated_schema")["text"]
    startup = finding(check, "async migration 0005_person_replacing_by_version")
    assert startup["status"] == "warn" and "failed at startup, before changing anything" in startup["text"]
    assert "Expected range: >=21.11.4.14." in startup["text"]
    assert finding(check, "async migration 0006_persons_and_groups_on_events_backfill is marked as starting")

    running = finding(check, "async migration 0007_persons_and_groups_on_events_backfill has been running for")
    assert re.match(r".* running for 3 d(ays)?.*at operation 4 \(35% done\)$", running["text"]), running["text"]

    by_hand = finding(check, "async migration 0008_speed_up_kafka_timestamp_filters is marked completed but never")
    assert "(progress 40%, no finish time): its status was set by hand" in by_hand["text"]
    errors = finding(check, "async migration 0009_minmax_indexes_for_materialized_columns is marked completed but")
    assert "recorded 1 error(s) during its last run; last error at" in errors["text"]
    assert "a failure was marked as success" in errors["text"]
    assert not any("0001_" in t or "0002_" in t or "0010_" in t for t in texts)

    advice = " ".join(a["text"] for a in check["advice"])
    assert "run_async_migrations --check" in advice and "mark it as errored in Postgres" in advice
    assert "https://posthog.com/docs/self-host/configure/async-migrations/overview" in check["advice"][0]["links"]
    table = next(e for e in check["evidence"] if e["title"] == "Async migrations")
    statuses = {row[0]: row[1] for row in table["rows"]}
    assert statuses["0003_fill_person_distinct_id2"] == "errored" and statuses["0010_move_old_partitions"] == (
        "not started"
    )
    last_error = next(row[7] for row in table["rows"] if row[0] == "0003_fill_person_distinct_id2")
    assert last_error.startswith("Code: 241.") and len(last_error) == 400 and last_error.endswith("…")
    assert "posthog_asyncmigrationerror" in table["note"]
    assert check["metrics"]["failed_async_migrations"] == 1
    assert 71.9 <= check["metrics"]["running_async_migration_hours"] <= 72.2


def test_a_healthy_history_is_quiet(databases, doctor):
    check = run(doctor, databases["healthy"])
    assert check["status"] == "ok", check["summary"]
    assert check["summary"] == "3 async migrations: 2 completed, 1 not started"
    assert check["metrics"] == {"failed_async_migrations": 0}


def test_the_2021_layout_reads_last_error(databases, doctor):
    check = run(doctor, databases["old"])
    assert check["status"] == "fail"
    assert re.fullmatch(
        r"async migration 0002_events_sample_by failed at \S+ \S+ UTC \(operation 3, 60% done\); last error: "
        r"Code: 60\. DB::Exception: Table posthog\.events_backup doesn't exist\.",
        check["summary"],
    ), check["summary"]
    table = next(e for e in check["evidence"] if e["title"] == "Async migrations")
    assert "last_error column" in table["note"]


def test_no_rows_and_no_table(databases, postgres_server, doctor):
    empty = run(doctor, databases["empty"])
    assert empty["status"] == "ok" and empty["summary"].startswith("no async migration recorded")
    bare = deployment(postgres_server, "phd_no_events", events_table=False)  # shared with other modules
    skipped = run(doctor, bare)
    assert skipped["status"] == "skipped"
    assert "no posthog_asyncmigration table: this PostHog predates async migrations (1.33)" in skipped["summary"]


def test_the_running_query_is_looked_up_in_clickhouse(databases, clickhouse_server, doctor):
    """A migration running for days: is its ClickHouse query still running? Asked of a real 18.16 server."""
    from clickhouse_driver import Client

    url = clickhouse_server.url.rsplit("/", 1)[0] + "/default"
    idle = run(doctor, databases["every_state"], clickhouse=url)
    text = finding(idle, "async migration 0007_")["text"]
    assert text.endswith("no ClickHouse query of it is running now, so the worker running it has probably died")

    admin = urlsplit(clickhouse_server.admin_url)
    connect = dict(host=admin.hostname, port=admin.port, user=admin.username or "default")
    connect["password"] = unquote(admin.password or "")
    worker = Client(**connect)
    errors: list[Exception] = []

    def migrate():  # PostHog's runner prefixes the operation's SQL with its query id
        try:
            worker.execute(
                f"/* {RUNNING_ID} */ SELECT sleep(2) FROM numbers(10)",
                settings={"max_block_size": 1, "max_execution_time": 30},
                query_id="migration-op",
            )
        except Exception as exc:  # noqa: BLE001 - killed on purpose below
            errors.append(exc)

    thread = threading.Thread(target=migrate, daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        busy = run(doctor, databases["every_state"], clickhouse=url)
    finally:
        Client(**connect).execute("KILL QUERY WHERE query_id = 'migration-op' SYNC")
        thread.join(10)
    assert finding(busy, "async migration 0007_")["text"].endswith("; its current ClickHouse query is still running")
