"""Broken deployments a self-hosted customer meets, each one failure class built on the real test servers
(tests/deployment.py) by breaking one thing of a healthy deployment, with what a PostHog engineer would conclude.

Each `Scenario` names its generation, how it is built (`make`), the flags its run needs, where ingestion breaks
(`break_stage`, "" when events flow), the root cause a PostHog engineer would name first (`cause`, a rule of
checks/diagnosis/rules.yaml; "" when there is none), and what stands in for what the test bed cannot have
(`stand_in`). tests/test_scenarios.py runs them and holds the report to it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests import clickhouse_generations as chgen
from tests import deployment as dp
from tests.capture_support import caddy_bad_gateway
from tests.clickhouse_support import plant_arrivals
from tests.deployment import KAFKA_ONE_READING, KAFKA_SECONDS, Deployment, Stack, build
from tests.generations import CELERY_HEARTBEAT_KEY, PING_KEY, Answer, _route
from tests.http_server import closed_port


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str  # the failure, as the customer's deployment has it
    make: Callable[[Stack, str], Deployment]  # (stack, name) -> the deployment, broken
    break_stage: str
    cause: str  # the top root cause (a rule id), or "" when no cause is expected
    flags: tuple[str, ...] = KAFKA_ONE_READING
    note: str = ""  # a reconciled false alarm or conflict the diagnosis must show (a rule id)
    key: str = ""  # the run it shares with the generation matrix (tests/test_generations_whole.py), if any
    stand_in: str = ""  # what stands in for what the test bed cannot have
    words: tuple[str, ...] = field(default_factory=tuple)  # what the first five lines of report.md must say


# --- tweaks of the served services ---------------------------------------------------------------------------


def web_answer(path: str, change: Callable[[dict], dict], status: int | None = None):
    """Replace one JSON answer of the web app with a changed copy (the generation's own answer, edited)."""

    def tweak(d: Deployment, served) -> None:
        answer = d.generation.web(d.state, time.time())[path]
        _route(served.web, path, Answer(change(json.loads(json.dumps(answer.body))), status or answer.status))

    return tweak


def preflight(**flags: bool):
    return web_answer("/_preflight/", lambda body: {**body, **flags})


def status_rows(**values):
    """System Status rows (`key` -> value) changed as Django would show them."""

    def change(body: dict) -> dict:
        for row in body["results"]["overview"]:
            if row.get("key") in values:
                row["value"] = values[row["key"]]
        return body

    return web_answer("/api/instance_status", change)


def redis_keys(**keys):
    """Set keys in the Redis PostHog uses, after `serve` planted the generation's own."""

    def tweak(d: Deployment, served) -> None:
        import redis

        from tests.service_support import redis_url

        server = d.redis or d.stack.redis
        client = redis.Redis.from_url(redis_url(server.admin_url, int(served.main_redis_url.rsplit("/", 1)[1])))
        try:
            for key, value in keys.items():
                if value is None:
                    client.delete(key)
                else:
                    client.set(key, value)
        finally:
            client.close()

    return tweak


def plugin_routes(routes: dict[str, Answer]):
    """Replace answers of the plugin server (paths in PostHog's formats, tests/generations.py `Answer`)."""

    def tweak(d: Deployment, served) -> None:
        assert served.plugin is not None
        for path, answer in routes.items():
            _route(served.plugin, path, answer)

    return tweak


# --- the scenarios --------------------------------------------------------------------------------------


def healthy(stack: Stack, name: str) -> Deployment:
    return build(stack, name, "2025", shared=True)


def plugin_server_down(stack: Stack, name: str) -> Deployment:
    return dp.plugin_server_down(build(stack, name, "2023", traffic="stalled"))


def seven_red_lines(stack: Stack, name: str) -> Deployment:
    """The plugin server runs, but its Kafka consumer is down (2025+: `Consumer unhealthy`, 503): Django says
    plugins are down, nothing reaches ClickHouse for 3 h, the ingestion group stopped committing."""
    d = build(stack, name, "2025", traffic="stalled")
    d.state = "not_consuming"
    d.backlog(d.layout.ingestion_group)
    return d


def consumer_not_ready(stack: Stack, name: str) -> Deployment:
    """2023: /_health answers ok (the process and its other consumers are fine) while /_ready says 503 (the
    analytics-ingestion consumer has not joined), and ingestion has stopped."""
    d = build(stack, name, "2023", traffic="stalled")
    d.tweaks.append(plugin_routes({"/_ready": Answer({"status": "error"}, 503, content_type="")}))
    d.backlog(d.layout.ingestion_group)
    return d


def kafka_down(stack: Stack, name: str) -> Deployment:
    """Kafka is down: the doctor's Kafka address refuses connections, the plugin server's consumer fails, Django's
    preflight and /_readyz say kafka false, nothing reaches ClickHouse for 3 h."""
    d = build(stack, name, "2023", traffic="stalled", kafka=False)
    d.urls["--kafka-url"] = f"kafka://127.0.0.1:{closed_port()}"
    d.state = "not_consuming"
    d.tweaks += [preflight(kafka=False), web_answer("/_readyz", lambda b: {**b, "kafka_connected": False}, 503)]
    return d


def ingestion_lagging(stack: Stack, name: str) -> Deployment:
    """2025: the ingestion workers are behind but moving (they commit between the doctor's two readings); events
    keep arriving in ClickHouse, each 90 min after it happened."""
    d = build(stack, name, "2025", traffic="none")
    assert d.clickhouse is not None
    table = chgen.events_table("2025")
    # A week of one event a minute, then the last two hours arriving 90 min late, three a minute (the backlog).
    plant_arrivals(d.clickhouse, 9_960, first_age=2 * 3600 + 30, spacing=60, table=table)
    plant_arrivals(d.clickhouse, 360, first_age=20, spacing=20, skew=-5400, table=table)
    d.backlog(d.layout.ingestion_group, messages=20)
    kafka, group = d.kafka, d.layout.ingestion_group
    assert kafka is not None

    def workers_catch_up() -> None:
        for offset in range(7, 25, 2):
            kafka.commit(group, {("events_plugin_ingestion", p): offset for p in (0, 1)})
            time.sleep(0.02)

    d.during = workers_catch_up
    return d


def ingestion_stalled(stack: Stack, name: str) -> Deployment:
    return dp.ingestion_stalled(build(stack, name, "2023", traffic="stalled"))


def kafka_table_missing(stack: Stack, name: str) -> Deployment:
    """ClickHouse's kafka_events_json is gone (dropped by hand or by a failed migration): ClickHouse's group stops
    committing on clickhouse_events_json and nothing reaches the events table for 3 h."""
    d = build(stack, name, "2023", traffic="stalled")
    assert d.clickhouse is not None
    d.clickhouse.execute("DROP TABLE kafka_events_json")
    d.backlog("group1")
    return d


def materialized_view_missing(stack: Stack, name: str) -> Deployment:
    d = build(stack, name, "2023", traffic="stalled")
    assert d.clickhouse is not None
    d.clickhouse.execute("DROP TABLE events_json_mv")
    d.backlog("group1")
    return d


def dead_lettered_2023(stack: Stack, name: str) -> Deployment:
    return dp.dead_lettered(build(stack, name, "2023"))


def dead_lettered_2025(stack: Stack, name: str) -> Deployment:
    return dp.dead_lettered(build(stack, name, "2025"))


def dead_lettered_seen_in_warnings(stack: Stack, name: str) -> Deployment:
    """2025+, run without Kafka (the customer did not give its address): the only trace of the dead-lettered
    events is ClickHouse's pipeline_step_dlq ingestion warnings."""
    d = dp.dead_lettered(build(stack, name, "2025", kafka=False))
    d.urls["--kafka-url"] = "off"
    return d


TAKEN_CONNECTIONS = 84  # of the test server's 97 usable (max_connections 100): past postgres.health's 80% warning


def postgres_saturated(stack: Stack, name: str) -> Deployment:
    """Postgres is nearly out of connections (84 of the 97 a role may take, held idle as PostHog's pools hold them):
    person processing fails with 'too many clients', and those events are dead-lettered (2023)."""
    d = build(stack, name, "2023")
    d.tweaks.append(hold_connections)
    assert d.clickhouse is not None
    chgen.plant_dlq_rows(
        d.clickhouse,
        30,
        location="plugin_server_ingest_event:processPersonsStep",
        error="'Event ingestion failed. Error: sorry, too many clients already'",
        age=600,
    )
    return d


def hold_connections(d: Deployment, served) -> None:
    """Bring the server's client sessions to TAKEN_CONNECTIONS (whatever other tests hold), idle until the run ends."""
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    assert d.postgres is not None
    with psycopg.connect(d.postgres.admin_url, autocommit=True) as admin:
        (open_now,) = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        ).fetchone()
    url = d.postgres.url
    with ThreadPoolExecutor(8) as pool:
        held = list(pool.map(lambda _: psycopg.connect(url, autocommit=True), range(TAKEN_CONNECTIONS - open_now)))

    def release() -> None:
        for conn in held:
            conn.close()

    d.cleanups.append(release)


