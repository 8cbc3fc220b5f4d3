"""clickhouse.schema on ClickHouse 18.16 and chdb: complete, broken and foreign databases; replica verdicts."""

from __future__ import annotations

import pytest

from tests.clickhouse_support import ENGINES, evidence, make_deployment, run_doctor, table_rows

CHECK = "clickhouse.schema"


@pytest.fixture(scope="module", params=ENGINES)
def runs(request, tmp_path_factory):
    complete = make_deployment(request, "schema_complete")
    complete.create_posthog_schema()
    broken = make_deployment(request, "schema_broken")  # sharded, but no writable_events and no DLQ
    broken.create_posthog_schema(sharded=True, writable=False, dlq=False)
    foreign = make_deployment(request, "schema_foreign")
    foreign.execute("CREATE TABLE something_else (x UInt8) ENGINE = MergeTree ORDER BY x")
    out = tmp_path_factory.mktemp(f"schema-{request.param}")
    return {
        name: run_doctor(dep, out / name, "--only", CHECK)
        for name, dep in (("complete", complete), ("broken", broken), ("foreign", foreign))
    }


def test_a_complete_single_node_schema_is_ok(runs):
    result = runs["complete"].check(CHECK)
    assert result["status"] == "ok"
    assert result["summary"] == "all 4 tables the pipeline needs exist; no replicated tables"
    found = {r["Needed"]: r["Found"] for r in table_rows(result, "PostHog's tables")}
    assert found == {
        "events": "events (ReplacingMergeTree)",
        "person": "person (ReplacingMergeTree)",
        "person_distinct_id2 or person_distinct_id": "person_distinct_id2 (ReplacingMergeTree)",
        "events_dead_letter_queue": "events_dead_letter_queue (ReplacingMergeTree)",
    }
    assert evidence(result, "Replicated tables")["note"] == "no replicated tables: a single ClickHouse node"
    assert result["metrics"] == {"missing_tables": 0, "readonly_replicas": 0, "max_replication_queue": 0}


def test_a_sharded_install_without_writable_events_fails(runs):
    result = runs["broken"].check(CHECK)
    assert result["status"] == "fail"
    assert result["summary"] == "writable_events missing; events_dead_letter_queue missing"
    assert result["metrics"]["missing_tables"] == 2
    assert result["advice"][0]["text"].startswith("Missing tables usually mean migrations did not finish")
    assert "is this PostHog's database" not in result["advice"][0]["text"]


def test_a_database_without_posthog_asks_whether_it_is_the_right_one(runs):
    result = runs["foreign"].check(CHECK)
    assert result["status"] == "fail"
    assert result["summary"] == (
        "no PostHog table in database 'phd_schema_foreign': wrong database? (events missing; "
        "person missing; person_distinct_id2 or person_distinct_id missing; "
        "events_dead_letter_queue missing)"
    )
    assert "No PostHog table is in 'phd_schema_foreign': is this PostHog's database" in result["advice"][0]["text"]


def test_replica_findings():
    """The replica verdicts, on rows shaped like system.replicas (a cluster cannot run in the test bed)."""
    from posthog_doctor.checks.clickhouse.schema.check import Schema

    def replica(table, readonly=0, queue=0, delay=0, active=2, total=2):
        return {
            "table": table,
            "is_readonly": readonly,
            "is_session_expired": 0,
            "queue_size": queue,
            "inserts_in_queue": 0,
            "merges_in_queue": 0,
            "absolute_delay": delay,
            "active_replicas": active,
            "total_replicas": total,
        }

    options = {"queue_warn": 100, "delay_warn_seconds": 300}
    assert Schema._replica_findings([replica("sharded_events")], options) == []
    found = Schema._replica_findings(
        [replica("sharded_events", readonly=1), replica("person", queue=101, delay=301), replica("groups", active=1)],
        options,
    )
    assert [(f.status.value, f.text) for f in found] == [
        ("fail", "read-only replica of sharded_events"),
        ("warn", "replication queue above 100: person (101)"),
        ("warn", "replica behind: person (301 s)"),
        ("warn", "inactive replicas of groups"),
    ]
