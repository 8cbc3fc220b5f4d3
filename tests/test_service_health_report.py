"""A whole run against a sick plugin server puts it, with the advice, at the top of report.md: as the cause the
diagnosis names, with the plugin server's own findings listed under it."""

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
    assert (
        head[2] == "**Ingestion breaks at Ingestion workers (plugin server): The plugin server runs but does not "
        "consume events.**"
    )
    assert head[3].startswith(
        "Root cause: the plugin server reports its consumer unhealthy → its /\\_health fails → "
        "its Redis heartbeat is stale"
    )
    assert head[4].startswith("Next step: Restart the plugin server (safe")
    cause = next(
        line for line in head if line.startswith("- ❌ **The plugin server runs but does not consume events**")
    )
    assert "`plugin_server.health`" in cause and "`plugin_server.heartbeat`" in cause  # consequences under their cause
    health, heartbeat = result.check("plugin_server.health"), result.check("plugin_server.heartbeat")
    assert "reports itself unhealthy (HTTP 503): failing analytics-ingestion" in health["summary"]
    assert "heartbeat is stale: last written 4" in heartbeat["summary"]
    assert health["advice"][0]["text"].startswith("Restart the plugin server; it is safe")

    assert result.check("celery.workers")["status"] == "ok"  # only what is broken shows up
    terminal = result.stdout
    assert "plugin_server.health" in terminal and "plugin_server.heartbeat" in terminal
