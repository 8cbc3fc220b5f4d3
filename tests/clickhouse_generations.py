"""PostHog's ClickHouse schema as three generations shipped it, on ClickHouse 18.16 and on chdb, with planters.

The DDL is written here in the test's own words from PostHog's schema snapshots and DDL generators:

- "2021" (PostHog 1.31, Dec 2021, single node): `ee/clickhouse/sql/test/__snapshots__/test_schema.ambr
  @ 7e4c380` and `ee/clickhouse/sql/dead_letter_queue.py @ 82e2cd8`, the ee-layout copies nearest 1.31
  (`@ 59bad44` itself is not readable). A local `events` ReplacingMergeTree(_timestamp), `kafka_events`
  (Protobuf, topic clickhouse_events_proto) with `events_mv TO events`, the DLQ table with its own Kafka
  table and view, no `_timestamp` skip index, no TTL in the snapshot (PostHog omits it in tests; production
  had 4 weeks), no `ingestion_warnings` (ClickHouse migration 0032_ingestion_warnings came later). The DLQ
  keeps `tags`: the ee-era generator has it, and migration 0023_dead_letter_queue_tags adds it
  (`ADD COLUMN IF NOT EXISTS`) to installs created before it.
- "2023" (sharded layout): `posthog/models/event/sql.py @ cfd68db` (sharded_events, writable_events and a
  Distributed `events`; `kafka_events_json` with `events_json_mv TO writable_events`; person-on-events
  columns), `posthog/models/ingestion_warnings/sql.py @ 732a92a`, the DLQ of
  `posthog/clickhouse/dead_letter_queue.py`.
- "2025" (today): `posthog/clickhouse/test/__snapshots__/test_schema.ambr @ bb3f43d`: the same plus
  `person_mode`, `inserted_at`, `consumer_breadcrumbs`, the `kafka_timestamp_minmax_<table>` skip index
  (GRANULARITY 3), `events_recent` with its own consumer, the DLQ through `writable_events_dead_letter_queue`
  and `ingestion_warnings` through `writable_ingestion_warnings`. Failed events no longer reach the DLQ
  table: they go to the Kafka topic events_plugin_ingestion_dlq, and ClickHouse keeps a `pipeline_step_dlq`
  ingestion warning for each (nodejs/src/worker/ingestion/pipeline-helpers.ts @ b3cd2b3).

What the test bed cannot have, and what stands in for it: no Kafka broker, so every Kafka-engine table is a
Null table with the same columns (its materialized view stays real, with `now()` for the Kafka virtual
columns); no cluster, so a View over the data table stands in for each Distributed read table and a Null
table for each Distributed write table; no ZooKeeper, so Replicated engines are their plain forms (what
PostHog renders without replication). On ClickHouse 18.16 also, because that server has no such types or
clauses: DateTime for DateTime64 (added in 20.1), no CODECs, skip indexes, TTL or Map columns,
`visitParamExtractRaw` for `JSONExtractRaw`, String for LowCardinality(String), and `toString(uuid)` inside
`cityHash64` (18.16 cannot hash a UUID). chdb runs the current engine with the types as PostHog wrote them.

Planters write relative to the server's `now()`, at least three minutes from the window edges the checks
use, so counts hold while a test runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.clickhouse_support import DAY, HOUR, Deployment

GENERATIONS = ("2021", "2023", "2025")
LABELS = {
    "2021": "PostHog 1.31 (Dec 2021), single node",
    "2023": "PostHog 2023, sharded layout",
    "2025": "PostHog 2025+, DLQ in Kafka",
}


@dataclass(frozen=True)
class Types:
    """Column types as this engine can hold them."""

    dt64: str  # DateTime64(6, 'UTC')
    dt64_plain: str  # DateTime64 (the person and group creation times)
    zstd: str  # " CODEC(ZSTD(3))" or ""
    json_raw: str  # the function PostHog's materialized columns use
    low_cardinality: str
    modern: bool

    @staticmethod
    def of(dep: Deployment) -> Types:
        if dep.modern:
            return Types(
                "DateTime64(6, 'UTC')",
                "DateTime64",
                " CODEC(ZSTD(3))",
                "JSONExtractRaw",
                "LowCardinality(VARCHAR)",
                True,
            )
        return Types("DateTime", "DateTime", "", "visitParamExtractRaw", "VARCHAR", False)

    def uuid_hash(self) -> str:
        return "cityHash64(uuid)" if self.modern else "cityHash64(toString(uuid))"


# --- events ------------------------------------------------------------------------------------------


def _base_event_columns(t: Types, generation: str) -> str:
    """The event columns a Kafka message carries, per generation."""
    props_codec = t.zstd if generation == "2025" else ""
    columns = (
        f"uuid UUID, event VARCHAR, properties VARCHAR{props_codec}, timestamp {t.dt64}, team_id Int64, "
        f"distinct_id VARCHAR, elements_chain VARCHAR, created_at {t.dt64}"
    )
    if generation == "2021":  # 7e4c380: person and group columns without their creation times
        return columns + (
            ", person_id UUID, person_properties VARCHAR, group0_properties VARCHAR, group1_properties VARCHAR, "
            "group2_properties VARCHAR, group3_properties VARCHAR, group4_properties VARCHAR"
        )
    columns += (
        f", person_id UUID, person_created_at {t.dt64_plain}, person_properties VARCHAR{t.zstd}, "
        + ", ".join(f"group{i}_properties VARCHAR{t.zstd}" for i in range(5))
        + ", "
        + ", ".join(f"group{i}_created_at {t.dt64_plain}" for i in range(5))
    )
    if generation == "2025":
        columns += ", person_mode Enum8('full' = 0, 'propertyless' = 1, 'force_upgrade' = 2)"
    return columns


def _materialized(t: Types) -> str:
    """PostHog's column_materializer columns on the data table."""
    names = [f"$group_{i}" for i in range(5)] + ["$window_id", "$session_id"]
    return "".join(
        f", `{n}` VARCHAR MATERIALIZED replaceRegexpAll({t.json_raw}(properties, '{n}'), '^\"|\"$', '')" for n in names
    )


