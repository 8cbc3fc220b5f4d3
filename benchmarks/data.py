"""PostHog-shaped data generated server-side, at a scale factor.

Per unit of scale:
- ClickHouse `events`: 20M events over the last 120 days (five monthly partitions), PostHog's DDL as the test
  bed uses it on 18.16 (tests/clickhouse_support.py), with payloads the size posthog-js sends (about 1.2 kB
  of properties, person properties, an elements chain on autocapture events);
- ClickHouse `events_dead_letter_queue`: 2M rows over the last four weeks (PostHog's TTL), 120 causes (8 error
  locations x 15 error messages) in a skewed mix, error texts carrying per-row uuids, numbers, ips and ids as
  real ones do, with the event's properties and raw payload;
- Postgres `posthog_event`: 5M events over the last 120 days, PostHog's DDL and indexes
  (tests/postgres_support.py), then VACUUM ANALYZE as autovacuum would have done.

Every row is made by the server (`INSERT ... SELECT ... FROM numbers()` / `generate_series`); a scale is
reached by adding whole units to what is already there, so scale 2 after scale 1 only adds one unit. Times
are relative to the server's `now()` when a unit is added.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from tests.clickhouse_support import dlq_ddl, events_ddl, events_mv_ddl, events_stand_in_ddl, person_ddls
from tests.postgres_support import EVENT_INDEXES_DDL, EVENT_TABLE_DDL, MIGRATIONS_DDL, RELATED_DDL, TEAM_DDL

# Scale 1 is four units (so scales 0.25, 0.5 and 0.75 exist: the growth of a 4x larger deployment can be measured
# where the disk does not hold scale 4).
UNITS_PER_SCALE = 4
CH_EVENTS_PER_UNIT = 5_000_000
CH_DLQ_PER_UNIT = 500_000
PG_EVENTS_PER_UNIT = 1_250_000
EVENT_DAYS = 120
DLQ_DAYS = 28
CH_CHUNK = 5_000_000  # rows per INSERT (progress, and parts of a realistic size)
PG_CHUNK = 1_250_000
DATABASE = "posthog"

# --- ClickHouse -----------------------------------------------------------------------------------------

# The properties posthog-js sends with a pageview (about 1.2 kB), varied per row. `{n}` is the row number
# expression, `{ts}` its Unix time, `{did}` its distinct id.
_PROPERTIES = (
    "concat('{{\"$os\": \"', arrayElement(['Mac OS X', 'Windows', 'Linux', 'iOS', 'Android'], 1 + {n} % 5), "
    "'\", \"$browser\": \"', arrayElement(['Chrome', 'Firefox', 'Safari', 'Edge'], 1 + intDiv({n}, 5) % 4), "
    '\'", "$device_type": "Desktop", "$current_url": "https://app.example.com/\', '
    "arrayElement(['insights', 'dashboard', 'events', 'persons', 'settings/project', 'pricing'], 1 + {n} % 6), "
    '\'?utm_source=newsletter&ref=\', toString({n} % 977), \'", "$host": "app.example.com", "$pathname": "/\', '
    "arrayElement(['insights', 'dashboard', 'events', 'persons', 'settings/project', 'pricing'], 1 + {n} % 6), "
    '\'", "$browser_version": \', toString(100 + {n} % 27), \', "$screen_height": 1080, "$screen_width": 1920, '
    '"$viewport_height": 947, "$viewport_width": 1848, "$lib": "web", "$lib_version": "1.96.1", '
    '"$insert_id": "\', lower(hex(cityHash64({n}, 11))), \'", "$time": \', toString({ts}), \'.327, '
    '"distinct_id": "\', {did}, \'", "$device_id": "018c\', lower(hex(cityHash64({n} % 500000, 12))), '
    '\'", "$session_id": "018c\', lower(hex(cityHash64(intDiv({n}, 40), 13))), \'", "$window_id": "018c\', '
    'lower(hex(cityHash64(intDiv({n}, 40), 14))), \'", "$pageview_id": "018c\', lower(hex(cityHash64({n}, 15))), '
    '\'", "$referrer": "$direct", "$referring_domain": "$direct", "$initial_referrer": '
    '"https://www.google.com/", "$initial_referring_domain": "www.google.com", "$active_feature_flags": '
    '["new-onboarding", "billing-v2", "session-recording-canvas"], "$feature/new-onboarding": true, '
    '"$feature/billing-v2": "test", "$feature/session-recording-canvas": false, "token": '
    '"phc_Wq8sT1aVbN3cXz7yU2kLmP9oI4jH6gF5dS0", "$groups": {{"organization": "org-\', toString({n} % 311), '
    '\'"}}, "$geoip_city_name": "Berlin", "$geoip_country_name": "Germany", "$geoip_country_code": "DE", '
    '"$geoip_continent_name": "Europe", "$geoip_continent_code": "EU", "$geoip_latitude": 52.5196, '
    '"$geoip_longitude": 13.4069, "$geoip_time_zone": "Europe/Berlin", "$ip": "\', {ip}, '
    '\'", "$sent_at": "2024-01-01T00:00:00.000Z", "$is_identified": \', if({n} % 3 = 0, \'true\', \'false\'), '
    "', \"$process_person_profile\": true}}')"
)
_PERSON_PROPERTIES = (
    'concat(\'{{"email": "user\', toString({n} % 500000), \'@example.com", "name": "User \', '
    "toString({n} % 500000), '\", \"plan\": \"', arrayElement(['free', 'pro', 'enterprise'], 1 + {n} % 3), "
    '\'", "$initial_browser": "Chrome", "$initial_os": "Mac OS X", "$initial_referring_domain": '
    '"www.google.com", "$initial_current_url": "https://app.example.com/signup", "$geoip_country_code": '
    '"DE", "$creator_event_uuid": "018c\', lower(hex(cityHash64({n} % 500000, 16))), \'"}}\')'
)
_ELEMENTS_CHAIN = (
    'if({n} % 4 = 1, concat(\'button.btn.btn-primary:attr__class="btn btn-primary"attr__data-attr="save-\', '
    'toString({n} % 97), \'"nth-child="2"nth-of-type="1"text="Save";form.insight-form:nth-child="1";'
    'div.page:attr__id="main"nth-child="1";body:nth-child="2"\'), \'\')'
)
_EVENT_NAME = (
    "arrayElement(['$pageview', '$autocapture', '$pageview', '$pageleave', '$identify', 'insight viewed', "
    "'$feature_flag_called', 'dashboard loaded'], 1 + {n} % 8)"
)
_IP = "concat('203.0.', toString({n} % 256), '.', toString(intDiv({n}, 256) % 256))"


def _fill(template: str, n: str, ts: str = "0", did: str = "''") -> str:
    return template.format(n=n, ts=ts, did=did, ip=_IP.format(n=n))


def events_insert(unit: int, offset: int, count: int, *, step: float | None = None, first: int | None = None) -> str:
    """`count` events of unit `unit` (rows offset .. offset+count of EVENTS_PER_UNIT), spread evenly over the
    last EVENT_DAYS days; each unit's rows fall between the previous unit's (a denser deployment). `step` (seconds
    between rows) and `first` (the first row's number, which varies its content) serve the live trickle."""
    step = EVENT_DAYS * 86400 / CH_EVENTS_PER_UNIT if step is None else step
    n = f"(number + {unit * CH_EVENTS_PER_UNIT if first is None else first})"
    did = f"concat('user-', toString({n} % 500000))"
    return f"""
INSERT INTO events (uuid, event, properties, timestamp, team_id, distinct_id, elements_chain, created_at,
    person_id, person_created_at, person_properties, group0_properties, group1_properties, group2_properties,
    group3_properties, group4_properties, group0_created_at, group1_created_at, group2_created_at,
    group3_created_at, group4_created_at, person_mode, _timestamp, _offset)
SELECT generateUUIDv4(), {_fill(_EVENT_NAME, n)}, {_fill(_PROPERTIES, n, "toUInt32(at)", did)}, at,
    arrayElement([1, 1, 1, 1, 1, 1, 2, 2, 3, 4], 1 + {n} % 10), {did}, {_fill(_ELEMENTS_CHAIN, n)}, at,
    toUUID(concat('018c0000-0000-7000-8000-', substring(lower(hex(cityHash64({n} % 500000, 17))), 1, 12))),
    at - 86400 * 30, {_fill(_PERSON_PROPERTIES, n)},
    concat('{{"name": "Org ', toString({n} % 311), '", "plan": "pro"}}'), '', '', '', '', at - 86400 * 90,
    toDateTime(0), toDateTime(0), toDateTime(0), toDateTime(0), 'full', at + {n} % 5, number
FROM (SELECT number, toDateTime(now() - toUInt32((number + {unit} / {max(unit + 1, 1)}) * {step})) AS at
      FROM numbers({offset}, {count}))
"""


# Error locations PostHog writes (posthog-facts.md section 1) and error messages seen in the wild, with the
# parts that vary per row: {n} a number, {s} a timeout, {u} a uuid, {ip} an address, {id} a token-like id,
# {key} a property name.
DLQ_LOCATIONS = [
    "plugin_server_ingest_event:pluginsProcessEventStep",
    "plugin_server_ingest_event:processPersonsStep",
    "plugin_server_ingest_event:prepareEventStep",
    "plugin_server_ingest_event:createEventStep",
    "django_server_capture_endpoint",
    "plugin_server_ingest_event",
    "plugin_server_ingest_event:populateTeamDataStep",
    "plugin_server_ingest_event:emitToBufferStep",
]
DLQ_ERRORS = [
    "Event ingestion failed. Error: timeout of {s}ms exceeded for plugin {n}",
    "Event ingestion failed. Error: Could not find person with uuid {u}",
    "Event ingestion failed. Error: Broker: Message size too large",
    "Event ingestion failed. Error: Cannot read properties of undefined (reading '{key}')",
    (
        'Unable to fetch team from Postgres. Error: OperationalError(\'connection to server at "{ip}", port 5432 '
        "failed: Connection refused')"
    ),
    (
        'Event ingestion failed. Error: duplicate key value violates unique constraint "posthog_person_pkey" '
        "DETAIL: Key (id)=({n}) already exists."
    ),
    'Event ingestion failed. Error: invalid input syntax for type uuid: "{id}"',
    "Event ingestion failed. Error: KafkaJSError: The group is rebalancing, so a rejoin is needed",
    "Event ingestion failed. Error: connect ETIMEDOUT {ip}:6379",
    "Event ingestion failed. Error: Invalid team token {id}",
    "Event ingestion failed. Error: value too long for type character varying(200) (got {n} characters)",
    "Event ingestion failed. Error: ClickHouse returned 503: Too many simultaneous queries. Maximum: 100",
    (
        "Event ingestion failed. Error: Plugin {n} (posthog-geoip-plugin) threw: TypeError: Cannot convert undefined "
        "or null to object"
    ),
    "ingestEvent failed. Error: Request failed with status code 502",
    "Event ingestion failed. Error: Unexpected token < in JSON at position {n}",
]
DLQ_CAUSES = len(DLQ_LOCATIONS) * len(DLQ_ERRORS)


def _sql_array(items: list[str]) -> str:
    return "[" + ", ".join("'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'" for s in items) + "]"


# The DLQ is written as Kafka delivers it: in time order, a few seconds of events per insert, which merges join
# into parts that each hold a stretch of time. The benchmark inserts 6 hours at a time, oldest first (one insert
# of four weeks would put every day into every part: a layout no live DLQ has).
DLQ_CHUNK_SECONDS = 6 * 3600


def time_ordered_chunks(rows: int, chunks: int) -> list[tuple[int, int]]:
    """(first row, rows) of `chunks` slices of rows 0 .. rows-1, oldest first (row 0 is the newest)."""
    bounds = [rows * i // chunks for i in range(chunks + 1)]
    return [(bounds[i], bounds[i + 1] - bounds[i]) for i in reversed(range(chunks))]


def dlq_insert(
    unit: int,
    offset: int,
    count: int,
    *,
    seconds: float = DLQ_DAYS * 86400,
    skew: int = 3,
    first: int | None = None,
    newest_age: int = 0,
    total: int | None = None,
) -> str:
    """`count` DLQ rows of unit `unit`, over the last `seconds` (DLQ_DAYS days); cause c (0 .. DLQ_CAUSES-1) is
    picked with a skewed distribution (a few causes hold most rows, as in real queues; a higher `skew`
    concentrates them more) and is the pair (location c mod 8, message c div 8). Row n of the unit gets Kafka
    offset `first` + n (default: unit * CH_DLQ_PER_UNIT + n), which tells the units apart. `total` rows (of
    which this insert may be a slice, rows offset .. offset+count) spread over `seconds`, the newest
    `newest_age` seconds old."""
    first = unit * CH_DLQ_PER_UNIT if first is None else first
    step = seconds / (total or CH_DLQ_PER_UNIT)
    n = f"(number + {first})"
    did = f"concat('user-', toString({n} % 500000))"
    kinds = {"n": 1, "u": 2, "ip": 3, "id": 4, "key": 5, "s": 8}
    texts, slots = [[], [], []], [[], []]
    for template in DLQ_ERRORS:  # at most two varying parts: text0 {a} text1 {b} text2
        pieces = re.split(r"\{(n|u|ip|id|key|s)\}", template)
        found = pieces[1::2]
        for i in range(3):
            texts[i].append(pieces[2 * i] if 2 * i < len(pieces) else "")
        for i in range(2):
            slots[i].append((kinds[found[i]] + (5 if i and found[i] == "n" else 0)) if i < len(found) else 7)
    values = (
        f"[toString(cityHash64({n}, 21) % 100000), toString(generateUUIDv4()), "
        f"concat('10.0.', toString({n} % 4), '.', toString({n} % 211)), "
        f"concat('phc_', lower(hex(cityHash64({n}, 22)))), "
        f"arrayElement(['length', 'properties', 'distinct_id', 'map', '$set'], 1 + {n} % 5), "
        f"toString({n} % 97), '', toString(5000 * (1 + {n} % 12))]"
    )
    message = f"1 + intDiv(cause, {len(DLQ_LOCATIONS)})"
    error = (
        f"concat(arrayElement({_sql_array(texts[0])}, {message}), "
        f"arrayElement(vals, arrayElement({slots[0]}, {message})), "
        f"arrayElement({_sql_array(texts[1])}, {message}), "
        f"arrayElement(vals, arrayElement({slots[1]}, {message})), "
        f"arrayElement({_sql_array(texts[2])}, {message}))"
    )
    properties = _fill(_PROPERTIES, n, "toUInt32(at)", did)
    return f"""
INSERT INTO events_dead_letter_queue (id, event_uuid, event, properties, distinct_id, team_id, elements_chain,
    created_at, ip, site_url, now, raw_payload, error_timestamp, error_location, error, tags, _timestamp, _offset)
SELECT generateUUIDv4(), generateUUIDv4(), {_fill(_EVENT_NAME, n)}, {properties} AS props, {did},
    arrayElement([1, 1, 1, 1, 1, 1, 2, 2, 3, 4], 1 + {n} % 10), '', at, {_IP.format(n=n)},
    'https://app.example.com', at,
    concat('{{"event": "', {_fill(_EVENT_NAME, n)}, '", "distinct_id": "', {did}, '", "properties": ', props,
           ', "timestamp": "', toString(at), '", "uuid": "', toString(generateUUIDv4()), '"}}'),
    at, arrayElement({_sql_array(DLQ_LOCATIONS)}, 1 + cause % {len(DLQ_LOCATIONS)}), {error},
    if(cause % {len(DLQ_LOCATIONS)} = 4, ['django_server'], ['plugin_server', 'ingest_event']),
    at + 1 + {n} % 4, {n}
FROM (SELECT number,
             toDateTime(now() - {newest_age} - toUInt32((number + {unit} / {max(unit + 1, 1)}) * {step})) AS at,
             toUInt32(pow((cityHash64({n}, 20) % 1000000) / 1000000, {skew}) * {DLQ_CAUSES})
                 AS cause, {values} AS vals
      FROM numbers({offset}, {count}))
"""


# --- ingestion warnings -----------------------------------------------------------------------------------

# PostHog's ingestion_warnings (posthog/models/ingestion_warnings/sql.py @ 732a92a): a Distributed table over
# sharded_ingestion_warnings. On one node the benchmark keeps the data table itself under the read name, with
# the data table's partitioning and sort key (a View would stand in for the Distributed table on 18.16 less
# faithfully: 18.16 does not push conditions into a view).
WARNINGS_DDL = (
    "CREATE TABLE ingestion_warnings (team_id Int64, source VARCHAR, type VARCHAR, details VARCHAR, "
    "timestamp DateTime, _timestamp DateTime, _offset UInt64, _partition UInt64) ENGINE = MergeTree() "
    "PARTITION BY toYYYYMMDD(timestamp) ORDER BY (team_id, toHour(timestamp), type, source, timestamp)"
)
WARNINGS_PER_UNIT = 75_000  # warnings that lose nothing, over WARNING_DAYS
WARNING_DAYS = 30
MIRRORED_EVERY = 20  # one DLQ row in this many also has a pipeline_step_dlq warning (PostHog wrote both, 2024)
KAFKA_ONLY_PER_UNIT = 5_000  # pipeline_step_dlq warnings of events dead-lettered to Kafka only, last 7 days
BENIGN_TYPES = [
    "cannot_merge_already_identified",
    "cannot_merge_already_identified",
    "event_timestamp_in_future",
    "ignored_invalid_timestamp",
    "person_properties_size_violation",
    "client_ingestion_warning",
]


def warnings_inserts(unit: int) -> list[str]:
    """Unit `unit`'s ingestion warnings: benign ones (rate-limited types, details as the plugin server writes
    them), a pipeline_step_dlq warning for every MIRRORED_EVERY-th DLQ row of the unit (same event uuid, error
    and time: the `sendEventToDLQ` era wrote both), and warnings of events dead-lettered to Kafka only."""
    step = WARNING_DAYS * 86400 / WARNINGS_PER_UNIT
    n = f"(number + {unit * WARNINGS_PER_UNIT})"
    benign = f"""
INSERT INTO ingestion_warnings (team_id, source, type, details, timestamp, _timestamp, _offset, _partition)
SELECT 1 + {n} % 20, 'plugin-server', arrayElement({_sql_array(BENIGN_TYPES)}, 1 + {n} % {len(BENIGN_TYPES)}),
    concat('{{"sourcePersonDistinctId":"user-', toString({n} % 500000), '","targetPersonDistinctId":"user-',
           toString(({n} + 7) % 500000), '","eventUuid":"', toString(generateUUIDv4()), '"}}'),
    at, at, {n}, 0
FROM (SELECT number, toDateTime(now() - toUInt32((number + {unit} / {unit + 1}) * {step})) AS at
      FROM numbers({WARNINGS_PER_UNIT}))
"""
    step_of_location = (
        "if(position(error_location, ':') > 0, substring(error_location, position(error_location, ':') + 1), "
        "error_location)"
    )
    mirrored = f"""
INSERT INTO ingestion_warnings (team_id, source, type, details, timestamp, _timestamp, _offset, _partition)
SELECT team_id, 'plugin-server', 'pipeline_step_dlq',
    {_details("distinct_id", "toString(event_uuid)", "error", "event", step_of_location)},
    error_timestamp, _timestamp, _offset, 0
FROM events_dead_letter_queue
WHERE _offset >= {unit * CH_DLQ_PER_UNIT} AND _offset < {(unit + 1) * CH_DLQ_PER_UNIT}
  AND _offset % {MIRRORED_EVERY} = 0
"""
    k = f"(number + {unit * KAFKA_ONLY_PER_UNIT})"
    kafka_step = 7 * 86400 / KAFKA_ONLY_PER_UNIT
    error = (
        f"arrayElement(['Merge limit exceeded for team 1 (', 'deadlock detected (process ', "
        f"'Invalid person properties size: '], 1 + {k} % 3)"
    )
    kafka_only = f"""
INSERT INTO ingestion_warnings (team_id, source, type, details, timestamp, _timestamp, _offset, _partition)
SELECT 1 + {k} % 4, 'plugin-server', 'pipeline_step_dlq',
    {
        _details(
            f"concat('user-', toString({k} % 500000))",
            "toString(generateUUIDv4())",
            f"concat({error}, toString(cityHash64({k}) % 100000), ')')",
            "'$pageview'",
            f"arrayElement(['processPersonsStep', 'prepareEventStep'], 1 + {k} % 2)",
        )
    },
    at, at, {k}, 0
FROM (SELECT number, toDateTime(now() - toUInt32((number + {unit} / {unit + 1}) * {kafka_step})) AS at
      FROM numbers({KAFKA_ONLY_PER_UNIT}))
"""
    return [benign, mirrored, kafka_only]


def _details(distinct_id: str, uuid: str, error: str, event: str, step: str) -> str:
    """SQL for a pipeline_step_dlq warning's details as JSON.stringify writes them (pipeline-helpers.ts @ b3cd2b3):
    {"distinctId", "eventUuid", "error", "event", "step"}, the error's double quotes escaped."""
    parts = [
        ("distinctId", distinct_id),
        ("eventUuid", uuid),
        ("error", f"replaceAll({error}, '\"', '\\\\\"')"),
        ("event", event),
        ("step", step),
    ]
    pieces = []
    for i, (key, value) in enumerate(parts):
        lead = "{" if i == 0 else ","
        pieces.append(f'\'{lead}"{key}":"\'')
        pieces.append(value)
        pieces.append("'\"'")
    pieces.append("'}'")
    return "concat(" + ", ".join(pieces) + ")"


# --- keeping the deployment live ---------------------------------------------------------------------------


class Live:
    """Events and dead-lettered events keep arriving while the benchmark measures, at the data's own rates, so
    every round sees a deployment as live as the first (events in the last hour, DLQ causes still happening)."""

    FIRST_ROW = 10_000_000_000  # row numbers of the trickle, apart from every unit's

    def __init__(self, client, scale: float):
        self.client, self.units = client, units_of(scale)
        self.since = time.monotonic()
        self.rows = 0

    def tick(self) -> None:
        elapsed = time.monotonic() - self.since
        events = int(elapsed * self.units * CH_EVENTS_PER_UNIT / (EVENT_DAYS * 86400))
        dead = int(elapsed * self.units * CH_DLQ_PER_UNIT / (DLQ_DAYS * 86400))
        if events < 1:
            return
        self.client.execute(f"USE {DATABASE}")
        self.client.execute(events_insert(0, 0, events, step=elapsed / events, first=self.FIRST_ROW + self.rows))
        if dead:
            self.client.execute(dlq_insert(0, 0, dead, seconds=elapsed, first=self.FIRST_ROW + self.rows, total=dead))
        self.rows += events
        self.since = time.monotonic()


# --- a flood --------------------------------------------------------------------------------------------

FLOOD_ROWS = 10_000_000
FLOOD_FIRST_OFFSET = 1_000_000_000  # Kafka offsets of the flood's rows, apart from every unit's
FLOOD_INSERTS = 24  # one an hour, oldest first


def flood_seed(client, rows: int = FLOOD_ROWS, log=print) -> None:
    """`rows` more DLQ rows in the last 24 hours: an incident, concentrated on a few causes (skew 8). Added once;
    `flood_remove` takes them out again (the DLQ table's other rows stay)."""
    have = client.execute(
        f"SELECT count() FROM {DATABASE}.events_dead_letter_queue WHERE _offset >= {FLOOD_FIRST_OFFSET}"
    )[0][0]
    if have:
        if have == rows:
            return
        flood_remove(client, log)
    started = time.monotonic()
    client.execute(f"USE {DATABASE}")
    for offset, count in time_ordered_chunks(rows, FLOOD_INSERTS):
        client.execute(
            dlq_insert(
                0,
                offset,
                count,
                seconds=86400 - 60,
                skew=8,
                first=FLOOD_FIRST_OFFSET,
                newest_age=30,
                total=rows,
            ),
            settings={"max_insert_block_size": rows},
        )
    log(f"  clickhouse: DLQ flood of {rows:,} rows in the last 24 h added in {time.monotonic() - started:.0f} s")
    wait_for_merges(client, log)


def flood_remove(client, log=print) -> None:
    """Take the flood out again: the DLQ table's parts are rewritten without it (an ALTER DELETE mutation)."""
    started = time.monotonic()
    client.execute(f"ALTER TABLE {DATABASE}.events_dead_letter_queue DELETE WHERE _offset >= {FLOOD_FIRST_OFFSET}")
    while client.execute(f"SELECT count() FROM system.mutations WHERE database = '{DATABASE}' AND NOT is_done")[0][0]:
        time.sleep(1)
    log(f"  clickhouse: DLQ flood removed in {time.monotonic() - started:.0f} s")
    wait_for_merges(client, log)


def shrink(factor: int) -> None:
    """Divide every size by `factor` (the benchmark's --tiny: the same code paths on little data)."""
    global CH_EVENTS_PER_UNIT, CH_DLQ_PER_UNIT, PG_EVENTS_PER_UNIT, CH_CHUNK, PG_CHUNK, WARNINGS_PER_UNIT
    global KAFKA_ONLY_PER_UNIT
    CH_EVENTS_PER_UNIT //= factor
    CH_DLQ_PER_UNIT //= factor
    PG_EVENTS_PER_UNIT //= factor
    CH_CHUNK //= factor
    PG_CHUNK //= factor
    WARNINGS_PER_UNIT //= factor
    KAFKA_ONLY_PER_UNIT //= factor


def units_of(scale: float) -> int:
    return max(1, round(scale * UNITS_PER_SCALE))


@dataclass
class ClickHouseData:
    events: int
    dlq: int
    events_bytes: int  # uncompressed, active parts
    dlq_bytes: int
    events_compressed: int
    dlq_compressed: int
    events_partitions: int


def ch_admin(admin_url: str):
    from urllib.parse import unquote, urlsplit

    from clickhouse_driver import Client

    u = urlsplit(admin_url)
    return Client(
        u.hostname or "127.0.0.1",
        u.port or 9000,
        user=u.username or "default",
        password=unquote(u.password or ""),
        database="default",
        send_receive_timeout=3600,
        settings={"max_execution_time": 0},
    )


def ch_seed(client, scale: float, log=print) -> ClickHouseData:
    """Bring the ClickHouse database to `scale` (adding units to what is there)."""
    units = units_of(scale)
    client.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
    tables = {r[0] for r in client.execute(f"SELECT name FROM system.tables WHERE database = '{DATABASE}'")}
    if "events" not in tables:
        for ddl in (
            events_ddl(False, "events"),
            events_stand_in_ddl(False, "kafka_events_json"),
            events_mv_ddl(DATABASE, "events"),
            dlq_ddl(False),
            *person_ddls(False),
            WARNINGS_DDL,
        ):
            client.execute(
                ddl.replace("CREATE TABLE ", f"CREATE TABLE {DATABASE}.", 1).replace(
                    "CREATE MATERIALIZED VIEW ", f"CREATE MATERIALIZED VIEW {DATABASE}.", 1
                )
            )
    have = client.execute(f"SELECT count() FROM {DATABASE}.events")[0][0] // CH_EVENTS_PER_UNIT
    have_dlq = (
        client.execute(f"SELECT count() FROM {DATABASE}.events_dead_letter_queue WHERE _offset < {FLOOD_FIRST_OFFSET}")[
            0
        ][0]
        // CH_DLQ_PER_UNIT
    )
    for unit in range(have, units):
        started = time.monotonic()
        for offset in range(0, CH_EVENTS_PER_UNIT, CH_CHUNK):
            client.execute(f"USE {DATABASE}")
            client.execute(
                events_insert(unit, offset, min(CH_CHUNK, CH_EVENTS_PER_UNIT - offset)),
                settings={"max_insert_block_size": CH_CHUNK, "max_block_size": 65536},
            )
        log(f"  clickhouse: events unit {unit + 1} ({CH_EVENTS_PER_UNIT:,} rows) in {time.monotonic() - started:.0f} s")
    for unit in range(have_dlq, units):
        started = time.monotonic()
        client.execute(f"USE {DATABASE}")
        for first, count in time_ordered_chunks(CH_DLQ_PER_UNIT, DLQ_DAYS * 86400 // DLQ_CHUNK_SECONDS):
            client.execute(dlq_insert(unit, first, count), settings={"max_insert_block_size": CH_DLQ_PER_UNIT})
        for statement in warnings_inserts(unit):
            client.execute(statement, settings={"max_insert_block_size": CH_DLQ_PER_UNIT})
        log(
            f"  clickhouse: DLQ unit {unit + 1} ({CH_DLQ_PER_UNIT:,} rows) and its ingestion warnings in "
            f"{time.monotonic() - started:.0f} s"
        )
    wait_for_merges(client, log)
    return ch_describe(client)


def wait_for_merges(client, log=print, seconds: float = 1800) -> None:
    """Let the background merges that the inserts started finish, so they do not run during measurements."""
    started = time.monotonic()
    quiet_since = None
    while time.monotonic() - started < seconds:
        running = client.execute("SELECT count() FROM system.merges")[0][0]
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 5:
            return
        time.sleep(1)
    log(f"  clickhouse: merges still running after {seconds:.0f} s; measuring anyway")


def ch_describe(client) -> ClickHouseData:
    rows = {
        r[0]: r[1:]
        for r in client.execute(
            "SELECT table, sum(rows), sum(data_uncompressed_bytes), sum(data_compressed_bytes), uniqExact(partition) "
            f"FROM system.parts WHERE active AND database = '{DATABASE}' GROUP BY table"
        )
    }
    ev, dlq = rows.get("events", (0, 0, 0, 0)), rows.get("events_dead_letter_queue", (0, 0, 0, 0))
    return ClickHouseData(ev[0], dlq[0], ev[1], dlq[1], ev[2], dlq[2], ev[3])


# --- Postgres -------------------------------------------------------------------------------------------

# posthog_event rows with posthog-js-sized properties (about 700 bytes of JSON), spread evenly over the last
# EVENT_DAYS days; %(unit)s shifts each unit's rows between the previous unit's.
PG_EVENT_ROWS = """
INSERT INTO posthog_event (event, properties, elements, "timestamp", team_id, distinct_id, elements_hash, created_at)
SELECT (ARRAY['$pageview', '$autocapture', '$pageview', '$pageleave', '$identify', 'insight viewed'])[1 + g %% 6],
       jsonb_build_object(
           '$os', (ARRAY['Mac OS X', 'Windows', 'Linux', 'iOS'])[1 + g %% 4],
           '$browser', (ARRAY['Chrome', 'Firefox', 'Safari', 'Edge'])[1 + (g / 4) %% 4],
           '$current_url', 'https://app.example.com/insights?ref=' || (g %% 977),
           '$host', 'app.example.com', '$pathname', '/insights', '$browser_version', 100 + g %% 27,
           '$screen_height', 1080, '$screen_width', 1920, '$lib', 'web', '$lib_version', '1.30.0',
           '$insert_id', md5(g::text), '$time', extract(epoch FROM t), 'distinct_id', 'user-' || (g %% 500000),
           '$device_id', md5((g %% 500000)::text), '$referrer', '$direct', '$referring_domain', '$direct',
           '$initial_referrer', 'https://www.google.com/', '$active_feature_flags',
           '["new-onboarding", "billing-v2"]'::jsonb, 'token', 'phc_Wq8sT1aVbN3cXz7yU2kLmP9oI4jH6gF5dS0',
           '$geoip_city_name', 'Berlin', '$geoip_country_code', 'DE', '$ip', '203.0.' || (g %% 256) || '.7'),
       '[]'::jsonb, t, 1, 'user-' || (g %% 500000), CASE WHEN g %% 6 = 1 THEN md5((g %% 97)::text) END, t
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g,
     LATERAL (SELECT now() - make_interval(secs => (g - %(base)s + %(shift)s) * %(step)s)) AS x(t)
"""


@dataclass
class PostgresData:
    events: int
    table_bytes: int
    total_bytes: int


def pg_seed(admin_url: str, scale: float, log=print) -> PostgresData:
    """Bring posthog_event to `scale` units (5M events each), then VACUUM ANALYZE."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('posthog_event') IS NOT NULL").fetchone()[0]
        if not exists:
            conn.execute(TEAM_DDL)
            conn.execute(MIGRATIONS_DDL)
            psycopg.ClientCursor(conn).execute(
                RELATED_DDL, {"persons": 500_000, "recordings": 100_000, "elements": 200_000}
            )
            conn.execute(EVENT_TABLE_DDL)
        have = conn.execute("SELECT count(*) FROM posthog_event").fetchone()[0] // PG_EVENTS_PER_UNIT
        step = EVENT_DAYS * 86400 / PG_EVENTS_PER_UNIT
        for unit in range(have, units_of(scale)):
            started = time.monotonic()
            base = unit * PG_EVENTS_PER_UNIT
            for first in range(base, base + PG_EVENTS_PER_UNIT, PG_CHUNK):
                conn.execute(
                    PG_EVENT_ROWS,
                    {
                        "first": first,
                        "last": first + PG_CHUNK - 1,
                        "base": base,
                        "shift": unit / (unit + 1),
                        "step": step,
                    },
                )
            log(
                f"  postgres: posthog_event unit {unit + 1} ({PG_EVENTS_PER_UNIT:,} rows) in "
                f"{time.monotonic() - started:.0f} s"
            )
            if not exists and unit == have:
                conn.execute(EVENT_INDEXES_DDL)  # after the first bulk load, as a fast load does
                exists = True
        if have < units_of(scale):
            started = time.monotonic()
            conn.execute("VACUUM ANALYZE")  # what autovacuum does on a live deployment (disabled on these tables)
            log(f"  postgres: VACUUM ANALYZE in {time.monotonic() - started:.0f} s")
        row = conn.execute(
            "SELECT reltuples::bigint, pg_table_size('posthog_event'), "
            "pg_total_relation_size('posthog_event') FROM pg_class WHERE relname = 'posthog_event'"
        ).fetchone()
    return PostgresData(int(row[0]), int(row[1]), int(row[2]))
