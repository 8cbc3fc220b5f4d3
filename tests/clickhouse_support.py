"""PostHog-shaped ClickHouse deployments for the ingestion-check tests, on the oldest and the newest engine.

- "clickhouse-18.16": Debian's ClickHouse server (the session's `clickhouse_server`), with the closest DDL
  that version accepts: DateTime for DateTime64, no codecs, skip indexes, TTL or JSON materialized
  columns, and `cityHash64(toString(uuid))` in the sort key.
- "chdb": the current ClickHouse engine in-process, with PostHog's exact DDL (posthog/models/event/sql.py,
  posthog/clickhouse/dead_letter_queue.py, posthog/models/person/sql.py) minus replication and Kafka
  engines: the Kafka table is a Null table with the same columns, so the materialized view is real.

The schema here is one layout for the single-check tests; each generation PostHog shipped (2021/1.31, 2023,
2025+) is in tests/clickhouse_generations.py, with its sources.

Seeding is done server-side (`INSERT ... SELECT ... FROM system.numbers`) relative to the server's own
`now()`, with times kept at least three minutes away from every window boundary the checks use, so the
exact counts the tests expect do not move while a test runs. Merges are stopped on seeded tables so part
metadata (sizes, time ranges) stays as planted.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tests.conftest import CliResult, require_module, target

ENGINES = ("clickhouse-18.16", "chdb")
HOUR, DAY = 3600, 86400

# --- PostHog's DDL ------------------------------------------------------------------------------------

_KAFKA_COLUMNS = ", _timestamp DateTime, _offset UInt64"

_DLQ_COLUMNS = """
    id UUID, event_uuid UUID, event VARCHAR, properties VARCHAR, distinct_id VARCHAR, team_id Int64,
    elements_chain VARCHAR, created_at {dt}, ip VARCHAR, site_url VARCHAR, now {dt}, raw_payload VARCHAR,
    error_timestamp {dt}, error_location VARCHAR, error VARCHAR, tags Array(VARCHAR)
"""

_EVENTS_COLUMNS = """
    uuid UUID, event VARCHAR, properties VARCHAR{zstd}, timestamp {dt}, team_id Int64, distinct_id VARCHAR,
    elements_chain VARCHAR, created_at {dt}, person_id UUID, person_created_at {dt64}, person_properties VARCHAR{zstd},
    group0_properties VARCHAR{zstd}, group1_properties VARCHAR{zstd}, group2_properties VARCHAR{zstd},
    group3_properties VARCHAR{zstd}, group4_properties VARCHAR{zstd}, group0_created_at {dt64},
    group1_created_at {dt64}, group2_created_at {dt64}, group3_created_at {dt64}, group4_created_at {dt64},
    person_mode Enum8('full' = 0, 'propertyless' = 1, 'force_upgrade' = 2)
"""

# PostHog's materialized columns and skip indexes on the events data table (current engine only).
_EVENTS_MATERIALIZED = """
    , `$group_0` VARCHAR MATERIALIZED replaceRegexpAll(JSONExtractRaw(properties, '$group_0'), '^"|"$', '')
    , `$window_id` VARCHAR MATERIALIZED replaceRegexpAll(JSONExtractRaw(properties, '$window_id'), '^"|"$', '')
    , `$session_id` VARCHAR MATERIALIZED replaceRegexpAll(JSONExtractRaw(properties, '$session_id'), '^"|"$', '')
    , elements_chain_href String MATERIALIZED extract(elements_chain, '(?::|\\")href="(.*?)"')
    , INDEX `minmax_$group_0` `$group_0` TYPE minmax GRANULARITY 1
    , INDEX `minmax_$session_id` `$session_id` TYPE minmax GRANULARITY 1
