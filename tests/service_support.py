"""Helpers for the service-health and System Status tests: PostHog's HTTP answers and Redis keys.

The bodies are PostHog's exact formats: plugin-server/src/main/services/http-server.ts (`/_health`,
`/_ready`), posthog/views.py (`/_preflight/`, `/_health`), posthog/health.py (`/_readyz`), and the Redis
keys of pluginsServer.ts and posthog/tasks/tasks.py.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.http_server import FakeServer

STATUS_FIXTURES = Path(__file__).parent / "fixtures" / "status"
REDIS_DB = 11  # a database of its own on the shared test Redis, emptied before each test that seeds it

PING_KEY = "@posthog-plugin-server/ping"
VERSION_KEY = "@posthog-plugin-server/version"
CELERY_HEARTBEAT_KEY = "POSTHOG_HEARTBEAT"

# --- the plugin server (port 6738) ---

PLUGIN_HEALTHY = {"status": "ok", "checks": {"analytics-ingestion": "ok", "session-recordings-blob": "ok"}}
PLUGIN_UNHEALTHY = {"status": "error", "checks": {"analytics-ingestion": "error", "session-recordings-blob": "ok"}}


def plugin_server(server: FakeServer, state: str) -> None:
    """Play a plugin server that is healthy, unhealthy (a failing consumer), not ready, or an old version."""
    if state == "healthy":
        server.route("/_health", PLUGIN_HEALTHY, content_type="")  # Node's http server sets no content type
        server.route("/_ready", {"status": "ok"}, content_type="")
    elif state == "unhealthy":
        server.route("/_health", PLUGIN_UNHEALTHY, status=503, content_type="")
        server.route("/_ready", {"status": "error"}, status=503, content_type="")
    elif state == "not_ready":
        server.route("/_health", PLUGIN_HEALTHY, content_type="")
        server.route("/_ready", {"status": "error"}, status=503, content_type="")
    elif state == "old":  # 2022: {"status"} without sub-checks, and no /_ready yet
        server.route("/_health", {"status": "error"}, status=503, content_type="")
    else:
        raise ValueError(state)


# --- the web app (Django) ---

PREFLIGHT_OK = {
    "django": True,
    "redis": True,
    "plugins": True,
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
    "public_egress_ip_addresses": [],
}
PREFLIGHT_OLD = {  # a 2021 Postgres-era instance, logged-in fields included
    "django": True,
    "redis": True,
    "plugins": True,
    "celery": True,
    "db": True,
    "initiated": True,
    "cloud": False,
    "realm": "hosted",
    "available_social_auth_providers": {"github": False},
    "can_create_org": False,
    "email_service_available": False,
    "ee_available": False,
    "is_clickhouse_enabled": False,
    "db_backend": "postgres",
    "posthog_version": "1.29.1",
    "is_debug": False,
    "site_url": "http://localhost:8000",
}
READYZ_OK = {
    "clickhouse": True,
    "postgres": True,
    "postgres_flags": True,
    "postgres_migrations_uptodate": True,
    "kafka_connected": True,
    "celery_broker": True,
    "cache": True,
}


def web_app(
    server: FakeServer,
    *,
    preflight: dict | None = None,
    migrations_pending: bool = False,
    readyz: dict | None = None,
    readyz_served: bool = True,
) -> None:
    """Play Django: `/_livez`, `/_health` (text/plain), `/_readyz` and `/_preflight/` (JSON)."""
    server.route("/_livez", {"http": True})
    if migrations_pending:
        server.route("/_health", "Migrations are not up to date", status=503)
    else:
        server.route("/_health", "ok")
    if readyz_served:
        checks = readyz if readyz is not None else READYZ_OK
        server.route("/_readyz", checks, status=200 if all(checks.values()) else 503)
    server.route("/_preflight/", preflight if preflight is not None else PREFLIGHT_OK)


# --- Redis ---


def redis_url(base_url: str, db: int = REDIS_DB) -> str:
    """`base_url` pointing at database `db`."""
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def seed_redis(server, **keys) -> str:
    """Empty the test database, set `keys` (value, or (value, ttl_seconds)), return the URL the doctor uses.

    Keys with characters Python names cannot hold are passed as a dict: seed_redis(server, **{PING_KEY: ...}).
    """
    import redis

    client = redis.Redis.from_url(redis_url(server.admin_url))
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
    return redis_url(server.url)


def iso_ago(seconds: float) -> str:
    """The plugin server's ping value: `new Date().toISOString()` taken `seconds` ago."""
    when = datetime.now(UTC) - timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def unix_ago(seconds: float) -> str:
    """The Celery heartbeat's value: `int(time.time())` taken `seconds` ago."""
    return str(int(time.time() - seconds))
