"""The test bed's ClickHouse schemas are PostHog's, per generation (audit row 33): tables, columns, types, sort keys
and skip indexes as PostHog's snapshots have them (tests/clickhouse_generations.py cites them), with only the
substitutions 18.16 forces (DateTime for DateTime64 and no skip index or TTL), which are named here."""

from __future__ import annotations

import pytest

from tests import clickhouse_generations as gens
from tests.clickhouse_support import ENGINES, make_deployment

EVENT_COLUMNS_2021 = [
    "uuid",
    "event",
    "properties",
    "timestamp",
    "team_id",
    "distinct_id",
    "elements_chain",
    "created_at",
    "person_id",
    "person_properties",
    "group0_properties",
    "group1_properties",
    "group2_properties",
    "group3_properties",
    "group4_properties",
    "$group_0",
    "$group_1",
    "$group_2",
    "$group_3",
    "$group_4",
    "$window_id",
    "$session_id",
    "_timestamp",
    "_offset",
]  # ee/clickhouse/sql/test/__snapshots__/test_schema.ambr @ 7e4c380, test_create_table_query[events]
DLQ_COLUMNS = [
    "id",
    "event_uuid",
    "event",
    "properties",
    "distinct_id",
    "team_id",
    "elements_chain",
    "created_at",
    "ip",
    "site_url",
    "now",
    "raw_payload",
    "error_timestamp",
    "error_location",
    "error",
    "tags",
    "_timestamp",
    "_offset",
]  # posthog/clickhouse/dead_letter_queue.py @ efcc75f; ee/clickhouse/sql/dead_letter_queue.py @ 82e2cd8
WARNING_COLUMNS = ["team_id", "source", "type", "details", "timestamp", "_timestamp", "_offset", "_partition"]
SORT_KEY = "team_id, toDate(timestamp), event, cityHash64(distinct_id), cityHash64(uuid)"


@pytest.fixture(scope="module", params=ENGINES)
def schemas(request):
    found = {}
    for generation in gens.GENERATIONS:
        dep = make_deployment(request, f"schema_{generation}")
        gens.create(dep, generation)
        found[generation] = dep
    return request.param, found


def columns(dep, table: str) -> list[tuple[str, str]]:
    """Name and type of each column in table order (DESCRIBE: 18.16's system.columns has no position)."""
    return [(str(row[0]), str(row[1])) for row in dep.execute(f"DESCRIBE TABLE {dep.database}.`{table}`")]


def tables(dep) -> dict[str, str]:
    return {
        str(n): str(e)
        for n, e in dep.execute(f"SELECT name, engine FROM system.tables WHERE database = '{dep.database}'")
    }


def test_2021_is_a_single_node_with_the_protobuf_kafka_table_and_no_warnings(schemas):
    engine, deps = schemas
    dep = deps["2021"]
    found = tables(dep)
    assert found["events"] == "ReplacingMergeTree" and "sharded_events" not in found
    assert {"kafka_events", "events_mv", "events_dead_letter_queue_mv"} <= set(found)
    assert "ingestion_warnings" not in found and "kafka_events_json" not in found
    event_columns = columns(dep, "events")
    names = [n for n, _ in event_columns]
    assert sorted(names) == sorted(EVENT_COLUMNS_2021) and names[:15] == EVENT_COLUMNS_2021[:15]  # 18.16 lists
    # MATERIALIZED columns after the others
    timestamp = dict(event_columns)["timestamp"]
    assert timestamp == ("DateTime64(6, 'UTC')" if engine == "chdb" else "DateTime")  # 18.16 has no DateTime64
    if engine == "chdb":  # 18.16 cannot hash a UUID: toString(uuid) there
        (key,) = dep.execute(
            f"SELECT sorting_key FROM system.tables WHERE database = '{dep.database}' AND name = 'events'"
        )[0]
        assert key == SORT_KEY


def test_2023_and_2025_are_sharded_with_the_json_kafka_path(schemas):
    _, deps = schemas
    for generation in ("2023", "2025"):
        found = tables(deps[generation])
        assert found["sharded_events"] == "ReplacingMergeTree", generation
        assert {"events", "writable_events", "kafka_events_json", "events_json_mv", "ingestion_warnings"} <= set(found)
        assert "kafka_events" not in found
    names_2023 = [n for n, _ in columns(deps["2023"], "sharded_events")]
    names_2025 = [n for n, _ in columns(deps["2025"], "sharded_events")]
    assert (
        "person_created_at" in names_2023 and "person_mode" not in names_2023
    )  # posthog/models/event/sql.py @ cfd68db
    assert {"person_mode", "inserted_at", "consumer_breadcrumbs"} <= set(names_2025)  # snapshot @ bb3f43d
    assert {"events_recent", "kafka_events_recent_json", "events_recent_json_mv"} <= set(tables(deps["2025"]))
    assert "events_recent" not in tables(deps["2023"])


def test_the_dead_letter_queue_and_the_warnings_are_posthogs_in_every_generation(schemas):
    engine, deps = schemas
    for generation, dep in deps.items():
        assert [n for n, _ in columns(dep, "events_dead_letter_queue")] == DLQ_COLUMNS, generation
    for generation in ("2023", "2025"):
        assert [n for n, _ in columns(deps[generation], "sharded_ingestion_warnings")] == WARNING_COLUMNS
    if engine != "chdb":  # 18.16 has neither skip indexes nor TTL (both later): the only gap, named here
        return
    new = deps["2025"]
    indexes = dict(
        new.execute(
            f"SELECT name, toString(granularity) FROM system.data_skipping_indices WHERE database = '{new.database}' "
            "AND name LIKE 'kafka_timestamp_minmax_%'"
        )
    )
    assert indexes == {
        "kafka_timestamp_minmax_sharded_events": "3",
        "kafka_timestamp_minmax_events_dead_letter_queue": "3",
    }
    (full,) = new.execute(
        f"SELECT engine_full FROM system.tables WHERE database = '{new.database}' AND name = 'events_dead_letter_queue'"
    )[0]
    assert "TTL toDate(_timestamp) + toIntervalWeek(4)" in full and "index_granularity = 512" in full
