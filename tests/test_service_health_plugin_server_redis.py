"""plugin_server.redis: the plugin server's own Redis connections (CDP_REDIS_HOST, LOGS_REDIS_HOST, ...), probed
as the plugin server would reach them, on a real Redis."""

from __future__ import annotations

from tests.conftest import target
from tests.http_server import closed_port

ONLY = ["--only", "plugin_server.redis"]


def port_of(url: str) -> str:
    return url.rsplit(":", 1)[1].split("/")[0]


def test_without_settings_of_its_own_the_check_does_not_apply(doctor, redis_server):
    check = doctor("run", *target(redis=redis_server.url), *ONLY).check("plugin_server.redis")
    assert check["status"] == "skipped" and "CDP_REDIS_HOST" in check["summary"]


def test_each_redis_the_settings_name_is_probed(doctor, redis_server, monkeypatch):
    # docker-compose.hobby.yml @ 4ea531a gives the plugin server CDP_REDIS_HOST and COOKIELESS_REDIS_HOST.
    for name in ("CDP", "COOKIELESS"):
        monkeypatch.setenv(f"{name}_REDIS_HOST", "127.0.0.1")
        monkeypatch.setenv(f"{name}_REDIS_PORT", port_of(redis_server.url))
    check = doctor("run", *target(redis=redis_server.url), *ONLY).check("plugin_server.redis")
    assert check["status"] == "ok", check["summary"]
    assert check["summary"] == "every Redis the plugin server's settings name answers (2)"
    table = check["evidence"][0]
    assert [r[:3] for r in table["rows"]] == [
        ["cdp", f"redis://127.0.0.1:{port_of(redis_server.url)}", "CDP_REDIS_HOST"],
        ["cookieless", f"redis://127.0.0.1:{port_of(redis_server.url)}", "COOKIELESS_REDIS_HOST"],
    ]


def test_a_redis_that_does_not_answer_says_what_stops(doctor, redis_server, monkeypatch):
    monkeypatch.setenv("CDP_REDIS_HOST", "127.0.0.1")  # the port is the plugin server's default, 6479, unless set
    monkeypatch.setenv("CDP_REDIS_PORT", str(closed_port()))
    check = doctor("run", *target(redis=redis_server.url), *ONLY).check("plugin_server.redis")
    assert check["status"] == "fail" and [f["key"] for f in check["findings"]] == ["down.cdp"]
    assert check["summary"].startswith("cdp Redis (127.0.0.1:")
    assert "transformations during ingestion, destinations and workflows fail" in check["summary"]
    assert "CDP_REDIS_HOST" in check["advice"][0]["text"]


def test_tls_to_a_plain_redis_is_named_with_the_setting_to_change(doctor, redis_server, monkeypatch):
    # LOGS_REDIS_TLS defaults to true in PostHog's production image: against a plain Redis it waits forever.
    monkeypatch.setenv("LOGS_REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("LOGS_REDIS_PORT", port_of(redis_server.url))
    check = doctor("run", *target(redis=redis_server.url), *ONLY, "--timeout", "40").check("plugin_server.redis")
    assert check["status"] == "fail" and [f["key"] for f in check["findings"]] == ["tls.logs"]
    assert "talks TLS to its logs Redis" in check["summary"] and "answers plain connections only" in check["summary"]
    assert check["advice"][0]["text"].startswith("Set LOGS_REDIS_TLS=false in the plugin server's environment")