def redis_out_of_memory(stack: Stack, name: str) -> Deployment:
    """Redis reached maxmemory under noeviction: it refuses writes, so Celery's heartbeat (20 min old) and the plugin
    server's ping (expired) cannot be written; Django's preflight says celery is down."""
    from tests.servers import start_redis

    d = build(stack, name, "2023", shared=True)
    d.redis = start_redis()
    d.tweaks += [redis_keys(**{CELERY_HEARTBEAT_KEY: str(int(time.time() - 1200)), PING_KEY: None}), fill_redis]
    d.tweaks.append(preflight(celery=False))
    return d


def fill_redis(d: Deployment, served) -> None:
    """Cap Redis at what it holds, under noeviction, and have a client's write refused (errorstat_OOM)."""
    import redis

    client = redis.Redis.from_url(d.redis.admin_url)
    try:
        client.set("filler", "x" * 200_000)
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", str(used - 50_000))
        for _ in range(3):
            with contextlib.suppress(redis.exceptions.ResponseError):
                client.set("celery-task-meta-x", "y" * 1000)
    finally:
        client.close()


def wrong_redis(stack: Stack, name: str) -> Deployment:
    """2025 hobby stack, run without PostHog's REDIS_URL: of the two Redis the doctor guesses, redis7 (Django's and
    Celery's) does not answer where it looks and `redis` still holds a heartbeat left 9 days ago."""
    d = build(stack, name, "2025", shared=True)
    d.drop_env = ("REDIS_URL",)

    def guessed(d: Deployment, served) -> None:
        d.urls["--redis-url"] = f"{served.other_redis_url},redis://127.0.0.1:{closed_port()}/0"

    d.tweaks.append(guessed)
    return d


