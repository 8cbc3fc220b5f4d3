"""A real Postgres seeded like a Postgres-era PostHog, at chosen event volumes, for the Postgres checks' tests.

`posthog_event` is created with PostHog's own DDL (posthog/models/event.py and its migrations: columns,
the primary key, the four indexes by their Django names, the foreign key to posthog_team). Rows are
generated server-side with generate_series, spread evenly over time segments, so the true count in any
time range is known exactly. Each scenario gets its own database, seeded once per test session.

One deviation from PostHog: autovacuum is switched off on the seeded tables (a storage parameter, not
schema), so an autoanalyze cannot refresh statistics behind a test's back. Tests decide when ANALYZE runs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psycopg

# posthog_team trimmed to what the foreign key needs.
TEAM_DDL = """
CREATE TABLE posthog_team (id serial NOT NULL PRIMARY KEY, name varchar(200) NULL, api_token varchar(200) NULL);
INSERT INTO posthog_team (name, api_token) VALUES ('Default project', 'phc_test');
"""

# PostHog's posthog_event (old posthog/models/event.py). Indexes and the foreign key are added after
# the bulk load, as fast loads do; the result in the catalog is the same.
EVENT_COLUMNS = """
    id serial NOT NULL{primary_key},
    event varchar(200) NULL,
    properties jsonb NOT NULL,
    elements jsonb NULL,
    "timestamp" timestamp with time zone NOT NULL,
    team_id integer NOT NULL,
    distinct_id varchar(200) NOT NULL,
    elements_hash varchar(200) NULL,
    created_at timestamp with time zone NULL
"""
EVENT_TABLE_DDL = f"""
CREATE TABLE posthog_event ({EVENT_COLUMNS.format(primary_key=" PRIMARY KEY")}) WITH (autovacuum_enabled = false);
"""
EVENT_INDEXES_DDL = """
CREATE INDEX posthog_event_team_id_a8b4c6dc ON posthog_event USING btree (team_id);
CREATE INDEX posthog_event_idx_distinct_id ON posthog_event USING btree (distinct_id);
CREATE INDEX posthog_eve_element_48becd_idx ON posthog_event USING btree (elements_hash);
CREATE INDEX posthog_eve_timesta_1f6a8c_idx ON posthog_event USING btree ("timestamp", team_id, event);
ALTER TABLE posthog_event ADD CONSTRAINT posthog_event_team_id_a8b4c6dc_fk_posthog_team_id
    FOREIGN KEY (team_id) REFERENCES posthog_team(id) DEFERRABLE INITIALLY DEFERRED NOT VALID;
"""

# posthog_event as PostHog partitioned it in 2020 (migration 0050_event_partitions, undone later): by event
# name, then each event's partition by week of timestamp, each level with a default partition.
PARTITIONED_EVENT_TABLE_DDL = f"""
CREATE TABLE posthog_event ({EVENT_COLUMNS.format(primary_key="")}) PARTITION BY LIST (event);
CREATE UNIQUE INDEX posthog_event_pkey ON posthog_event USING btree (id, "timestamp", event);
CREATE INDEX posthog_event_team_id_a8b4c6dc ON posthog_event USING btree (team_id);
CREATE INDEX posthog_event_idx_distinct_id ON posthog_event USING btree (distinct_id);
CREATE INDEX posthog_eve_element_48becd_idx ON posthog_event USING btree (elements_hash);
CREATE INDEX posthog_eve_timesta_1f6a8c_idx ON posthog_event USING btree ("timestamp", team_id, event);
"""

# `count` events spread evenly over [now - oldest, now - newest): the truth for any range is arithmetic.
EVENT_ROWS = """
INSERT INTO posthog_event (event, properties, elements, "timestamp", team_id, distinct_id, elements_hash, created_at)
SELECT (ARRAY['$pageview', '$autocapture', '$identify', 'signed up'])[1 + g %% 4],
       '{"$current_url": "https://example.com/pricing", "$browser": "Chrome", "$os": "Mac OS X"}'::jsonb,
       '[]'::jsonb, t, 1, 'user-' || (g %% 5000), CASE WHEN g %% 4 = 1 THEN 'hash-' || (g %% 50) END, t
FROM generate_series(1, %(count)s) AS g,
     LATERAL (SELECT now() - make_interval(secs => %(newest)s + (g - 0.5) * (%(oldest)s - %(newest)s) / %(count)s))
         AS x(t)
