"""clickhouse.migrations on ClickHouse 18.16 and chdb: a record that matches the schema, one that contradicts it,
an empty one, none at all, and (current engine only) a failed ch_migrate step."""

from __future__ import annotations

import pytest

from tests.clickhouse_support import (
    ENGINES,
    SCHEMA_MIGRATIONS_DDL,
    make_deployment,
    record_migrations,
    run_doctor,
    table_rows,
    values,
)

CHECK = "clickhouse.migrations"
OLD, NEW = "ee.clickhouse.migrations", "posthog.clickhouse.migrations"


@pytest.fixture(scope="module", params=ENGINES)
def runs(request, tmp_path_factory):
    matching = make_deployment(request, "migrations_matching")
    matching.create_posthog_schema()
    record_migrations(
        matching,
        OLD,
        {
            "0001_initial": "2021-06-01",
            "0003_person": "2021-06-01",
            "0004_kafka": "2021-06-01",
            "0006_session_recording_events": "2021-06-01",
            "0017_events_dead_letter_queue": "2021-09-01",
        },
    )
    # The package was renamed in 2022; later rows carry the new name. 0049 dropped the recordings tables.
    record_migrations(
        matching, NEW, {"0022_person_distinct_id2": "2022-05-01", "0049_drop_session_recording_tables": "2023-08-01"}
    )

    contradicting = make_deployment(request, "migrations_contradicting")
    contradicting.create_posthog_schema(sharded=True, dlq=False)  # sharded_events, no DLQ, no groups
    record_migrations(
        contradicting,
        NEW,
        {
            "0001_initial": "2022-03-01",
            "0003_person": "2022-03-01",
            "0017_events_dead_letter_queue": "2022-03-01",
            "0018_group_analytics_schema": "2022-03-02",
        },
    )

    empty = make_deployment(request, "migrations_empty")
    empty.create_posthog_schema()
    record_migrations(empty, NEW, {})

    unrecorded = make_deployment(request, "migrations_none")
    unrecorded.create_posthog_schema()

    deployments = {"matching": matching, "contradicting": contradicting, "empty": empty, "none": unrecorded}
    out = tmp_path_factory.mktemp(f"migrations-{request.param}")
    return {name: run_doctor(dep, out / name, "--only", CHECK).check(CHECK) for name, dep in deployments.items()}


def test_a_record_that_matches_the_schema_is_quiet(runs):
    check = runs["matching"]
    assert check["status"] == "ok", check["summary"]
    assert check["summary"] == (
        "7 migrations recorded (newest 0049_drop_session_recording_tables); the tables of the 4 recorded ones "
        "compared all exist"
    )
    record = values(check, "Migration record")
    assert record["packages"] == f"{OLD}: 5, {NEW}: 2"
    assert record["newest_implied"] == "0022_person_distinct_id2"
    compared = {r["Migration"]: r for r in table_rows(check, "Migrations and the tables")}
    assert "0006_session_recording_events" not in compared  # dropped on purpose by 0049
    assert compared["0017_events_dead_letter_queue"]["Found"] == "events_dead_letter_queue"
    assert check["metrics"] == {
        "recorded_migrations": 7,
        "recorded_but_missing": 0,
        "unrecorded_tables": 0,
        "failed_migration_steps": 0,
    }


def test_recorded_migrations_without_tables_fail_and_unrecorded_tables_warn(runs):
    check = runs["contradicting"]
    assert check["status"] == "fail"
    missing, unrecorded = (f["text"] for f in check["findings"])
    assert missing == (
        "2 ClickHouse migration(s) recorded as applied but their tables are missing: 0017_events_dead_letter_queue "
        "(events_dead_letter_queue), 0018_group_analytics_schema (groups): faked (--fake) or dropped since, so "
        "migrate_clickhouse will not create them again"
    )
    assert unrecorded == (
        "1 table(s) exist whose migration is not recorded: person_distinct_id2 (0022_person_distinct_id2): the "
        "record (newest 0018_group_analytics_schema) is behind the schema, so migrate_clickhouse will run them again"
    )
    assert [f["status"] for f in check["findings"]] == ["fail", "warn"]
    compared = {r["Migration"]: r for r in table_rows(check, "Migrations and the tables")}
    assert compared["0001_initial"]["Found"] == "events, sharded_events"  # the sharded layout satisfies it
    assert compared["0018_group_analytics_schema"]["Recorded (first applied)"] == "2022-03-02"
    assert check["advice"][0]["commands"][0].startswith("ALTER TABLE infi_clickhouse_orm_migrations DELETE")
    assert any("already exists" in a["text"] for a in check["advice"])
    assert check["metrics"]["recorded_but_missing"] == 2 and check["metrics"]["unrecorded_tables"] == 1


def test_an_empty_record_beside_posthog_tables_warns(runs):
    check = runs["empty"]
    assert check["status"] == "warn"
    assert check["summary"] == (
        "the migration record (infi_clickhouse_orm_migrations) is empty while PostHog's tables exist: "
        "migrate_clickhouse will run every migration again"
    )


def test_no_record_is_skipped_with_the_reason(runs):
    check = runs["none"]
    assert check["status"] == "skipped"
    assert "no ClickHouse migration record in database 'phd_migrations_none'" in check["summary"]


@pytest.fixture(scope="module", params=["chdb"])  # ch_migrate's table needs Bool and DateTime64: current engine only
def steps_run(request, tmp_path_factory):
    steps = make_deployment(request, "migrations_steps")
    steps.create_posthog_schema()
    steps.execute(SCHEMA_MIGRATIONS_DDL)
    steps.execute(
        "INSERT INTO clickhouse_schema_migrations VALUES "
        "(0, '__lock__', -999, 'web-1', '*', 'up', 'lock', now64(3) - 600, true), "
        "(0, 'a1b2c3d', -2, 'web-1', '*', 'up', 'version', now64(3) - 590, true), "
        "(174, '0174_add_ai_events', 0, 'ch-1', 'data', 'up', 'x1', now64(3) - 580, true), "
        "(175, '0175_materialize_ai_is_error', 0, 'ch-1', 'data', 'up', 'x2', now64(3) - 570, false), "
        "(175, '0175_materialize_ai_is_error', 1, 'ch-1', 'data', 'up', 'x3', now64(3) - 560, false), "
        "(175, '0175_materialize_ai_is_error', 1, 'ch-1', 'data', 'up', 'x3', now64(3) - 100, true)"
    )
    return run_doctor(steps, tmp_path_factory.mktemp("migrations-steps"), "--only", CHECK).check(CHECK)


def test_a_failed_ch_migrate_step_fails(steps_run):
    check = steps_run
    assert check["status"] == "fail"
    assert check["summary"].startswith(
        "1 ch_migrate step(s) failed and have not succeeded since: 0175_materialize_ai_is_error step 0 on ch-1 at "
    )
    steps = table_rows(check, "ch_migrate steps")
    assert [(s["Step"], s["Succeeded"], s["Attempts"]) for s in steps] == [(0, True, 1), (0, False, 1), (1, True, 2)]
    assert check["metrics"]["failed_migration_steps"] == 1
    assert "recorded_migrations" not in check["metrics"]  # no infi record here: only ch_migrate's