def celery_offline(stack: Stack, name: str) -> Deployment:
    d = build(stack, name, "2023", shared=True)
    d.tweaks += [redis_keys(**{CELERY_HEARTBEAT_KEY: str(int(time.time() - 1200))}), preflight(celery=False)]
    return d


def migrations_pending(stack: Stack, name: str) -> Deployment:
    """An upgrade whose migrate step failed: /_health says 'Migrations are not up to date' (503), /_readyz says
    postgres_migrations_uptodate false."""
    d = build(stack, name, "2023", shared=True)

    def pending(d: Deployment, served) -> None:
        served.web.route("/_health", "Migrations are not up to date", status=503, content_type="text/plain")

    d.tweaks += [pending, web_answer("/_readyz", lambda b: {**b, "postgres_migrations_uptodate": False}, 503)]
    return d


def disk_nearly_full(stack: Stack, name: str) -> Deployment:
    """ClickHouse's disk has 2.1 GiB free of 77.45 GiB, as PostHog's System Status page reports it."""
    d = build(stack, name, "2023", shared=True)
    d.tweaks.append(status_rows(clickhouse_disk_0_free_space="2.10 GiB"))
    return d


def preflight_false_alarm(stack: Stack, name: str) -> Deployment:
    """2025 hobby: Django asks CDP_API_URL/_health, whose default is a Kubernetes name, so preflight and System
    Status say the plugin server is down while it answers healthy and events arrive."""
    d = build(stack, name, "2025", shared=True)
    d.tweaks += [preflight(plugins=False), status_rows(plugin_sever_alive=False)]
    return d