"""


def events_ddl(modern: bool, name: str = "events") -> str:
    columns = _EVENTS_COLUMNS.format(
        dt="DateTime64(6, 'UTC')" if modern else "DateTime",
        dt64="DateTime64" if modern else "DateTime",
        zstd=" CODEC(ZSTD(3))" if modern else "",
    )
    extra = _KAFKA_COLUMNS + (", inserted_at Nullable(DateTime64(6, 'UTC')) DEFAULT NOW64()" if modern else "")
    if modern:
        extra += _EVENTS_MATERIALIZED + f", INDEX kafka_timestamp_minmax_{name} _timestamp TYPE minmax GRANULARITY 3"
    uuid_hash = "cityHash64(uuid)" if modern else "cityHash64(toString(uuid))"
    return (
        f"CREATE TABLE {name} ({columns} {extra}) ENGINE = ReplacingMergeTree(_timestamp) "
        f"PARTITION BY toYYYYMM(timestamp) "
        f"ORDER BY (team_id, toDate(timestamp), event, cityHash64(distinct_id), {uuid_hash}) "
        f"SAMPLE BY cityHash64(distinct_id)"
    )


def events_stand_in_ddl(modern: bool, name: str) -> str:
    """writable_events / kafka_events_json stand-ins: the same columns on a Null engine (the real ones are
    Distributed and Kafka tables, which need a cluster and a broker)."""
    columns = _EVENTS_COLUMNS.format(
        dt="DateTime64(6, 'UTC')" if modern else "DateTime", dt64="DateTime64" if modern else "DateTime", zstd=""
    )
    extra = _KAFKA_COLUMNS if name.startswith("writable") else ""
    return f"CREATE TABLE {name} ({columns} {extra}) ENGINE = Null"


def events_mv_ddl(database: str, target_table: str) -> str:
    """events_json_mv exactly as PostHog writes it (EVENTS_TABLE_JSON_MV_SQL), without ON CLUSTER. The
    Kafka engine's virtual columns are plain constants here, since the source is a Null table."""
    return (
        f"CREATE MATERIALIZED VIEW events_json_mv TO {database}.{target_table} AS SELECT "
        "uuid, event, properties, timestamp, team_id, distinct_id, elements_chain, created_at, person_id, "
        "person_created_at, person_properties, group0_properties, group1_properties, group2_properties, "
        "group3_properties, group4_properties, group0_created_at, group1_created_at, group2_created_at, "
        "group3_created_at, group4_created_at, person_mode, now() AS _timestamp, toUInt64(0) AS _offset "
        f"FROM {database}.kafka_events_json"
    )


def dlq_ddl(modern: bool) -> str:
    columns = _DLQ_COLUMNS.format(dt="DateTime64(6, 'UTC')" if modern else "DateTime")
    if modern:  # PostHog's exact DDL: Kafka columns, the _timestamp skip index, the 4-week TTL
        return (
            f"CREATE TABLE events_dead_letter_queue ({columns} {_KAFKA_COLUMNS}, "
            "INDEX kafka_timestamp_minmax_events_dead_letter_queue _timestamp TYPE minmax GRANULARITY 3) "
            "ENGINE = ReplacingMergeTree(_timestamp) ORDER BY (id, event_uuid, distinct_id, team_id) "
            "TTL toDate(_timestamp) + INTERVAL 4 WEEK SETTINGS index_granularity=512"
        )
    return (
        f"CREATE TABLE events_dead_letter_queue ({columns} {_KAFKA_COLUMNS}) "
        "ENGINE = ReplacingMergeTree(_timestamp) ORDER BY (id, event_uuid, distinct_id, team_id) "
        "SETTINGS index_granularity=512"
    )


def person_ddls(modern: bool) -> list[str]:
    dt64 = "DateTime64" if modern else "DateTime"
    index = ", INDEX kafka_timestamp_minmax_{} _timestamp TYPE minmax GRANULARITY 3" if modern else "{}"
    return [
        (
            f"CREATE TABLE person (id UUID, created_at {dt64}, team_id Int64, properties VARCHAR, is_identified Int8, "
            f"is_deleted Int8, version UInt64 {_KAFKA_COLUMNS} {index.format('person' if modern else '')}) "
            "ENGINE = ReplacingMergeTree(version) ORDER BY (team_id, id)"
        ),
        (
            f"CREATE TABLE person_distinct_id2 (team_id Int64, distinct_id VARCHAR, person_id UUID, is_deleted Int8, "
            f"version Int64 {_KAFKA_COLUMNS}, _partition UInt64 "
            f"{index.format('person_distinct_id2' if modern else '')}) "
            "ENGINE = ReplacingMergeTree(version) ORDER BY (team_id, distinct_id) SETTINGS index_granularity = 512"
        ),
    ]


