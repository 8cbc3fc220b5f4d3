"""plugin_server.health and plugin_server.heartbeat against a real local HTTP server and a real Redis."""

from __future__ import annotations

import re
import time

import pytest

from tests.conftest import target
from tests.http_server import closed_port
from tests.service_support import PING_KEY, PLUGIN_HEALTHY, VERSION_KEY, iso_ago, plugin_server, redis_url, seed_redis

HEALTH = ["--only", "plugin_server.health"]
HEARTBEAT = ["--only", "plugin_server.heartbeat"]


# --- plugin_server.health ---


def test_healthy_plugin_server_names_its_sub_checks(doctor, fake_http):
    plugin_server(fake_http, "healthy")
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "ok"
    assert "analytics-ingestion" in check["summary"] and "session-recordings-blob" in check["summary"]
    assert fake_http.routes["/_ready"].hits == 1


def test_unhealthy_plugin_server_names_each_failing_sub_check_and_advises_a_restart(doctor, fake_http):
    plugin_server(fake_http, "unhealthy")
    result = doctor("run", *target(plugin_server=fake_http.url), *HEALTH)
    check = result.check("plugin_server.health")
    assert check["status"] == "fail" and result.code == 2
    assert "unhealthy (HTTP 503): failing analytics-ingestion (event ingestion from Kafka)" in check["summary"]
    assert "session-recordings-blob" not in check["summary"].split("failing", 1)[1].split(";")[0]
    assert "not ready" in check["summary"]
    advice = " ".join(a["text"] for a in check["advice"])
    assert "Restart the plugin server; it is safe" in advice and "dead letter queue" in advice
    assert any("docker compose restart plugins" in c for a in check["advice"] for c in a["commands"])
    sub_checks = next(e for e in check["evidence"] if e["title"] == "Sub-checks of /_health")
    assert ["analytics-ingestion", "error"] in sub_checks["rows"]


def test_plugin_server_not_ready_is_a_failure_even_when_healthy(doctor, fake_http):
    plugin_server(fake_http, "not_ready")
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "fail"
    assert check["summary"] == "not ready (/_ready answered HTTP 503): its Kafka consumer is not consuming"


def test_older_plugin_server_without_sub_checks_or_ready(doctor, fake_http):
    plugin_server(fake_http, "old")
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "fail"
    assert "unhealthy (HTTP 503, status 'error') without naming the failing part" in check["summary"]
    assert "/_ready" not in check["summary"]  # 404 there only means an older version


def test_oldest_plain_text_health_is_healthy(doctor, fake_http):
    fake_http.route("/_health", "ok")
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "ok" and "older plain-text" in check["summary"]


@pytest.mark.parametrize(
    "status, body, ctype, status_word, words",
    [
        (502, "<html><body>Bad Gateway</body></html>", "text/html", "fail", "HTTP 502 with a body that is not JSON"),
        (200, "<html><title>Welcome to nginx</title></html>", "text/html", "warn", "is this URL the plugin server"),
        (404, "", "text/plain", "warn", "there is no /_health at this address"),
    ],
)
def test_answers_that_are_not_the_plugin_servers_health_are_told_in_plain_words(
    doctor, fake_http, status, body, ctype, status_word, words
):
    fake_http.route("/_health", body, status=status, content_type=ctype)
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == status_word and words in check["summary"], check["summary"]