def _events_data_table(t: Types, generation: str, name: str) -> str:
    extra = _materialized(t) + ", _timestamp DateTime, _offset UInt64"
    if generation == "2025":
        extra += f", inserted_at Nullable({t.dt64}) DEFAULT {'NOW64()' if t.modern else 'now()'}"
        extra += ", consumer_breadcrumbs Array(String)"
        if t.modern:
            extra += f", INDEX kafka_timestamp_minmax_{name} _timestamp TYPE minmax GRANULARITY 3"
    return (
        f"CREATE TABLE {name} ({_base_event_columns(t, generation)}{extra}) "
        "ENGINE = ReplacingMergeTree(_timestamp) PARTITION BY toYYYYMM(timestamp) "
        f"ORDER BY (team_id, toDate(timestamp), event, cityHash64(distinct_id), {t.uuid_hash()}) "
        "SAMPLE BY cityHash64(distinct_id)"
    )


def _null_table(t: Types, generation: str, name: str, kafka_columns: bool) -> str:
    extra = ", _timestamp DateTime, _offset UInt64" if kafka_columns else ""
    if kafka_columns and generation == "2025":
        extra += ", consumer_breadcrumbs Array(String)"
    return f"CREATE TABLE {name} ({_base_event_columns(t, generation)}{extra}) ENGINE = Null"


def _events_view(db: str, generation: str, name: str, source: str, target: str) -> str:
    """The materialized view from a Kafka table, with PostHog's column list of that generation."""
    columns = "uuid, event, properties, timestamp, team_id, distinct_id, elements_chain, created_at"
    if generation != "2021":  # the 2021 events_mv did not yet copy the person and group columns
        columns += (
            ", person_id, person_created_at, person_properties, group0_properties, group1_properties, "
            "group2_properties, group3_properties, group4_properties, group0_created_at, group1_created_at, "
            "group2_created_at, group3_created_at, group4_created_at"
        )
    if generation == "2025":
        columns += ", person_mode"
    tail = ", now() AS _timestamp, toUInt64(0) AS _offset"
    if generation == "2025":
        tail += ", CAST([], 'Array(String)') AS consumer_breadcrumbs"
    return f"CREATE MATERIALIZED VIEW {name} TO {db}.{target} AS SELECT {columns}{tail} FROM {db}.{source}"


def _events_recent(t: Types) -> str:
    """events_recent (bb3f43d): the last 7 days, partitioned by the hour of arrival."""
    ttl = " TTL toDateTime(inserted_at) + INTERVAL 7 DAY" if t.modern else ""
    ms = "DateTime64(3)" if t.modern else "DateTime"
    return (
        f"CREATE TABLE events_recent ({_base_event_columns(t, '2025')}, _timestamp DateTime, _offset UInt64, "
        f"_partition UInt64, inserted_at {t.dt64} DEFAULT {'NOW64()' if t.modern else 'now()'}, _timestamp_ms {ms}) "
        "ENGINE = ReplacingMergeTree(_timestamp) PARTITION BY toStartOfHour(inserted_at) "
        f"ORDER BY (team_id, toStartOfHour(inserted_at), event, cityHash64(distinct_id), {t.uuid_hash()}){ttl}"
    )