"""

# The other event-scale tables, trimmed to a few columns (only their size matters to the checks).
RELATED_DDL = """
CREATE TABLE posthog_person (id serial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(),
    properties jsonb NOT NULL DEFAULT '{}', team_id integer NOT NULL, is_identified boolean NOT NULL DEFAULT false)
    WITH (autovacuum_enabled = false);
CREATE TABLE posthog_persondistinctid (id serial PRIMARY KEY, distinct_id varchar(400) NOT NULL,
    person_id integer NOT NULL, team_id integer NOT NULL) WITH (autovacuum_enabled = false);
CREATE TABLE posthog_sessionrecordingevent (id serial PRIMARY KEY, created_at timestamptz, "timestamp" timestamptz
    NOT NULL, session_id varchar(200) NOT NULL, distinct_id varchar(200) NOT NULL, snapshot_data jsonb NOT NULL,
    team_id integer NOT NULL) WITH (autovacuum_enabled = false);
CREATE TABLE posthog_element (id serial PRIMARY KEY, text varchar(10000), tag_name varchar(1000), href varchar(10000),
    attr_id varchar(10000), nth_child integer, nth_of_type integer, attributes jsonb NOT NULL DEFAULT '{}',
    "order" integer, group_id integer) WITH (autovacuum_enabled = false);
INSERT INTO posthog_person (team_id) SELECT 1 FROM generate_series(1, %(persons)s);
INSERT INTO posthog_persondistinctid (distinct_id, person_id, team_id)
    SELECT 'user-' || g, g, 1 FROM generate_series(1, %(persons)s) g;
INSERT INTO posthog_sessionrecordingevent ("timestamp", session_id, distinct_id, snapshot_data, team_id)
    SELECT now() - make_interval(secs => g), 's-' || (g %% 20), 'user-1', '{"type": 3}', 1
    FROM generate_series(1, %(recordings)s) g;
INSERT INTO posthog_element (tag_name, "order", group_id) SELECT 'button', g %% 5, g %% 100
    FROM generate_series(1, %(elements)s) g;
"""

# Django's migration record, with the last PostHog migrations of the 1.29 era.
MIGRATIONS_DDL = """
CREATE TABLE django_migrations (id serial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL,
    applied timestamptz NOT NULL);
INSERT INTO django_migrations (app, name, applied) VALUES
    ('contenttypes', '0001_initial', now() - interval '400 days'),
    ('posthog', '0001_initial', now() - interval '400 days'),
    ('posthog', '0170_project_based_permissioning', now() - interval '30 days'),
    ('posthog', '0171_cohort_description', now() - interval '20 days'),
    ('ee', '0001_initial', now() - interval '400 days');
"""


@dataclass(frozen=True)
class Segment:
    """`count` events spread evenly between `oldest` and `newest` days ago."""

    count: int
    newest: float
    oldest: float

    def in_range(self, newest: float, oldest: float) -> float:
        """How many of this segment's events fall between `newest` and `oldest` days ago."""
        overlap = max(0.0, min(self.oldest, oldest) - max(self.newest, newest))
        return self.count * overlap / (self.oldest - self.newest)


def true_count(segments: tuple[Segment, ...], newest: float, oldest: float) -> float:
    return sum(s.in_range(newest, oldest) for s in segments)


@dataclass(frozen=True)
class Deployment:
    """One seeded database: the URL the doctor gets, the superuser URL for inspecting it, and its truth."""

    name: str
    url: str
    admin_url: str
    segments: tuple[Segment, ...] = ()


_lock = threading.Lock()
_seeded: dict[tuple[str, str], Deployment] = {}


def deployment(
    server,
    name: str,
    segments: tuple[Segment, ...] = (),
    *,
    late: tuple[Segment, ...] = (),
    events_table: bool = True,
    indexes_first: bool = False,
    analyze: bool = True,
    related: bool = True,
    migrations: bool = True,
) -> Deployment:
    """The database `name` on `server`, created and seeded on first use in this test session.

    `late` segments are loaded after ANALYZE (statistics that no longer describe the table);
    `indexes_first` creates the indexes on the empty table, so the bulk load leaves pg_class.reltuples
    untouched (a table never analysed); `analyze=False` skips ANALYZE altogether.
    """
    key = (server.url, name)
    with _lock:
        if key not in _seeded:
            _seeded[key] = _create(
                server,
                name,
                segments,
                late,
                events_table=events_table,
                indexes_first=indexes_first,
                analyze=analyze,
                related=related,
                migrations=migrations,
            )
        return _seeded[key]


