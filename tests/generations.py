"""PostHog's generations as data: what its services answer, write and set, from 2021 to today.

Each `Generation` holds, in PostHog's exact formats of that time (cited beside each):
- the HTTP answers of its plugin server (port 6738: `/_health`, `/_ready`, `/_metrics`) and of its web app
  (`/_livez`, `/_readyz`, `/_health`, `/_preflight/`, `/api/instance_status`), per state;
- the Redis keys its processes write (Celery's heartbeat and queues, the plugin server's ping), and what an
  older Redis of the same stack still holds;
- the environment PostHog sets, as a customer hands it to the doctor.

States: "healthy", and the broken ones a generation can show on the service side ("plugin_down",
"not_consuming", "degraded", "crash_loop", "dead_lettering"); `Generation.states` lists those its service
checks can find (a 2021 plugin server without HTTP cannot say it is not consuming).

`serve(generation, state, ...)` plays a generation on the real test servers: a FakeServer for the web app and
one for the plugin server (or a closed port where it has no HTTP server, or is down), and a real Redis.

The data side of each generation (its ClickHouse DDL and traffic, keyed by the same "2021", "2023", "2025") is
tests/clickhouse_generations.py; tests/deployment.py joins both sides with Kafka, Postgres and ZooKeeper into a
whole deployment (`build`, which calls `serve` when the doctor runs), and tests/test_generations_whole.py runs the
full doctor against each generation with it. `serve` alone plays the services only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.http_server import FakeServer, closed_port

STATES = ("healthy", "plugin_down", "not_consuming", "degraded", "crash_loop", "dead_lettering")
PING_KEY = "@posthog-plugin-server/ping"
VERSION_KEY = "@posthog-plugin-server/version"
JOB_QUEUES_KEY = "@posthog-plugin-server/enabled-job-queues"
CELERY_HEARTBEAT_KEY = "POSTHOG_HEARTBEAT"
MAIN_DB, OTHER_DB = 13, 14  # the Redis PostHog uses, and the other one of the stack (hobby's redis / redis7)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: a dict is sent as JSON, a str as text. `content_type` "" sends no Content-Type header
    (Node's bare http server sets none), None lets the body's type decide."""

    body: Any = b""
    status: int = 200
    content_type: str | None = None
    hang: bool = False  # the request is read and never answered


@dataclass(frozen=True)
class Generation:
    key: str
    label: str
    sources: tuple[str, ...]
    states: tuple[str, ...]  # broken states its service checks can find
    plugin: Callable[[str, float], dict[str, Answer]]  # (state, now) -> path -> answer; {} = no HTTP server
    web: Callable[[str, float], dict[str, Answer]]
    redis: Callable[[str, float], dict[str, Any]]  # keys of the Redis PostHog uses
    other_redis: Callable[[float], dict[str, Any]] | None = None  # what the stack's other Redis still holds
    env: Callable[[Deployment], dict[str, str]] = lambda d: {}  # PostHog's own settings, given to the doctor
    tags: tuple[str, ...] = field(default_factory=tuple)


# --- shared pieces of PostHog's formats ------------------------------------------------------------------


