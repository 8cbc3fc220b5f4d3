"""The issue's "done when": a whole run against a sick plugin server puts it, with the advice, at the top of
report.md."""

from __future__ import annotations

from tests.conftest import target
from tests.service_support import (
    CELERY_HEARTBEAT_KEY,
    PING_KEY,
    VERSION_KEY,
    iso_ago,
    plugin_server,
    seed_redis,
    unix_ago,
)


def test_unhealthy_plugin_server_and_stale_heartbeat_lead_the_report(doctor, redis_server, fake_http):
    plugin_server(fake_http, "unhealthy")
    url = seed_redis(
        redis_server, **{PING_KEY: (iso_ago(45), 15), VERSION_KEY: "1.47.0", CELERY_HEARTBEAT_KEY: unix_ago(3)}
    )
    result = doctor("run", *target(redis=url, plugin_server=fake_http.url))
    assert result.code == 2

    head = result.text("md").splitlines()[:10]
    health = next(line for line in head if "`plugin_server.health`" in line)
    heartbeat = next(line for line in head if "`plugin_server.heartbeat`" in line)
    assert "reports itself unhealthy (HTTP 503): failing analytics-ingestion" in health
    assert "heartbeat is stale: last written 4" in heartbeat
    for line in (health, heartbeat):
        assert line.startswith("- ❌") and "<br>→ Restart the plugin server; it is safe" in line

    assert result.check("celery.workers")["status"] == "ok"  # only what is broken shows up
    terminal = result.stdout
    assert "plugin_server.health" in terminal and "plugin_server.heartbeat" in terminal