# --- the dead letter queue and ingestion warnings -------------------------------------------------------


def _dlq_columns(t: Types) -> str:
    return (
        f"id UUID, event_uuid UUID, event VARCHAR, properties VARCHAR, distinct_id VARCHAR, team_id Int64, "
        f"elements_chain VARCHAR, created_at {t.dt64}, ip VARCHAR, site_url VARCHAR, now {t.dt64}, "
        f"raw_payload VARCHAR, error_timestamp {t.dt64}, error_location VARCHAR, error VARCHAR, tags Array(VARCHAR)"
    )


def _dlq(t: Types, db: str, generation: str) -> list[str]:
    index = (
        ", INDEX kafka_timestamp_minmax_events_dead_letter_queue _timestamp TYPE minmax GRANULARITY 3"
        if generation == "2025" and t.modern
        else ""
    )
    ttl = " TTL toDate(_timestamp) + INTERVAL 4 WEEK" if t.modern else ""
    target = "writable_events_dead_letter_queue" if generation == "2025" else "events_dead_letter_queue"
    statements = [
        f"CREATE TABLE events_dead_letter_queue ({_dlq_columns(t)}, _timestamp DateTime, _offset UInt64{index}) "
        f"ENGINE = ReplacingMergeTree(_timestamp) ORDER BY (id, event_uuid, distinct_id, team_id){ttl} "
        "SETTINGS index_granularity=512",
        f"CREATE TABLE kafka_events_dead_letter_queue ({_dlq_columns(t)}) ENGINE = Null",
    ]
    if generation == "2025":
        statements.append(
            f"CREATE TABLE writable_events_dead_letter_queue ({_dlq_columns(t)}, _timestamp DateTime, "
            "_offset UInt64) ENGINE = Null"
        )
    statements.append(
        f"CREATE MATERIALIZED VIEW events_dead_letter_queue_mv TO {db}.{target} AS SELECT id, event_uuid, event, "
        "properties, distinct_id, team_id, elements_chain, created_at, ip, site_url, now, raw_payload, "
        "error_timestamp, error_location, error, tags, now() AS _timestamp, toUInt64(0) AS _offset "
        f"FROM {db}.kafka_events_dead_letter_queue"
    )
    return statements


def _ingestion_warnings(t: Types, db: str, generation: str) -> list[str]:
    """ingestion_warnings (sql.py @ 732a92a; bb3f43d routes the view through writable_ingestion_warnings)."""
    columns = f"team_id Int64, source {t.low_cardinality}, type VARCHAR, details VARCHAR{t.zstd}, timestamp {t.dt64}"
    kafka = ", _timestamp DateTime, _offset UInt64, _partition UInt64"
    target = "writable_ingestion_warnings" if generation == "2025" else "sharded_ingestion_warnings"
    statements = [
        f"CREATE TABLE sharded_ingestion_warnings ({columns}{kafka}) ENGINE = MergeTree() "
        "PARTITION BY toYYYYMMDD(timestamp) ORDER BY (team_id, toHour(timestamp), type, source, timestamp)",
        "CREATE VIEW ingestion_warnings AS SELECT * FROM sharded_ingestion_warnings",
        f"CREATE TABLE kafka_ingestion_warnings ({columns}) ENGINE = Null",
    ]
    if generation == "2025":
        statements.append(f"CREATE TABLE writable_ingestion_warnings ({columns}{kafka}) ENGINE = Null")
    statements.append(
        f"CREATE MATERIALIZED VIEW ingestion_warnings_mv TO {db}.{target} AS SELECT team_id, source, type, details, "
        f"timestamp, now() AS _timestamp, toUInt64(0) AS _offset, toUInt64(0) AS _partition "
        f"FROM {db}.kafka_ingestion_warnings"
    )
    return statements