# --- deployments --------------------------------------------------------------------------------------

_chdb_folder: list[str] = []


def chdb_path() -> str:
    """The one chdb data folder of this test process (the embedded engine allows one per process)."""
    if not _chdb_folder:
        folder = tempfile.mkdtemp(prefix="phd-chdb-")
        atexit.register(shutil.rmtree, folder, True)
        _chdb_folder.append(folder)
    return _chdb_folder[0]


@dataclass
class Deployment:
    """One PostHog-shaped database on one engine, with the URL the doctor is given."""

    engine: str
    database: str
    url: str
    _client: object = None

    @property
    def modern(self) -> bool:
        return self.engine == "chdb"

    def execute(self, sql: str, *, in_database: bool = True) -> list[tuple]:
        """Run a statement as an admin (in this database); returns rows for SELECTs."""
        if self.modern:
            from posthog_doctor.connectors.clickhouse import _chdb_lock, chdb_session

            session = chdb_session(chdb_path())  # takes the engine's lock itself: not inside it
            with _chdb_lock:
                session.query(f"USE `{self.database if in_database else 'default'}`")
                result = session.query(sql, "JSONCompact")
            text = result.bytes() if result is not None else b""
            return [tuple(r) for r in json.loads(text)["data"]] if text else []
        return self._client.execute(sql)

    def scalar(self, sql: str):
        return self.execute(sql)[0][0]

    @property
    def version(self) -> str:
        return str(self.scalar("SELECT version()"))

    def has_system_table(self, name: str) -> bool:
        return bool(
            int(self.scalar(f"SELECT count() FROM system.tables WHERE database = 'system' AND name = '{name}'"))
        )

    # -- schema --

    def create_posthog_schema(
        self,
        *,
        sharded: bool = False,
        dlq: bool = True,
        persons: bool = True,
        kafka: bool = True,
        writable: bool = True,
    ) -> None:
        data_table = "sharded_events" if sharded else "events"
        self.execute(events_ddl(self.modern, data_table))
        self.stop_merges(data_table)  # every insert stays one part: part metadata is what the tests planted
        if sharded:  # a View stands in for the Distributed `events` (no cluster in the test bed)
            self.execute("CREATE VIEW events AS SELECT * FROM sharded_events")
            if writable:
                self.execute(events_stand_in_ddl(self.modern, "writable_events"))
        if kafka:
            self.execute(events_stand_in_ddl(self.modern, "kafka_events_json"))
            self.execute(events_mv_ddl(self.database, "writable_events" if sharded and writable else data_table))
        if dlq:
            self.execute(dlq_ddl(self.modern))
        if persons:
            for ddl in person_ddls(self.modern):
                self.execute(ddl)

    def stop_merges(self, table: str) -> None:
        self.execute(f"SYSTEM STOP MERGES {self.database}.{table}")

    # -- data --

    def plant_dlq(
        self,
        count: int,
        *,
        location: str,
        error: str,
        age: int,
        spread: int = 1,
        team: str = "1",
        event: str = "'$pageview'",
        properties: str = '\'{"$browser": "Firefox", "plan": "pro"}\'',
        raw_payload: str = '\'{"event": "$pageview", "distinct_id": "someone"}\'',
    ) -> None:
        """`count` DLQ rows with error_timestamp = now - age - (n mod spread) seconds; SQL expressions may
        use `number` (0 .. count-1)."""
        at = f"now() - {age} - modulo(number, {spread})"
        self.execute(
            "INSERT INTO events_dead_letter_queue (id, event_uuid, event, properties, distinct_id, team_id, "
            "elements_chain, created_at, ip, site_url, now, raw_payload, error_timestamp, error_location, error, "
            "tags, _timestamp, _offset) "
            f"SELECT generateUUIDv4(), generateUUIDv4(), {event}, {properties}, concat('user-', toString(number)), "
            f"{team}, '', {at}, '', '', {at}, {raw_payload}, {at}, '{location}', {error}, ['plugin_server'], "
            f"{at} + 1, number FROM system.numbers LIMIT {count}"
        )

    def plant_events(
        self,
        count: int,
        *,
        first_age: int,
        spacing: int,
        table: str = "events",
        team: str = "1",
        event: str = "'$pageview'",
    ) -> None:
        """`count` events, the n-th arriving (and happening) first_age + n * spacing seconds ago."""
        at = f"now() - {first_age} - number * {spacing}"
        self.execute(
            f"INSERT INTO {table} (uuid, event, properties, timestamp, team_id, distinct_id, elements_chain, "
            f"created_at, _timestamp, _offset) SELECT generateUUIDv4(), {event}, '{{}}', {at}, {team}, "
            f"concat('user-', toString(modulo(number, 50))), '', {at}, {at}, number FROM system.numbers LIMIT {count}"
        )


