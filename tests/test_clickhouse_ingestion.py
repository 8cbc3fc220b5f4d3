"""clickhouse.ingestion on ClickHouse 18.16 and chdb: a stalled pipeline, a live one, and broken set-ups.

Planted arrivals sit at least 30 seconds away from every minute, hour and day boundary the check uses,
so the exact counts hold while the test runs.
"""

from __future__ import annotations

import re

import pytest

from tests.clickhouse_support import ENGINES, HOUR, evidence, make_deployment, run_doctor, table_rows, values

CHECK = "clickhouse.ingestion"


@pytest.fixture(scope="module", params=ENGINES)
def runs(request, tmp_path_factory):
    # Stalled: 10 events an hour for 7 days, the newest 3 h 3 min ago; single-node layout.
    stalled = make_deployment(request, "ingest_stalled")
    stalled.create_posthog_schema()
    stalled.plant_events(1700, first_age=3 * HOUR + 180, spacing=360)
    # Live: one event a minute for 7 days, the newest 30 s ago; sharded layout (sharded_events, writable_events).
    live = make_deployment(request, "ingest_live")
    live.create_posthog_schema(sharded=True)
    live.plant_events(10140, first_age=30, spacing=60, table="sharded_events")
    # Nothing ingested yet, and no Kafka table or materialized view.
    empty = make_deployment(request, "ingest_empty")
    empty.create_posthog_schema(kafka=False)
    # Not a PostHog database at all.
    none = make_deployment(request, "ingest_none")
    out = tmp_path_factory.mktemp(f"ingest-{request.param}")
    return {
        "stalled": run_doctor(stalled, out / "stalled", "--only", CHECK),
        "live": run_doctor(live, out / "live", "--only", CHECK),
        "drop": run_doctor(live, out / "drop", "--only", CHECK, "--option", f"{CHECK}.drop_pct=150"),
        "empty": run_doctor(empty, out / "empty", "--only", CHECK),
        "none": run_doctor(none, out / "none", "--only", CHECK),
    }


def test_a_stalled_ingestion_fails_with_the_runbook_advice(runs):
    result = runs["stalled"].check(CHECK)
    assert result["status"] == "fail"
    assert result["summary"].startswith("no event arrived for 3 h 3 min")
    assert "about 30 were expected at the last 7 days' rate" in result["summary"]
    metrics = result["metrics"]
    assert (metrics["events_last_hour"], metrics["events_typical_hour"], metrics["events_last_day"]) == (0, 10, 210)
    assert 183 <= metrics["ingestion_silence_minutes"] < 185
    assert [r["Events"] for r in table_rows(result, "The same hour")] == [0] + [10] * 7
    assert values(result, "Ingestion")["stored_rows"] == 1700
    texts = [a["text"] for a in result["advice"]]
    assert texts[0].startswith("Restart the ingestion pods") and texts[1].startswith(
        "If ClickHouse itself is not consuming"
    )
    assert "DROP VIEW events_json_mv" in result["advice"][1]["commands"]


def test_the_kafka_path_is_read_from_metadata(runs):
    single = {r["Table"]: r for r in table_rows(runs["stalled"].check(CHECK), "Kafka -> ClickHouse path")}
    assert single["kafka_events_json"]["Feeds / writes to"] == "events_json_mv"
    assert single["events_json_mv"]["Feeds / writes to"] == "events"
    sharded = {r["Table"]: r for r in table_rows(runs["live"].check(CHECK), "Kafka -> ClickHouse path")}
    assert sharded["events_json_mv"]["Feeds / writes to"] == "writable_events"


def test_live_ingestion_is_ok_with_per_minute_counts(runs):
    result = runs["live"].check(CHECK)
    assert result["status"] == "ok"
    assert re.fullmatch(r"events are arriving: newest 3\d s ago, 60 in the last hour \(usually 60\)", result["summary"])
    per_minute = evidence(result, "Events per minute")["points"]
    assert (
        len(per_minute) == 61 and sum(p["value"] for p in per_minute) == 60 and max(p["value"] for p in per_minute) == 1
    )
    assert [r["Events"] for r in table_rows(result, "The same hour")] == [60] * 8
    assert result["metrics"]["events_last_day"] == 1440


def test_a_drop_against_the_usual_hour_warns(runs):
    result = runs["drop"].check(CHECK)
    assert result["status"] == "warn"
    assert result["summary"] == "60 events in the last hour, 100% of the usual 60 for this hour"


def test_no_events_and_no_kafka_path_warns(runs):
    result = runs["empty"].check(CHECK)
    assert result["status"] == "warn"
    assert result["summary"].startswith(
        "no events have arrived in ClickHouse yet; Kafka path: "
        "kafka_events_json is missing (or detached), events_json_mv is missing (or detached)"
    )


def test_kafka_consumers_are_read_only_where_the_server_has_them(runs):
    note = evidence(runs["live"].check(CHECK), "Kafka -> ClickHouse path")["note"]
    version = runs["live"].report["target"]["probes"]["clickhouse"]["version"]
    if tuple(int(p) for p in version.split(".")[:2]) < (23, 8):
        assert f"Kafka consumer state needs ClickHouse 23.8+ (this is {version})" in note
    else:  # chdb has the table (it is read: reading it consumes nothing) but runs no Kafka consumers
        assert "no Kafka consumers in system.kafka_consumers" in note


def test_a_database_without_events_is_skipped(runs):
    result = runs["none"].check(CHECK)
    assert result["status"] == "skipped" and "no events table" in result["summary"]