def _persons(t: Types) -> list[str]:
    return [
        f"CREATE TABLE person (id UUID, created_at {t.dt64_plain}, team_id Int64, properties VARCHAR, "
        "is_identified Int8, is_deleted Int8 DEFAULT 0, version UInt64, _timestamp DateTime, _offset UInt64) "
        "ENGINE = ReplacingMergeTree(version) ORDER BY (team_id, id)",
        "CREATE TABLE person_distinct_id2 (team_id Int64, distinct_id VARCHAR, person_id UUID, is_deleted Int8, "
        "version Int64 DEFAULT 1, _timestamp DateTime, _offset UInt64, _partition UInt64) "
        "ENGINE = ReplacingMergeTree(version) ORDER BY (team_id, distinct_id) SETTINGS index_granularity = 512",
    ]


# --- a whole generation ----------------------------------------------------------------------------------


def schema(dep: Deployment, generation: str) -> list[str]:
    """Every CREATE statement of `generation`, in the order PostHog's migrations run them."""
    t, db = Types.of(dep), dep.database
    if generation == "2021":
        return [
            _events_data_table(t, generation, "events"),
            _null_table(t, generation, "kafka_events", kafka_columns=False),
            _events_view(db, generation, "events_mv", "kafka_events", "events"),
            *_persons(t),
            *_dlq(t, db, generation),
        ]
    statements = [
        _events_data_table(t, generation, "sharded_events"),
        "CREATE VIEW events AS SELECT * FROM sharded_events",
        _null_table(t, generation, "writable_events", kafka_columns=True),
        _null_table(t, generation, "kafka_events_json", kafka_columns=False),
        _events_view(db, generation, "events_json_mv", "kafka_events_json", "writable_events"),
        *_persons(t),
        *_dlq(t, db, generation),
        *_ingestion_warnings(t, db, generation),
    ]
    if generation == "2025":
        statements += [
            _events_recent(t),
            _null_table(t, generation, "writable_events_recent", kafka_columns=True),
            _null_table(t, generation, "kafka_events_recent_json", kafka_columns=False),
            _events_view(db, generation, "events_recent_json_mv", "kafka_events_recent_json", "writable_events_recent"),
        ]
    return statements


def create(dep: Deployment, generation: str) -> None:
    for statement in schema(dep, generation):
        dep.execute(statement)
    dep.stop_merges(events_table(generation))  # parts stay as planted


def events_table(generation: str) -> str:
    return "events" if generation == "2021" else "sharded_events"


def has_ingestion_warnings(generation: str) -> bool:
    return generation != "2021"


# --- planters --------------------------------------------------------------------------------------------


def plant_events(dep: Deployment, generation: str, count: int, *, first_age: int, spacing: int) -> None:
    """`count` events, the n-th arriving (and happening) first_age + n * spacing seconds ago."""
    at = f"now() - {first_age} - number * {spacing}"
    dep.execute(
        f"INSERT INTO {events_table(generation)} (uuid, event, properties, timestamp, team_id, distinct_id, "
        f"elements_chain, created_at, _timestamp, _offset) SELECT generateUUIDv4(), '$pageview', "
        f"'{{\"$session_id\": \"s1\"}}', {at}, 1, concat('user-', toString(modulo(number, 50))), '', {at}, {at}, "
        f"number FROM system.numbers LIMIT {count}"
    )


def plant_healthy_traffic(dep: Deployment, generation: str) -> None:
    """One event a minute for seven days, the newest 30 seconds ago."""
    plant_events(dep, generation, 10_140, first_age=30, spacing=60)


def plant_stalled_traffic(dep: Deployment, generation: str) -> None:
    """Ten events an hour for seven days, then nothing for 3 h 3 min: a stall the ingestion check must name."""
    plant_events(dep, generation, 1_700, first_age=3 * HOUR + 180, spacing=360)


def plant_dlq_rows(
    dep: Deployment,
    count: int,
    *,
    location: str,
    error: str,
    age: int,
    spread: int = 60,
    error_time: bool = True,
    tags: str = "['plugin_server', 'ingest_event']",
    team: str = "2",
) -> None:
    """DLQ rows as PostHog's producers wrote them. `error_time=False` is the 1.30-1.31 capture endpoint, which
    sent `failure_timestamp` instead, so ClickHouse stored the epoch in error_timestamp and team_id 0
    (posthog/api/capture.py of that era: `data["failure_timestamp"] = datetime.now().isoformat()`)."""
    at = f"now() - {age} - modulo(number, {spread})"
    error_at = at if error_time else "toDateTime(0)"
    dep.execute(
        "INSERT INTO events_dead_letter_queue (id, event_uuid, event, properties, distinct_id, team_id, "
        "elements_chain, created_at, ip, site_url, now, raw_payload, error_timestamp, error_location, error, "
        "tags, _timestamp, _offset) "
        f"SELECT generateUUIDv4(), generateUUIDv4(), '$pageview', '{{\"$browser\": \"Firefox\"}}', "
        f"concat('user-', toString(number)), {team if error_time else '0'}, '', {at}, '', 'https://app.example.com', "
        f"{at}, '{{\"event\": \"$pageview\"}}', {error_at}, '{location}', {error}, {tags}, {at} + 1, number "
        f"FROM system.numbers LIMIT {count}"
    )


