"""A whole PostHog-shaped deployment for the safety tests: real ClickHouse, Postgres and Redis seeded like
PostHog's, a real local HTTP server playing the web app and the plugin server, and hostile data planted
where customers' data lives (the dead letter queue).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.clickhouse_support import server_deployment
from tests.conftest import COMPONENT_FLAGS
from tests.http_server import FakeServer
from tests.postgres_support import Segment, deployment
from tests.service_support import (
    CELERY_HEARTBEAT_KEY,
    PING_KEY,
    VERSION_KEY,
    iso_ago,
    plugin_server,
    seed_redis,
    unix_ago,
    web_app,
)

# What a customer's tables can hold: markup, Markdown and template syntax, personal data, bytes that are
# not UTF-8, a very long message. None of it may change a report's structure or leak into it unmasked.
HOSTILE_ERRORS = {
    "script": "<script>alert('dlq')</script><img src=x onerror=alert(1)>",
    "markdown": "| broken | table | ``` </details> # heading [x](javascript:alert(1)) **bold**",
    "jinja": "{{ config.__class__.__init__.__globals__ }} {% raw %} {# c #}",
    "personal": "failed for jane.doe@example.com from 203.0.113.7",
}
LONG_ERROR = "Event ingestion failed. Error: " + "x" * 200_000
HOSTILE_PROPERTIES = (
    '{"email": "jane.doe@example.com", "$ip": "203.0.113.7", "name": "Jane <b>Doe</b>", '
    '"password": "hunter2-in-payload", "plan": "pro"}'
)


@dataclass
class Deployment:
    flags: list[str]  # every component of the deployment, for `posthog-doctor run`
    clickhouse_database: str
    postgres: object
    http: FakeServer
    redis_url: str


DLQ_AGE = (
    2 * 86_400
)  # the planted errors are two days old: outside the default 24 h window, inside a 3d window (--set …window=3d)
DLQ_WINDOW = "3d"


def whole_deployment(clickhouse_server, postgres_server, redis_server, name: str = "safety") -> Deployment:
    """A healthy ClickHouse deployment (every check ok or skipped) whose dead letter queue holds old,
    hostile errors; a fault test breaks one thing and sees exactly that."""
    ch = server_deployment(clickhouse_server, f"phd_{name}")
    ch.create_posthog_schema()
    ch.plant_events(3_000, first_age=30, spacing=20)
    ch.plant_dlq(
        40,
        location="plugin_server_ingest_event:populateTeamDataStep",
        error="'Event ingestion failed. Error: team 7 not found'",
        age=DLQ_AGE,
        spread=600,
    )
    for i, (kind, text) in enumerate(HOSTILE_ERRORS.items()):
        ch.plant_dlq(
            3 + i,
            location=f"plugin_server_ingest_event:{kind}Step",
            error=_literal(text),
            age=DLQ_AGE,
            spread=60,
            properties=_literal(HOSTILE_PROPERTIES),
        )
    ch.plant_dlq(2, location="plugin_server_ingest_event", error=_literal(LONG_ERROR), age=DLQ_AGE)
    ch.plant_dlq(
        2,
        location="django_server_capture_endpoint",
        error="'Unable to fetch team \\xff\\xfe from Postgres'",
        age=DLQ_AGE,
    )
    # What a deployment that moved to ClickHouse leaves in Postgres: old events only.
    pg = deployment(postgres_server, f"phd_{name}_pg", (Segment(20_000, 200, 400),))
    redis_url = fresh_heartbeats(redis_server)
    http = FakeServer()
    web_app(http)
    plugin_server(http, "healthy")
    flags = []
    for component, url in (
        ("clickhouse", ch.url),
        ("postgres", pg.url),
        ("redis", redis_url),
        ("posthog_api", http.url),
        ("plugin_server", http.url),
    ):
        flags += [COMPONENT_FLAGS[component], url]
    flags += [COMPONENT_FLAGS["kafka"], "off"]  # Kafka's faults have tests of their own (tests/test_kafka_*.py)
    return Deployment(flags, ch.database, pg, http, redis_url)


def fresh_heartbeats(redis_server) -> str:
    """The plugin server's and Celery's heartbeats, just written (they age: seed them before each run)."""
    return seed_redis(
        redis_server, **{PING_KEY: (iso_ago(1), 60), VERSION_KEY: "1.2.3", CELERY_HEARTBEAT_KEY: unix_ago(1)}
    )


def _literal(text: str) -> str:
    """A ClickHouse string literal for `text` (quotes and backslashes escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@pytest.fixture(scope="module")
def posthog(clickhouse_server, postgres_server, redis_server):
    dep = whole_deployment(clickhouse_server, postgres_server, redis_server)
    yield dep
    dep.http.close()