def postgres_over_limits(stack: Stack, name: str) -> Deployment:
    """A PostHog that never moved to ClickHouse (1.29-era, Postgres-backed), over the limits: a tenth of the rows of
    tests/test_postgres_event_volume.py's busy deployment (550k events in the last 30 days) with the limits set a
    tenth as high, so the verdict is the same at a tenth of the seeding (that file proves it at full size)."""
    from tests.postgres_support import Segment, deployment
    from tests.service_support import PREFLIGHT_OLD

    over = deployment(stack.postgres, "phd_over_limits", (Segment(550_000, 0, 30), Segment(75_000, 30, 75)))
    d = build(stack, name, "2021", postgres=over, kafka=False, clickhouse=False)
    d.urls.update({"--kafka-url": "off", "--zookeeper-url": "off"})
    d.flags += [
        "--set",
        "postgres.event_volume.limit_events_per_month=500000",
        "--set",
        "postgres.event_volume.struggle_events_per_month=200000",
    ]
    d.tweaks += [
        web_answer("/_preflight/", lambda _: dict(PREFLIGHT_OLD)),
        status_rows(analytics_database="Postgres"),
    ]
    return d


def capture_down(stack: Stack, name: str) -> Deployment:
    """2025 hobby: the Rust capture service is down, so Caddy answers 502 on every capture path; nothing has reached
    Kafka or ClickHouse for 3 h."""
    from tests.http_server import FakeServer

    d = build(stack, name, "2025", traffic="stalled")
    d.proxy = FakeServer()
    caddy_bad_gateway(d.proxy)
    d.flags += ["--set", f"capture.service.service_url=http://127.0.0.1:{closed_port()}"]
    return d


# --- ZooKeeper: a ClickHouse whose tables are replicated through it -------------------------------------------

_replicated: dict[str, tuple] = {}


def _replicated_clickhouse(stack: Stack):
    """One ClickHouse 18.16 for the ZooKeeper scenarios, its 2023 tables replicated through a ZooKeeper of its own
    (reached through a forwarder that can cut the path), with a week of traffic that stopped 3 h ago (a read-only
    replica refuses inserts)."""
    from tests.clickhouse_support import server_deployment
    from tests.servers import Unavailable
    from tests.zookeeper_support import start_zookeeper

    if "it" not in _replicated:
        try:
            own = start_zookeeper("srvr,mntr,ruok")
        except Unavailable as exc:
            from tests.conftest import unavailable

            unavailable("a real ZooKeeper", str(exc))
        path = dp.Forwarder(own.port)
        server = dp.ReplicatedClickHouse(path.port)
        ch = server_deployment(server.server, "phd_whole_replicated")
        dp.replicated_schema(ch, "2023")
        chgen.plant_stalled_traffic(ch, "2023")
        _replicated["it"] = (own, path, server, ch)
    return _replicated["it"]


def close_replicated() -> None:
    if "it" in _replicated:
        own, path, server, _ = _replicated.pop("it")
        path.close()
        own.stop()
        server.close()


def _all_readonly(ch) -> bool:
    rows = ch.execute("SELECT is_readonly OR is_session_expired FROM system.replicas")
    return bool(rows) and all(r[0] for r in rows)


def readonly_replica(stack: Stack, name: str) -> Deployment:
    """ClickHouse's replicated tables are read-only: ClickHouse lost its ZooKeeper session (the network path between
    them is cut) while ZooKeeper itself answers, so inserts are refused and nothing has arrived for 3 h."""
    own, path, _, ch = _replicated_clickhouse(stack)
    d = build(stack, name, "2023", clickhouse=ch, traffic="none")
    d.urls["--zookeeper-url"] = own.url

    def cut_the_path() -> None:
        path.close()
        dp.wait_until(lambda: _all_readonly(ch), 20, "ClickHouse's replicas turning read-only")

    d.before.append(cut_the_path)
    return d


def zookeeper_down(stack: Stack, name: str) -> Deployment:
    """ZooKeeper is down: ClickHouse's replicated tables lost their session and turned read-only, so inserts are
    refused and nothing new has reached the events table for 3 h. Runs after readonly_replica (same ClickHouse)."""
    own, path, _, ch = _replicated_clickhouse(stack)
    d = build(stack, name, "2023", clickhouse=ch, traffic="none")
    d.urls["--zookeeper-url"] = own.url

    def stop_zookeeper() -> None:
        own.stop()
        path.close()
        dp.wait_until(lambda: _all_readonly(ch), 20, "ClickHouse's replicas turning read-only")

    d.before.append(stop_zookeeper)
    return d