def warning_details(**details: str) -> str:
    """`details` as the plugin server writes it: JSON.stringify of an object, so no spaces."""
    return json.dumps(details, separators=(",", ":"))


def plant_warnings(
    dep: Deployment, count: int, *, type_: str, details_sql: str, age: int, spread: int = 60, team: str = "2"
) -> None:
    """`count` ingestion_warnings rows of one type, `age + (n mod spread)` seconds old; details is SQL."""
    at = f"now() - {age} - modulo(number, {spread})"
    dep.execute(
        "INSERT INTO sharded_ingestion_warnings (team_id, source, type, details, timestamp, _timestamp, _offset, "
        f"_partition) SELECT {team}, 'plugin-server', '{type_}', {details_sql}, {at}, {at}, number, 0 "
        f"FROM system.numbers LIMIT {count}"
    )


def pipeline_step_dlq_details(step: str, error_sql: str) -> str:
    """The details of a `pipeline_step_dlq` warning (pipeline-helpers.ts @ b3cd2b3, sendMessageToDLQ), as SQL:
    {"distinctId", "eventUuid", "error", "event", "step"}, JSON.stringify'd."""
    return (
        'concat(\'{"distinctId":"user-\', toString(number), \'","eventUuid":"\', toString(generateUUIDv4()), '
        f'\'","error":"\', {error_sql}, \'","event":"$pageview","step":"{step}"}}\')'
    )


# What a dead-lettering incident leaves in ClickHouse, per generation: (rows, still happening in the last hour)
DEAD_LETTERED = {"2021": 40, "2023": 35, "2025": 30}


def plant_dead_letters(dep: Deployment, generation: str) -> None:
    """An incident still under way: events failing in the last hour, as each generation records them."""
    if generation == "2021":
        # The capture endpoint lost Postgres (rows without an error time) and the plugin server failed on others.
        plant_dlq_rows(
            dep,
            25,
            location="django_server_capture_endpoint",
            error="'Unable to fetch team from Postgres. Error: OperationalError(\\'could not connect to server\\')'",
            age=600,
            error_time=False,
            tags="[]",
        )
        plant_dlq_rows(
            dep,
            15,
            location="plugin_server_ingest_event",
            error="'ingestEvent failed. Error: Cannot read property \\'uuid\\' of undefined'",
            age=900,
        )
    elif generation == "2023":
        plant_dlq_rows(
            dep,
            35,
            location="plugin_server_ingest_event:processPersonsStep",
            error="'Event ingestion failed. Error: deadlock detected'",
            age=700,
        )
    else:
        # Nothing reaches the DLQ table any more: a pipeline_step_dlq warning per event (alwaysSend).
        plant_warnings(
            dep,
            30,
            type_="pipeline_step_dlq",
            details_sql=pipeline_step_dlq_details("processPersonsStep", "'deadlock detected'"),
            age=700,
        )


def plant_benign_warnings(dep: Deployment, generation: str) -> None:
    """Warnings every busy install has that lose no data (an identify PostHog refused to merge)."""
    if not has_ingestion_warnings(generation):
        return
    plant_warnings(
        dep,
        3,
        type_="cannot_merge_already_identified",
        details_sql='concat(\'{"sourcePersonDistinctId":"a-\', toString(number), '
        '\'","targetPersonDistinctId":"b","eventUuid":"\', toString(generateUUIDv4()), \'"}\')',
        age=2 * HOUR,
        spread=3 * HOUR,
    )


__all__ = [
    "DAY",
    "DEAD_LETTERED",
    "GENERATIONS",
    "LABELS",
    "create",
    "events_table",
    "has_ingestion_warnings",
    "plant_benign_warnings",
    "plant_dead_letters",
    "plant_dlq_rows",
    "plant_healthy_traffic",
    "plant_stalled_traffic",
    "plant_warnings",
    "pipeline_step_dlq_details",
    "schema",
    "warning_details",
]