def _create(server, name, segments, late, *, events_table, indexes_first, analyze, related, migrations) -> Deployment:
    with psycopg.connect(_with_database(server.admin_url, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" OWNER posthog')
    url = _with_database(server.url, name)
    with psycopg.connect(url, autocommit=True) as conn:  # as PostHog's own role, which owns the database
        conn.execute(TEAM_DDL)
        if migrations:
            conn.execute(MIGRATIONS_DDL)
        if related:
            # Several statements with parameters: bind them client-side.
            psycopg.ClientCursor(conn).execute(RELATED_DDL, {"persons": 2000, "recordings": 3000, "elements": 5000})
        if events_table:
            conn.execute(EVENT_TABLE_DDL)
            if indexes_first:
                conn.execute(EVENT_INDEXES_DDL)
            for segment in segments:
                insert_events(conn, segment)
            if not indexes_first:
                conn.execute(EVENT_INDEXES_DDL)
        flush_statistics(conn)
        if analyze:
            # A larger sample than the default 100 keeps the planner's estimates, which the tests pin
            # within tolerances, from moving with ANALYZE's random sample.
            conn.execute("SET default_statistics_target = 500")
            conn.execute("ANALYZE")
        for segment in late:
            insert_events(conn, segment)
        flush_statistics(conn)
    return Deployment(name, url, _with_database(server.admin_url, name), tuple(segments) + tuple(late))


def partitioned_deployment(server, name: str, segments: tuple[Segment, ...], weeks: int) -> Deployment:
    """Like `deployment`, with posthog_event partitioned the 2020 way over the last `weeks` weeks."""
    key = (server.url, name)
    with _lock:
        if key in _seeded:
            return _seeded[key]
        dep = _create(
            server, name, (), (), events_table=False, indexes_first=False, analyze=False, related=False, migrations=True
        )
        with psycopg.connect(dep.url, autocommit=True) as conn:
            conn.execute(PARTITIONED_EVENT_TABLE_DDL)
            for event, values in (("pageview", "FOR VALUES IN ('$pageview')"), ("default", "DEFAULT")):
                parent = f"posthog_event_{event}"
                conn.execute(
                    f'CREATE TABLE {parent} PARTITION OF posthog_event {values} PARTITION BY RANGE ("timestamp")'
                )
                conn.execute(f"CREATE TABLE {parent}_default PARTITION OF {parent} DEFAULT")
                for week in range(weeks):
                    conn.execute(
                        f"CREATE TABLE {parent}_w{week} PARTITION OF {parent} FOR VALUES FROM "
                        f"(date_trunc('week', now()) - interval '{week} weeks') TO "
                        f"(date_trunc('week', now()) - interval '{week - 1} weeks')"
                    )
            leaves = conn.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'posthog_event_%'")
            for (leaf,) in leaves.fetchall():
                conn.execute(f"ALTER TABLE {leaf} SET (autovacuum_enabled = false)")
            for segment in segments:
                insert_events(conn, segment)
            flush_statistics(conn)
            conn.execute("ANALYZE")
        _seeded[key] = Deployment(name, dep.url, dep.admin_url, tuple(segments))
        return _seeded[key]


def insert_events(conn, segment: Segment) -> None:
    conn.execute(
        EVENT_ROWS, {"count": segment.count, "newest": segment.newest * 86400.0, "oldest": segment.oldest * 86400.0}
    )


def flush_statistics(conn) -> None:
    """Publish this session's pending table counters now. Postgres 15 holds them back up to a second,
    and counters published after an ANALYZE would count as changes since it."""
    try:
        conn.execute("SELECT pg_stat_force_next_flush()")  # takes effect when the session next goes idle
        conn.execute("SELECT 1")
    except psycopg.errors.UndefinedFunction:  # before Postgres 15, counters went out at commit
        time.sleep(0.6)


def _with_database(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


# --- proving the events table was never scanned ---------------------------------------------------


@dataclass(frozen=True)
class ScanCounters:
    seq_scan: int
    seq_tup_read: int
    idx_scan: int


def scan_counters(dep: Deployment, table: str = "posthog_event") -> ScanCounters:
    """The table's scan counters (summed over its partitions, if any), once every doctor session has ended
    and flushed its statistics."""
    wait_for_doctor_sessions_to_end(dep)
    with psycopg.connect(dep.admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT sum(seq_scan), sum(seq_tup_read), coalesce(sum(idx_scan), 0) "
            "FROM pg_stat_user_tables WHERE relid = %(t)s::regclass "
            "OR relid IN (SELECT relid FROM pg_partition_tree(%(t)s))",
            {"t": table},
        ).fetchone()
    return ScanCounters(*(int(v) for v in row))


def wait_for_doctor_sessions_to_end(dep: Deployment, seconds: float = 10.0) -> None:
    """A backend flushes its table statistics when it exits, shortly after the client disconnects."""
    stop_at = time.monotonic() + seconds
    with psycopg.connect(dep.admin_url, autocommit=True) as conn:
        while True:
            left = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'posthog-doctor'"
            ).fetchone()[0]
            if not left:
                return
            if time.monotonic() > stop_at:
                raise AssertionError(f"{left} posthog-doctor session(s) still open after {seconds:.0f} s")
            time.sleep(0.05)


# --- async migrations (posthog/models/async_migration.py) -------------------------------------------

# posthog_asyncmigration as Django creates it from the model: PositiveSmallIntegerField is a smallint with a
# ">= 0" check, defaults live in Django (none in the table), the unique constraint is named "unique name".
# 2021 rows carry `last_error` (text); Django migration 0198_async_migration_error (2022-01-20) dropped it and
# created posthog_asyncmigrationerror; `parameters` (jsonb) came later in 2022.
ASYNC_MIGRATION_COLUMNS = """
    id bigserial NOT NULL PRIMARY KEY,
    name varchar(50) NOT NULL,
    description varchar(400) NULL,
    progress smallint NOT NULL CHECK (progress >= 0),
    status smallint NOT NULL CHECK (status >= 0),
    current_operation_index smallint NOT NULL CHECK (current_operation_index >= 0),
    current_query_id varchar(100) NOT NULL,
    celery_task_id varchar(100) NOT NULL,
    started_at timestamp with time zone NULL,
    finished_at timestamp with time zone NULL,
    {extra}
    posthog_min_version varchar(20) NULL,
    posthog_max_version varchar(20) NULL,
    CONSTRAINT "unique name" UNIQUE (name)
"""
ASYNC_MIGRATION_DDL = {
    "2022": f"""
CREATE TABLE posthog_asyncmigration ({ASYNC_MIGRATION_COLUMNS.format(extra="parameters jsonb NOT NULL,")});
CREATE TABLE posthog_asyncmigrationerror (
    id bigserial NOT NULL PRIMARY KEY,
    created_at timestamp with time zone NOT NULL,
    description text NOT NULL,
    async_migration_id bigint NOT NULL
        REFERENCES posthog_asyncmigration (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX posthog_asyncmigrationerror_async_migration_id_7ea8f2a4
    ON posthog_asyncmigrationerror (async_migration_id);
""",
    "2021": f"CREATE TABLE posthog_asyncmigration ({ASYNC_MIGRATION_COLUMNS.format(extra='last_error text NULL,')});",
}


@dataclass(frozen=True)
class AsyncMigrationRow:
    """One async migration as PostHog's runner leaves it; ages in hours before now (None: not set)."""

    name: str
    status: int
    progress: int = 0
    operation: int = 0
    started_hours_ago: float | None = None
    finished_hours_ago: float | None = None
    query_id: str = ""
    max_version: str = "1.99.9"
    errors: tuple[tuple[float, str], ...] = ()  # (hours ago, description)


def async_migration_deployment(server, name: str, layout: str, rows: tuple[AsyncMigrationRow, ...]) -> Deployment:
    """A database with PostHog's async-migration tables in `layout` ("2022" or "2021") holding `rows`."""
    dep = deployment(server, name, events_table=False, related=False)
    with psycopg.connect(dep.url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS posthog_asyncmigrationerror, posthog_asyncmigration")
        conn.execute(ASYNC_MIGRATION_DDL[layout])
        for row in rows:
            insert_async_migration(conn, layout, row)
    return dep


def insert_async_migration(conn, layout: str, row: AsyncMigrationRow) -> None:
    def ago(hours):
        return None if hours is None else f"{hours * 3600} seconds"

    last_error = row.errors[-1][1] if row.errors else None
    extra_column, extra_value = ("parameters", "'{}'::jsonb") if layout == "2022" else ("last_error", "%(last_error)s")
    migration_id = conn.execute(
        f"""
        INSERT INTO posthog_asyncmigration (name, description, progress, status, current_operation_index,
            current_query_id, celery_task_id, started_at, finished_at, {extra_column}, posthog_min_version,
            posthog_max_version)
        VALUES (%(name)s, 'a migration', %(progress)s, %(status)s, %(operation)s, %(query_id)s, '',
            now() - %(started)s::interval, now() - %(finished)s::interval, {extra_value}, '1.33.0', %(max_version)s)
        RETURNING id
        """,
        {
            "name": row.name,
            "progress": row.progress,
            "status": row.status,
            "operation": row.operation,
            "query_id": row.query_id,
            "started": ago(row.started_hours_ago),
            "finished": ago(row.finished_hours_ago),
            "last_error": last_error,
            "max_version": row.max_version,
        },
    ).fetchone()[0]
    if layout == "2022":
        for hours, description in row.errors:
            conn.execute(
                "INSERT INTO posthog_asyncmigrationerror (created_at, description, async_migration_id) "
                "VALUES (now() - %(ago)s::interval, %(description)s, %(id)s)",
                {"ago": f"{hours * 3600} seconds", "description": description, "id": migration_id},
            )


# --- event definitions (posthog/models/event_definition.py) ----------------------------------------------

# posthog_eventdefinition as Django creates it: the 2022-23 model (the plugin server's upsert names the unique
# constraint posthog_eventdefinition_team_id_name_80fa0b87_uniq), and the 2025+ one with project_id and
# enforcement_mode (definitions written by property-defs-rs).
EVENT_DEFINITION_DDL = {
    "2023": """
CREATE TABLE posthog_eventdefinition (
    id uuid NOT NULL PRIMARY KEY,
    name varchar(400) NOT NULL,
    volume_30_day integer NULL,
    query_usage_30_day integer NULL,
    team_id integer NOT NULL REFERENCES posthog_team (id) DEFERRABLE INITIALLY DEFERRED,
    created_at timestamp with time zone NULL,
    last_seen_at timestamp with time zone NULL,
    CONSTRAINT posthog_eventdefinition_team_id_name_80fa0b87_uniq UNIQUE (team_id, name)
);
CREATE INDEX posthog_eventdefinition_team_id_818ed0f2 ON posthog_eventdefinition (team_id);
""",
    "2025": """
CREATE TABLE posthog_eventdefinition (
    id uuid NOT NULL PRIMARY KEY,
    name varchar(400) NOT NULL,
    volume_30_day integer NULL,
    query_usage_30_day integer NULL,
    team_id integer NOT NULL REFERENCES posthog_team (id) DEFERRABLE INITIALLY DEFERRED,
    project_id bigint NULL,
    created_at timestamp with time zone NULL,
    last_seen_at timestamp with time zone NULL,
    enforcement_mode varchar(10) NOT NULL
);
CREATE UNIQUE INDEX event_definition_proj_uniq ON posthog_eventdefinition (coalesce(project_id, team_id::bigint), name);
CREATE INDEX posthog_eventdefinition_team_id_818ed0f2 ON posthog_eventdefinition (team_id);
CREATE INDEX posthog_eventdef_team_seen_idx ON posthog_eventdefinition (team_id, last_seen_at DESC);
""",
}


def event_definitions_deployment(
    server, name: str, layout: str, definitions: dict[str, float], *, filler: int = 0
) -> Deployment:
    """A database with posthog_eventdefinition in `layout` ("2023" or "2025"): team 1's `definitions` (event name ->
    hours since last seen), plus `filler` other definitions seen long ago (a table too large to scan)."""
    dep = deployment(server, name, events_table=False, related=False)
    extra = ", enforcement_mode" if layout == "2025" else ""
    extra_value = ", 'allow'" if layout == "2025" else ""
    with psycopg.connect(dep.url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS posthog_eventdefinition")
        conn.execute(EVENT_DEFINITION_DDL[layout])
        for event, hours in definitions.items():
            conn.execute(
                f"INSERT INTO posthog_eventdefinition (id, name, team_id, created_at, last_seen_at{extra}) "
                f"VALUES (gen_random_uuid(), %(name)s, 1, now() - interval '30 days', "
                f"now() - make_interval(secs => %(secs)s){extra_value})",
                {"name": event, "secs": hours * 3600},
            )
        if filler:
            conn.execute(
                f"INSERT INTO posthog_eventdefinition (id, name, team_id, created_at, last_seen_at{extra}) "
                f"SELECT gen_random_uuid(), 'custom event ' || g, 1, now() - interval '300 days', "
                f"now() - interval '200 days'{extra_value} FROM generate_series(1, %(n)s) g",
                {"n": filler},
            )
        conn.execute("ANALYZE posthog_eventdefinition")
    return dep