KAFKA_STAND_IN = (
    "a Kafka backlog seconds old and thresholds in seconds stand in for minutes (tansu dates by append time)"
)
NULL_KAFKA_TABLES = (
    "ClickHouse's Kafka tables are Null tables; the harness commits ClickHouse's group as ClickHouse would"
)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "healthy",
        "everything healthy (2025+)",
        healthy,
        "",
        "",
        words=("Events flow through every stage of the path",),
        key="2025_healthy",
    ),
    Scenario(
        "plugin_server_down",
        "the plugin server is not running (2023)",
        plugin_server_down,
        "ingestion_workers",
        "plugin_server_down",
        KAFKA_SECONDS,
        stand_in=KAFKA_STAND_IN,
        words=("Ingestion breaks at Ingestion workers (plugin server)", "are not running", "Restart the plugin server"),
        key="2023_plugin_down",
    ),
    Scenario(
        "seven_red_lines",
        "the plugin server runs, its Kafka consumer is down (2025+)",
        seven_red_lines,
        "ingestion_workers",
        "plugin_server_not_consuming",
        KAFKA_SECONDS,
        stand_in=KAFKA_STAND_IN,
        words=(
            "Ingestion breaks at Ingestion workers (plugin server)",
            "does not consume events",
            "the plugin server reports its consumer unhealthy",
            "findings are this one problem",
            "Restart the plugin server",
        ),
    ),
    Scenario(
        "consumer_not_ready",
        "the plugin server answers healthy, its consumer is not ready (2023)",
        consumer_not_ready,
        "ingestion_workers",
        "plugin_server_not_consuming",
        KAFKA_SECONDS,
        stand_in=KAFKA_STAND_IN,
        words=(
            "Ingestion breaks at Ingestion workers (plugin server)",
            "does not consume",
            "Restart the plugin server",
        ),
    ),
    Scenario(
        "kafka_down",
        "Kafka is down (2023)",
        kafka_down,
        "kafka_in",
        "kafka_down",
        words=("Ingestion breaks at Kafka: events", "Kafka is down or unreachable", "Bring Kafka back"),
    ),
    Scenario(
        "ingestion_lagging",
        "ingestion lags: the workers are behind but moving, events arrive 90 min late (2025+)",
        ingestion_lagging,
        "",
        "ingestion_consumer_lagging",
        KAFKA_SECONDS,
        stand_in=KAFKA_STAND_IN,
        words=("Events arrive, but late at Ingestion workers (plugin server)", "lagging", "more than an hour after"),
    ),
    Scenario(
        "ingestion_stalled",
        "ingestion stalled: the workers' group has no consumer, nothing arrives for 3 h (2023)",
        ingestion_stalled,
        "ingestion_workers",
        "ingestion_consumer_stalled",
        KAFKA_SECONDS,
        stand_in=KAFKA_STAND_IN,
        words=(
            "Ingestion breaks at Ingestion workers (plugin server)",
            "stopped consuming from Kafka",
            "ClickHouse for 3 h",
        ),
        key="2023_stalled",
    ),
    Scenario(
        "kafka_table_missing",
        "ClickHouse's Kafka table kafka_events_json is missing (2023)",
        kafka_table_missing,
        "clickhouse_kafka_table",
        "kafka_table_missing",
        KAFKA_SECONDS,
        stand_in=f"{KAFKA_STAND_IN}; {NULL_KAFKA_TABLES}",
        words=("Ingestion breaks at ClickHouse Kafka table", "Kafka table is missing", "Create the Kafka table again"),
    ),
    Scenario(
        "materialized_view_missing",
        "the materialized view events_json_mv is missing (2023)",
        materialized_view_missing,
        "materialized_view",
        "materialized_view_missing",
        KAFKA_SECONDS,
        stand_in=f"{KAFKA_STAND_IN}; {NULL_KAFKA_TABLES}",
        words=("Ingestion breaks at Materialized view", "materialized view", "Create events_json_mv again"),
    ),
    Scenario(
        "dead_lettered_2023",
        "events dead-lettered to the ClickHouse table (2023)",
        dead_lettered_2023,
        "dlq_table",
        "events_dead_lettered",
        words=("Events are dead-lettered (Dead letter queue (ClickHouse table))", "35 events went to the dead letter"),
        key="2023_dead_lettered",
    ),
    Scenario(
        "dead_lettered_2025",
        "events dead-lettered to the Kafka topic events_plugin_ingestion_dlq (2025+)",
        dead_lettered_2025,
        "dlq_topic",
        "events_dead_lettered_to_kafka",
        words=("Events are dead-lettered (Dead letter topic (Kafka))", "events_plugin_ingestion_dlq"),
        key="2025_dead_lettered",
    ),
    Scenario(
        "dead_lettered_seen_in_warnings",
        "events dead-lettered, seen only in ClickHouse's pipeline_step_dlq ingestion warnings (2025+, no Kafka given)",
        dead_lettered_seen_in_warnings,
        "dlq_topic",
        "events_dead_lettered_to_kafka_seen_in_clickhouse",
        words=(
            "Events are dead-lettered (Dead letter topic (Kafka))",
            "30 events were dead-lettered",
            "pipeline_step_dlq",
        ),
    ),
    Scenario(
        "postgres_saturated",
        "Postgres out of connections, person processing dead-letters events (2023)",
        postgres_saturated,
        "dlq_table",
        "postgres_saturated",
        words=("Postgres is out of connections", "for want of a Postgres connection", "PgBouncer"),
    ),
    Scenario(
        "redis_out_of_memory",
        "Redis full under noeviction: heartbeats cannot be written (2023)",
        redis_out_of_memory,
        "",
        "redis_out_of_memory",
        words=("Redis is full", "the Celery heartbeat is missing", "maxmemory"),
    ),
    Scenario(
        "wrong_redis",
        "the doctor guessed the stack's old Redis (2025+ hobby, no REDIS_URL given)",
        wrong_redis,
        "",
        "wrong_redis",
        words=("a Redis PostHog does not use", "REDIS_URL"),
    ),
    Scenario(
        "celery_offline",
        "the Celery workers are offline (2023)",
        celery_offline,
        "",
        "celery_offline",
        words=("The Celery workers are offline", "Django's preflight says celery: false", "Restart the Celery worker"),
    ),
    Scenario(
        "migrations_pending",
        "Django migrations pending after a failed upgrade (2023)",
        migrations_pending,
        "",
        "migrations_pending",
        words=("Django migrations are not up to date", "Run the failed migration again"),
    ),
    Scenario(
        "readonly_replica",
        "ClickHouse's replicated tables read-only: ClickHouse lost its ZooKeeper session, ZooKeeper answers (2023)",
        readonly_replica,
        "events",
        "readonly_replica",
        stand_in="one ClickHouse 18.16 server, its tables replicated through a ZooKeeper of its own; a TCP forwarder "
        "closed between them stands in for the broken path (a partition, a wrong address in ClickHouse's config)",
        words=("Ingestion breaks at events table", "read-only", "ZooKeeper"),
    ),
    Scenario(
        "zookeeper_down",
        "ZooKeeper is down: replicated tables turn read-only (2023)",
        zookeeper_down,
        "events",
        "zookeeper_down",
        words=("Ingestion breaks at events table", "ZooKeeper is down", "Bring ZooKeeper back"),
    ),
    Scenario(
        "disk_nearly_full",
        "ClickHouse's disk nearly full (2023)",
        disk_nearly_full,
        "",
        "clickhouse_disk_full_per_status_page",
        stand_in="ClickHouse 18.16 has no system.disks: PostHog's System Status page (2.1 GiB free of 77.45 GiB) "
        "stands in for the server's own reading",
        words=("ClickHouse's disk is nearly full", "Free or grow ClickHouse's volume"),
    ),
    Scenario(
        "preflight_false_alarm",
        "preflight and System Status say the plugin server is down; it is healthy and events arrive (2025+)",
        preflight_false_alarm,
        "",
        "",
        note="preflight_plugins_false_alarm",
        words=("Events flow through every stage", "says the plugin server is down, but it is healthy", "CDP_API_URL"),
    ),
    Scenario(
        "postgres_over_limits",
        "a Postgres-backed PostHog past Postgres's limits (1.29-era, no ClickHouse)",
        postgres_over_limits,
        "",
        "postgres_over_its_limits",
        words=("still keeps its events in Postgres", "Move to ClickHouse"),
    ),
    Scenario(
        "capture_down",
        "the Rust capture service is down behind the hobby proxy (2025+)",
        capture_down,
        "capture",
        "capture_unreachable",
        words=("Ingestion breaks at Capture", "Capture does not take events", "Bring the capture service back"),
    ),
)
BY_NAME = {s.name: s for s in SCENARIOS}