def iso(ts: float) -> str:
    """`new Date().toISOString()`: what the plugin server writes as its ping."""
    when = datetime.fromtimestamp(ts, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def django_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def prometheus(now: float, *, started: float, processed_ms: float | None, dlq: dict[str, int], groupId: str) -> str:
    """A prom-client exposition as the plugin server's `/_metrics` sends it: `collectDefaultMetrics()` first
    (process_start_time_seconds is one of them, rounded to seconds), then PostHog's own metrics; a labelled
    counter never incremented prints only its HELP and TYPE lines."""
    blocks = [
        "# HELP process_cpu_user_seconds_total Total user CPU time spent in seconds.\n"
        "# TYPE process_cpu_user_seconds_total counter\n"
        "process_cpu_user_seconds_total 812.343",
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
        "# TYPE process_start_time_seconds gauge\n"
        f"process_start_time_seconds {round(started)}",
        "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
        "# TYPE process_resident_memory_bytes gauge\n"
        "process_resident_memory_bytes 412352512",
        "# HELP nodejs_eventloop_lag_seconds Lag of event loop in seconds.\n"
        "# TYPE nodejs_eventloop_lag_seconds gauge\n"
        "nodejs_eventloop_lag_seconds 0.004180333",
        "# HELP nodejs_gc_duration_seconds Garbage collection duration by kind, one of major, minor, incremental or "
        "weakcb.\n# TYPE nodejs_gc_duration_seconds histogram\n"
        'nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 1771\n'
        'nodejs_gc_duration_seconds_bucket{le="+Inf",kind="minor"} 2001\n'
        'nodejs_gc_duration_seconds_sum{kind="minor"} 4.1\n'
        'nodejs_gc_duration_seconds_count{kind="minor"} 2001',
    ]
    processed = "# HELP latest_processed_timestamp_ms Timestamp of the latest offset that has been committed.\n"
    processed += "# TYPE latest_processed_timestamp_ms gauge"
    if processed_ms is not None:
        processed += (
            f'\nlatest_processed_timestamp_ms{{topic="events_plugin_ingestion",partition="0",groupId="{groupId}"}} '
            f"{int(processed_ms)}"
        )
    blocks.append(processed)
    steps = "# HELP events_pipeline_step_dlq_total Number of events that have been sent to DLQ in the step\n"
    steps += "# TYPE events_pipeline_step_dlq_total counter"
    for step, n in dlq.items():
        steps += f'\nevents_pipeline_step_dlq_total{{step_name="{step}"}} {n}'
    blocks.append(steps)
    return "\n\n".join(blocks) + "\n"


def readyz(**down: bool) -> Answer:
    """posthog/health.py @ a51d9bf `/_readyz`: one bool per check, 503 when one is false."""
    checks = {
        "clickhouse": True,
        "postgres": True,
        "postgres_flags": True,
        "postgres_migrations_uptodate": True,
        "kafka_connected": True,
        "celery_broker": True,
        "cache": True,
    }
    checks.update({k: not v for k, v in down.items()})
    return Answer(checks, 200 if all(checks.values()) else 503)


def instance_status(rows: list[dict[str, Any]]) -> Answer:
    return Answer({"results": {"overview": rows}})


def redis_rows(version: str, queue_depth: int) -> list[dict[str, Any]]:
    """The key-less Redis rows of instance_status (posthog/api/instance_status.py, every version)."""
    return [
        {"key": "redis_alive", "metric": "Redis alive", "value": True},
        {"metric": "Redis version", "value": version},
        {"metric": "Redis current queue depth", "value": str(queue_depth)},
        {"metric": "Redis connected client count", "value": "12"},
        {"metric": "Redis memory used", "value": "3.91MB"},
        {"metric": "Redis memory peak", "value": "5.02MB"},
        {"metric": "Redis total memory available", "value": "15.52GB"},
        {"metric": "Redis 'maxmemory' setting", "value": "200.00MB"},
        {"metric": "Redis 'maxmemory-policy' setting", "value": "allkeys-lru"},
    ]


def clickhouse_rows(now: float) -> list[dict[str, Any]]:
    """ClickHouse rows of a healthy instance (posthog/clickhouse/system_status.py @ fee38f0)."""
    return [
        {"key": "clickhouse_alive", "metric": "Clickhouse database alive", "value": True},
        {"key": "clickhouse_event_count", "metric": "Events in ClickHouse", "value": 182734},
        {"key": "clickhouse_disk_0_free_space", "metric": "Clickhouse disk 0 free space", "value": "61.20 GiB"},
        {"key": "clickhouse_disk_0_total_space", "metric": "Clickhouse disk 0 total space", "value": "77.45 GiB"},
        {"key": "last_event_ingested_timestamp", "metric": "Last event ingested", "value": django_iso(now - 40)},
        {"key": "dead_letter_queue_size", "metric": "Dead letter queue size", "value": 0},
        {
            "key": "dead_letter_queue_events_last_day",
            "metric": "Events sent to dead letter queue in the last 24h",
            "value": 0,
        },
        {"key": "dead_letter_queue_ratio_ok", "metric": "Dead letter queue ratio healthy", "value": True},
    ]


def plugin_alive(state: str) -> bool:
    """What Django says of the plugin server in a state: a dead or unhealthy one is not alive."""
    return state not in ("plugin_down", "not_consuming", "crash_loop")


# --- 2021: PostHog 1.31 ------------------------------------------------------------------------------------
# Plugin server without HTTP: plugin-server/src/main/pluginsServer.ts of that time starts only the MMDB
# server on localhost (PostHog/plugin-server @ 884a5aa, index id 24452960694) and writes its ping every 5 s
# (`*/5 * * * * *`, ISO time, TTL 60) and version. Django: posthog/views.py @ 59bad44 (`/_health` "ok" as
# text/plain; `/_preflight/`), no posthog/health.py yet (so no /_livez or /_readyz); instance_status.py
# @ 1dfab2e2 (Dec 2021). Celery: posthog/celery.py L158-159, `POSTHOG_HEARTBEAT` = int(time.time()) every 10 s.


def _plugin_2021(state: str, now: float) -> dict[str, Answer]:
    return {}


def _redis_2021(state: str, now: float) -> dict[str, Any]:
    keys: dict[str, Any] = {CELERY_HEARTBEAT_KEY: str(int(now - 4)), VERSION_KEY: "0.24.0"}
    keys[JOB_QUEUES_KEY] = '"graphile"'  # written JSON-serialised; Django strips the quotes
    if state != "plugin_down":  # a dead plugin server's ping expires 60 s after its last write
        keys[PING_KEY] = (iso(now - 2), 58)
    return keys


def _web_2021(state: str, now: float) -> dict[str, Answer]:
    alive = plugin_alive(state)
    preflight = {
        "django": True,
        "redis": True,
        "plugins": alive,
        "celery": True,
        "db": True,
        "initiated": True,
        "cloud": False,
        "realm": "hosted-clickhouse",
        "available_social_auth_providers": {"github": False, "gitlab": False, "google-oauth2": False},
        "can_create_org": False,
        "email_service_available": False,
    }
    rows = [
        {"key": "posthog_version", "metric": "PostHog version", "value": "1.31.0"},
        {"key": "posthog_git_sha", "metric": "PostHog Git SHA", "value": "59bad4465ef26a313fee115de9baa4d48b87a9a3"},
        {"key": "analytics_database", "metric": "Analytics database in use", "value": "ClickHouse"},
        {"key": "plugin_sever_alive", "metric": "Plugin server alive", "value": alive},
        {"key": "plugin_sever_version", "metric": "Plugin server version", "value": "0.24.0"},
        {"key": "plugin_sever_job_queues", "metric": "Job queues enabled in plugin server", "value": "graphile"},
        {"key": "db_alive", "metric": "Postgres database alive", "value": True},
        {"key": "pg_version", "metric": "Postgres version", "value": "12.8"},
        {"key": "async_migrations_ok", "metric": "Async migrations up-to-date", "value": True},
        {"key": "clickhouse_alive", "metric": "Clickhouse database alive", "value": True},
        {"key": "clickhouse_event_count", "metric": "Events in ClickHouse", "value": 182734},
        {"key": "clickhouse_disk_0_free_space", "metric": "Clickhouse disk free space", "value": "61.20 GiB"},
        {"key": "clickhouse_disk_0_total_space", "metric": "Clickhouse disk total space", "value": "77.45 GiB"},
        *redis_rows("6.2.6", 0)[:6],  # 2021 has no maxmemory rows yet
    ]
    return {
        "/_health": Answer("ok", content_type="text/plain"),
        "/_preflight/": Answer(preflight),
        "/api/instance_status": instance_status(rows),
    }


def _env_2021(d: Deployment) -> dict[str, str]:
    # docker-compose.hobby.yml @ 59bad44 (web, worker and plugins): one Redis for everything.
    return {"REDIS_URL": d.main_redis_url}


GEN_2021 = Generation(
    "2021",
    "PostHog 1.31 (Dec 2021): plugin server without HTTP",
    (
        "PostHog/plugin-server@884a5aa:src/main/pluginsServer.ts",
        "postlang/posthog-llm-lite@59bad44:posthog/views.py, posthog/api/instance_status.py, posthog/celery.py",
    ),
    ("plugin_down",),
    _plugin_2021,
    _web_2021,
    _redis_2021,
    env=_env_2021,
)


# --- 2023 --------------------------------------------------------------------------------------------------
# Plugin server: plugin-server/src/main/services/http-server.ts @ 0bbec1ad (bare Node http: no Content-Type;
# `/_health` checks map of strings; `/_ready` 503 while the consumer is not ready; `/_metrics` prom-client);
# health-check names of pluginsServer.ts (index id 34097055337); the ping and version are still written
# (startPreflightSchedules, index id 2446772985). Django: posthog/health.py (`/_livez`, `/_readyz`),
# instance_status.py of 2023 (index id 204820566; cache_page(60)), /_preflight/ with clickhouse, kafka and
# object_storage (index id 6201287912); is_plugin_server_alive() from the ping.


def _plugin_2023(state: str, now: float) -> dict[str, Answer]:
    if state == "plugin_down":
        return {}
    names = ("analytics-ingestion", "on-event-ingestion", "session-recordings-blob")
    checks = dict.fromkeys(names, "ok")
    started, processed, dlq = now - 3 * 86400, now * 1000 - 1500, {}
    health, ready = (
        Answer({"status": "ok", "checks": checks}, content_type=""),
        Answer({"status": "ok"}, content_type=""),
    )
    if state == "not_consuming":
        checks["analytics-ingestion"] = "error"
        health = Answer({"status": "error", "checks": checks}, 503, content_type="")
        ready = Answer({"status": "error"}, 503, content_type="")
        processed -= 2 * 3600 * 1000
    elif state == "crash_loop":  # restarted 25 s ago, its Kafka consumer not ready yet
        started, processed = now - 25, None
        ready = Answer({"status": "error"}, 503, content_type="")
    elif state == "dead_lettering":
        dlq = {"processPersonsStep": 37, "prepareEventStep": 4}
    metrics = prometheus(now, started=started, processed_ms=processed, dlq=dlq, groupId="ingestion")
    return {"/_health": health, "/_ready": ready, "/_metrics": Answer(metrics, content_type="")}


def _redis_2023(state: str, now: float) -> dict[str, Any]:
    keys: dict[str, Any] = {CELERY_HEARTBEAT_KEY: str(int(now - 6)), VERSION_KEY: "1.0.0"}
    if state != "plugin_down":
        keys[PING_KEY] = (iso(now - 3), 57)
    return keys


def _web_2023(state: str, now: float) -> dict[str, Answer]:
    alive = plugin_alive(state)
    preflight = {
        "django": True,
        "redis": True,
        "plugins": alive,
        "celery": True,
        "clickhouse": True,
        "kafka": True,
        "db": True,
        "initiated": True,
        "cloud": False,
        "demo": False,
        "realm": "hosted-clickhouse",
        "region": None,
        "available_social_auth_providers": {"github": False, "gitlab": False, "google-oauth2": False},
        "can_create_org": False,
        "email_service_available": False,
        "slack_service": {"available": False, "client_id": None},
        "object_storage": True,
    }
    rows = [
        {"key": "posthog_git_sha", "metric": "PostHog Git SHA", "value": "0bbec1ad335dce2781c2f9aad25c7f88ab675753"},
        {"key": "plugin_sever_alive", "metric": "Plugin server alive", "value": alive},
        {"key": "plugin_sever_version", "metric": "Plugin server version", "value": "1.0.0"},
        {"key": "plugin_sever_job_queues", "metric": "Job queues enabled in plugin server", "value": "unknown"},
        {"key": "db_alive", "metric": "Postgres database alive", "value": True},
        {"key": "pg_version", "metric": "Postgres version", "value": "12.15.0"},
        {"key": "async_migrations_ok", "metric": "Async migrations up-to-date", "value": True},
        *clickhouse_rows(now),
        *redis_rows("6.2.7", 0),
        {"key": "object_storage", "metric": "Object Storage enabled", "value": True},
        {"key": "object_storage", "metric": "Object Storage healthy", "value": True},
    ]
    return {
        "/_livez": Answer({"http": True}),
        "/_readyz": readyz(),
        "/_health": Answer("ok", content_type="text/plain"),
        "/_preflight/": Answer(preflight),
        "/api/instance_status": instance_status(rows),
    }


def _env_2023(d: Deployment) -> dict[str, str]:
    # docker-compose.base.yml of that time: REDIS_URL=redis://redis:6379/ for web, worker and plugins.
    return {"REDIS_URL": d.main_redis_url, "CDP_API_URL": d.plugin_url}


GEN_2023 = Generation(
    "2023",
    "2023: plugin server HTTP with a checks map, Django /_livez and /_readyz",
    (
        "PostHog/posthog@0bbec1ad:plugin-server/src/main/services/http-server.ts",
        "PostHog/posthog@a51d9bf:posthog/health.py",
        "PostHog/posthog:posthog/api/instance_status.py (index id 204820566)",
    ),
    ("plugin_down", "not_consuming", "crash_loop", "dead_lettering"),
    _plugin_2023,
    _web_2023,
    _redis_2023,
    env=_env_2023,
)


# --- 2025+ -------------------------------------------------------------------------------------------------
# Plugin server: nodejs/src/api/router.ts @ d115776 (express: JSON with charset; `/_ready` = `/_health`;
# `{status, message}` when a check has a message; degraded keeps 200); ingestion-consumer.ts @ 4ce4982
# (`ingestion-consumer-${topic}`, 'Kafka consumer not initialized'); kafka/consumer.ts @ 5ddf459
# ('Consumer unhealthy'; degraded 'Healthy with warnings: ...'); no Redis ping (capabilities.ts @ c84f604).
# `res.send(string)` gives text/html to /_metrics. Redis: the hobby stack runs `redis` and `redis7`
# (docker-compose.hobby.yml @ 4ea531a) and the newest .env.services @ 728597e points Django and Celery at
# redis7; the plugin server's CDP and cookieless Redis are redis7 (the same compose file).

INGESTION_2025 = (
    "ingestion-consumer-events_plugin_ingestion",
    "ingestion-consumer-events_plugin_ingestion_historical",
    "ingestion-consumer-events_plugin_ingestion_overflow",
)
JSON_2025 = "application/json; charset=utf-8"


def _plugin_2025(state: str, now: float) -> dict[str, Answer]:
    if state == "plugin_down":
        return {}
    checks: dict[str, Any] = dict.fromkeys(INGESTION_2025, "ok")
    checks.update({"CdpProcessedEventsConsumer": "ok", "server-commands": "ok"})
    started, processed, dlq, status = now - 6 * 3600, now * 1000 - 800, {}, 200
    if state == "not_consuming":
        checks[INGESTION_2025[0]] = {"status": "error", "message": "Consumer unhealthy"}
        processed -= 3 * 3600 * 1000
        status = 503
    elif state == "degraded":
        checks[INGESTION_2025[0]] = {
            "status": "degraded",
            "message": "Healthy with warnings: Rebalancing in progress (3s)",
        }
    elif state == "crash_loop":
        started, processed, status = now - 15, None, 503
        checks[INGESTION_2025[0]] = {"status": "error", "message": "Kafka consumer not initialized"}
    elif state == "dead_lettering":
        dlq = {"processPersonsStep": 112, "normalizeEventStep": 3}
    body = {"status": "ok" if status == 200 else "error", "checks": checks}
    health = Answer(body, status, content_type=JSON_2025)
    metrics = prometheus(now, started=started, processed_ms=processed, dlq=dlq, groupId="clickhouse-ingestion")
    return {
        "/_health": health,
        "/_ready": health,
        "/_metrics": Answer(metrics, content_type="text/html; charset=utf-8"),
    }


def _redis_2025(state: str, now: float) -> dict[str, Any]:
    return {CELERY_HEARTBEAT_KEY: str(int(now - 5)), "celery": ["task"] * 2, "analytics_queries": ["task"] * 5}


def _other_redis_2025(now: float) -> dict[str, Any]:
    """The hobby stack's `redis` after Django and Celery moved to redis7: keys without expiry stay behind."""
    return {CELERY_HEARTBEAT_KEY: str(int(now - 9 * 86400)), VERSION_KEY: "1.0.0"}


def _web_2025(state: str, now: float) -> dict[str, Answer]:
    alive = state not in ("plugin_down", "not_consuming", "crash_loop")  # Django asks /_health: 200 is alive
    web = _web_2023(state, now)
    preflight = dict(web["/_preflight/"].body, plugins=alive)
    rows = [
        row for row in web["/api/instance_status"].body["results"]["overview"] if row.get("key") != "posthog_git_sha"
    ]
    rows.insert(
        0, {"key": "posthog_git_sha", "metric": "PostHog Git SHA", "value": "d115776c9991caa411cafbc3c3b6360e1922bce8"}
    )
    for row in rows:
        if row.get("key") == "plugin_sever_alive":
            row["value"] = alive
        if row.get("metric") == "Redis version":
            row["value"] = "7.2.4"
    web["/_preflight/"] = Answer(preflight)
    web["/api/instance_status"] = instance_status(rows)
    return web


def _env_2025(d: Deployment) -> dict[str, str]:
    host, port = d.redis_host_port
    return {
        "REDIS_URL": d.main_redis_url,  # .env.services @ 728597e: redis://redis7:6379/
        "CDP_API_URL": d.plugin_url,  # docker-compose.base.yml @ a62d71f: http://plugins:6738
        "CDP_REDIS_HOST": host,  # docker-compose.hobby.yml @ 4ea531a (plugins): redis7
        "CDP_REDIS_PORT": str(port),
        "COOKIELESS_REDIS_HOST": host,
        "COOKIELESS_REDIS_PORT": str(port),
    }


GEN_2025 = Generation(
    "2025",
    "2025+: plugin server health with {status, message} and degraded; Django and Celery on redis7",
    (
        "PostHog/posthog@d115776:nodejs/src/api/router.ts",
        "PostHog/posthog@4ce4982:nodejs/src/ingestion/ingestion-consumer.ts",
        "PostHog/posthog@4ea531a:docker-compose.hobby.yml",
        "PostHog/posthog@728597e:.env.services",
    ),
    ("plugin_down", "not_consuming", "degraded", "crash_loop", "dead_lettering"),
    _plugin_2025,
    _web_2025,
    _redis_2025,
    other_redis=_other_redis_2025,
    env=_env_2025,
)

GENERATIONS = (GEN_2021, GEN_2023, GEN_2025)


# --- playing a generation on the test servers ---------------------------------------------------------------


@dataclass
class Deployment:
    """One generation in one state on the test servers: where each part lives, and PostHog's env for it."""

    generation: Generation
    state: str
    web: FakeServer
    plugin: FakeServer | None  # None: no HTTP server (2021) or a plugin server that is down
    plugin_url: str
    main_redis_url: str
    other_redis_url: str
    redis_host_port: tuple[str, int]

    @property
    def env(self) -> dict[str, str]:
        return self.generation.env(self)


def serve(generation: Generation, state: str, redis_server: Any) -> Deployment:
    """Start the web app and plugin server of `generation` in `state` and plant its Redis keys."""
    now = time.time()
    web = FakeServer()
    for path, answer in generation.web(state, now).items():
        _route(web, path, answer)
    routes = generation.plugin(state, now)
    plugin = None
    if routes:
        plugin = FakeServer()
        for path, answer in routes.items():
            _route(plugin, path, answer)
        plugin_url = plugin.url
    else:
        plugin_url = f"http://127.0.0.1:{closed_port()}"  # nothing listens on 6738
    main = _plant(redis_server, MAIN_DB, generation.redis(state, now))
    other = _plant(redis_server, OTHER_DB, generation.other_redis(now) if generation.other_redis else {})
    return Deployment(generation, state, web, plugin, plugin_url, main, other, _host_port(redis_server.url))


def close(deployment: Deployment) -> None:
    deployment.web.close()
    if deployment.plugin is not None:
        deployment.plugin.close()


def _route(server: FakeServer, path: str, answer: Answer) -> None:
    body = answer.body
    if isinstance(body, dict) and answer.content_type is not None:
        body = json.dumps(body)  # sent as text under the content type PostHog's server would set
    server.route(path, body, status=answer.status, content_type=answer.content_type, hang=answer.hang)


def _plant(redis_server: Any, db: int, keys: dict[str, Any]) -> str:
    import redis

    from tests.service_support import redis_url

    client = redis.Redis.from_url(redis_url(redis_server.admin_url, db))
    try:
        client.flushdb()
        for key, value in keys.items():
            if isinstance(value, tuple):
                client.set(key, value[0], ex=value[1])
            elif isinstance(value, list):
                client.rpush(key, *value)
            else:
                client.set(key, value)
    finally:
        client.close()
    return redis_url(redis_server.url, db)


def _host_port(url: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379