def test_refused_connection_means_the_plugin_server_is_not_running(doctor):
    url = f"http://127.0.0.1:{closed_port()}"
    check = doctor("run", *target(plugin_server=url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "fail"
    assert check["summary"].startswith("the plugin server is not running (connection refused")
    assert "no event is being ingested" in check["summary"] and check["advice"]


def test_server_that_accepts_and_never_answers_is_reported_stuck(doctor, silent_server):
    result = doctor("run", *target(plugin_server=f"http://127.0.0.1:{silent_server.port}"), *HEALTH, "--timeout", "9")
    check = result.check("plugin_server.health")
    assert check["status"] == "fail" and "does not answer: it is stuck or overloaded" in check["summary"]
    assert check["duration_ms"] < 5000  # the probe already waited; the check itself does not wait again


def test_ready_that_hangs_costs_only_its_own_answer(doctor, fake_http):
    fake_http.route("/_health", PLUGIN_HEALTHY, content_type="")
    fake_http.route("/_ready", {"status": "ok"}, delay=30)
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "warn" and check["summary"].startswith("/_ready did not answer: no answer from")
    assert "within 5.0 s" in check["summary"] and check["duration_ms"] < 8000


# --- plugin_server.heartbeat ---


def test_fresh_heartbeat_is_alive_and_reports_its_age_and_version(doctor, redis_server):
    planted = time.monotonic()
    url = seed_redis(redis_server, **{PING_KEY: (iso_ago(4), 60), VERSION_KEY: "1.47.0"})
    check = doctor("run", *target(redis=url), *HEARTBEAT).check("plugin_server.heartbeat")
    waited = time.monotonic() - planted
    assert check["status"] == "ok"
    items = {i["key"]: i["value"] for i in check["evidence"][0]["items"]}
    # Written 4 s before planting; read at most `waited` later (the clock the test reads, not a guess).
    assert 4 - 0.5 <= items["age_seconds"] <= 4 + waited + 0.5 and 0 < items["ttl_seconds"] <= 60
    said = re.match(
        r"plugin server 1\.47\.0 heartbeat is (\d+) s old \(alive means younger than 30 s\)$", check["summary"]
    )
    assert said and abs(int(said.group(1)) - items["age_seconds"]) <= 1


def test_stale_heartbeat_fails_with_its_age(doctor, redis_server):
    url = seed_redis(redis_server, **{PING_KEY: (iso_ago(45), 15), VERSION_KEY: "1.47.0"})
    check = doctor("run", *target(redis=url), *HEARTBEAT).check("plugin_server.heartbeat")
    assert check["status"] == "fail"
    assert "heartbeat is stale: last written 4" in check["summary"] and "younger than 30 s" in check["summary"]
    assert "Restart the plugin server" in check["advice"][0]["text"]


def test_alive_threshold_is_an_option(doctor, redis_server):
    url = seed_redis(redis_server, **{PING_KEY: (iso_ago(45), 15)})
    check = doctor("run", *target(redis=url), *HEARTBEAT, "--option", "plugin_server.heartbeat.alive_seconds=60").check(
        "plugin_server.heartbeat"
    )
    assert check["status"] == "ok" and "younger than 60 s" in check["summary"]


def test_missing_ping_on_a_recent_plugin_server_is_a_warning_with_an_explanation(doctor, redis_server, fake_http):
    plugin_server(fake_http, "healthy")
    url = seed_redis(redis_server, **{VERSION_KEY: "1.47.0"})
    check = doctor("run", *target(redis=url, plugin_server=fake_http.url), *HEARTBEAT).check("plugin_server.heartbeat")
    assert check["status"] == "warn"
    assert "recent plugin servers no longer write it" in check["summary"]
    assert "CDP_API_URL" in check["advice"][0]["text"]


def test_missing_ping_with_a_dead_plugin_server_fails(doctor, redis_server):
    url = seed_redis(redis_server, **{VERSION_KEY: "1.47.0"})
    dead = f"http://127.0.0.1:{closed_port()}"
    check = doctor("run", *target(redis=url, plugin_server=dead), *HEARTBEAT).check("plugin_server.heartbeat")
    assert check["status"] == "fail" and "the plugin server is down" in check["summary"]
    assert "connection refused" in check["summary"]


def test_missing_ping_when_the_plugin_server_cannot_be_asked_is_a_warning(doctor, redis_server):
    url = seed_redis(redis_server)
    check = doctor("run", *target(redis=url), *HEARTBEAT).check("plugin_server.heartbeat")
    assert check["status"] == "warn" and "could not be asked" in check["summary"]
    assert "--plugin-server-url" in check["advice"][0]["text"]


@pytest.mark.parametrize(
    "value, words",
    [
        ("not-a-date", "not an ISO timestamp"),
        ([b"a", b"b"], "holds a list, not the string PostHog writes"),
    ],
)
def test_odd_ping_values_are_explained(doctor, redis_server, value, words):
    url = seed_redis(redis_server, **{PING_KEY: value})
    check = doctor("run", *target(redis=url), *HEARTBEAT).check("plugin_server.heartbeat")
    assert check["status"] == "warn" and words in check["summary"]


def test_ping_from_the_future_points_at_clock_skew(doctor, redis_server):
    url = seed_redis(redis_server, **{PING_KEY: iso_ago(-120)})
    check = doctor("run", *target(redis=url), *HEARTBEAT).check("plugin_server.heartbeat")
    assert check["status"] == "warn" and "in the future" in check["summary"]


def test_heartbeat_reads_the_database_in_the_url(doctor, redis_server):
    seed_redis(redis_server, **{PING_KEY: iso_ago(2)})
    other_db = redis_url(redis_server.url, 12)
    check = doctor("run", *target(redis=other_db), *HEARTBEAT).check("plugin_server.heartbeat")
    assert check["status"] == "warn"  # the key lives in database 11, not 12


def test_tls_mismatch_is_left_to_the_connection_check(doctor, fake_http):
    plugin_server(fake_http, "healthy")
    url = fake_http.url.replace("http://", "https://")
    check = doctor("run", *target(plugin_server=url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "skipped"
    assert "TLS" in check["summary"] and check["summary"].endswith("see plugin_server.connection")