def make_deployment(request, name: str) -> Deployment:
    """A fresh database `phd_<name>` on the engine the test is parametrized with."""
    database = f"phd_{name}"
    if request.param == "chdb":
        require_module("chdb")
        dep = Deployment("chdb", database, f"chdb://{chdb_path()}?database={database}")
        dep.execute(f"DROP DATABASE IF EXISTS {database}", in_database=False)
        dep.execute(f"CREATE DATABASE {database}", in_database=False)
        return dep
    return server_deployment(request.getfixturevalue("clickhouse_server"), database)


def server_deployment(server, database: str) -> Deployment:
    """A fresh database on the real ClickHouse server (dropped first if it exists)."""
    from clickhouse_driver import Client

    admin = urlsplit(server.admin_url)
    connect = dict(
        host=admin.hostname or "127.0.0.1",
        port=admin.port or 9000,
        user=admin.username or "default",
        password=unquote(admin.password or ""),
    )
    Client(**connect, database="default").execute(f"DROP DATABASE IF EXISTS {database}")
    Client(**connect, database="default").execute(f"CREATE DATABASE {database}")
    return Deployment(
        "clickhouse-18.16",
        database,
        server.url.rsplit("/", 1)[0] + f"/{database}",
        Client(**connect, database=database),
    )


# --- running the doctor -----------------------------------------------------------------------------------


def run_doctor(dep: Deployment, out: Path, *args: str) -> CliResult:
    """Run the CLI in this process against `dep` only (other components off), reports in `out`."""
    from posthog_doctor.cli import main

    code = main(["run", *target(clickhouse=dep.url), "--quiet", "--output", str(out), *args])
    return CliResult(code, "", "", out)


def evidence(check: dict, title_start: str) -> dict:
    """The evidence item of a check result whose title starts with `title_start`."""
    return next(e for e in check["evidence"] if e["title"].startswith(title_start))


def values(check: dict, title_start: str) -> dict:
    """A Values evidence item as {key: value}."""
    return {i["key"]: i["value"] for i in evidence(check, title_start)["items"]}


def table_rows(check: dict, title_start: str) -> list[dict]:
    """A Table evidence item as a list of {column: cell}."""
    found = evidence(check, title_start)
    return [dict(zip(found["columns"], row, strict=True)) for row in found["rows"]]


# --- planters for the depth checks (errors, background work, logs, timestamps, kinds of event) --------------


def plant_arrivals(
    dep: Deployment,
    count: int,
    *,
    first_age: int,
    spacing: int,
    skew: int = 0,
    team: str = "1",
    event: str = "'$pageview'",
    table: str = "events",
) -> None:
    """`count` events, the n-th arriving (`_timestamp`) first_age + n * spacing seconds ago and timestamped `skew`
    seconds after its arrival (negative: before)."""
    arrived = f"now() - {first_age} - number * {spacing}"
    dep.execute(
        f"INSERT INTO {table} (uuid, event, properties, timestamp, team_id, distinct_id, elements_chain, created_at, "
        f"_timestamp, _offset) SELECT generateUUIDv4(), {event}, '{{}}', {arrived} + {skew}, {team}, "
        f"concat('user-', toString(modulo(number, 50))), '', {arrived}, {arrived}, number "
        f"FROM system.numbers LIMIT {count}"
    )


# 128 hex characters that do not compress (random functions differ between 18.16 and the current engine).
_NOISE = "concat(" + ", ".join(f"hex(MD5(concat('{salt}', toString(t), toString(rand()))))" for salt in "abcd") + ")"


def plant_log_table(dep: Deployment, name: str, rows: int, *, days: int, ttl: bool = False) -> None:
    """A table in the `system` database shaped like ClickHouse's own logs (MergeTree partitioned by
    toYYYYMM(event_date)), `rows` rows of 128 random hex characters spread over the last `days` days. It stands in for a
    log the server writes itself (chdb writes none; 18.16 only query_log): size, growth and TTL are read from the
    same metadata."""
    engine = "ENGINE = MergeTree PARTITION BY toYYYYMM(event_date) ORDER BY event_time"
    ttl_clause = " TTL event_date + INTERVAL 30 DAY" if ttl else ""
    dep.execute(f"DROP TABLE IF EXISTS system.{name}")
    dep.execute(
        f"CREATE TABLE system.{name} (event_date Date, event_time DateTime, message String) {engine}{ttl_clause}"
    )
    dep.execute(f"SYSTEM STOP MERGES system.{name}")
    dep.execute(
        f"INSERT INTO system.{name} SELECT toDate(t), t, {_NOISE} FROM "
        f"(SELECT now() - 3600 - intDiv(number * {days * 86400 - 7200}, {rows}) AS t FROM system.numbers LIMIT {rows})"
    )


# --- ClickHouse's migration record ------------------------------------------------------------------------

# infi.clickhouse_orm's MigrationHistory as PostHog pre-creates it (migrate_clickhouse, without replication):
# package_name String, module_name String, applied Date.
INFI_MIGRATIONS_DDL = (
    "CREATE TABLE infi_clickhouse_orm_migrations (package_name String, module_name String, applied Date) "
    "ENGINE = MergeTree PARTITION BY toYYYYMM(applied) ORDER BY (package_name, module_name)"
)
# ch_migrate's step record (posthog/clickhouse/migration_tools/tracking.py), without ON CLUSTER and replication.
SCHEMA_MIGRATIONS_DDL = (
    "CREATE TABLE clickhouse_schema_migrations (migration_number UInt32, migration_name String, step_index Int32, "
    "host String, node_role String, direction Enum8('up' = 1, 'down' = 2), checksum String, "
    "applied_at DateTime64(3), success Bool) "
    "ENGINE = MergeTree ORDER BY (migration_number, step_index, host, direction, applied_at)"
)


def record_migrations(dep: Deployment, package: str, modules: dict[str, str]) -> None:
    """Record `modules` (name -> day applied, 'YYYY-MM-DD') as infi does after each migration, creating the table."""
    if not int(
        dep.scalar(
            f"SELECT count() FROM system.tables WHERE database = '{dep.database}' AND name = "
            "'infi_clickhouse_orm_migrations'"
        )
    ):
        dep.execute(INFI_MIGRATIONS_DDL)
    if modules:  # INSERT ... SELECT: the native driver waits for data blocks after an inline VALUES list
        rows = ", ".join(f"('{package}', '{name}', '{day}')" for name, day in modules.items())
        dep.execute(
            "INSERT INTO infi_clickhouse_orm_migrations (package_name, module_name, applied) "
            "SELECT tupleElement(r, 1), tupleElement(r, 2), toDate(tupleElement(r, 3)) "
            f"FROM (SELECT arrayJoin([{rows}]) AS r)"
        )
