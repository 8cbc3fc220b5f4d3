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
    assert (
        "unhealthy (HTTP 503): failing analytics-ingestion (event ingestion from Kafka topic events_plugin_ingestion)"
        in check["summary"]
    )
    assert "session-recordings-blob" not in check["summary"].split("failing", 1)[1].split(";")[0]
    assert "not ready" in check["summary"]
    advice = " ".join(a["text"] for a in check["advice"])
    assert "Restart the plugin server; it is safe" in advice and "dead letter queue" in advice
    assert any("docker compose restart plugins" in c for a in check["advice"] for c in a["commands"])
    sub_checks = next(e for e in check["evidence"] if e["title"] == "Sub-checks of /_health")
    assert [r[1:3] for r in sub_checks["rows"]] == [["analytics-ingestion", "error"], ["session-recordings-blob", "ok"]]


def test_plugin_server_not_ready_is_a_failure_even_when_healthy(doctor, fake_http):
    plugin_server(fake_http, "not_ready")
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "fail"
    assert check["summary"] == "not ready (/_ready answered HTTP 503): its Kafka consumer is not consuming"


def test_unhealthy_2022_plugin_server_says_what_its_only_check_watches(doctor, fake_http):
    plugin_server(fake_http, "old")
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "fail"
    assert check["summary"] == (
        "the plugin server reports itself unhealthy (HTTP 503): its Kafka health check failed (a 2022 plugin "
        "server checks only that it can produce to and consume from Kafka)"
    )
    assert [r for r in fake_http.requests if r[1] != "/_health"] == []  # it would never answer anything else


def test_plain_text_ok_is_healthy(doctor, fake_http):
    # No PostHog version is known to answer this (the audit's row 10): kept so an odd proxy's "ok" is not a failure.
    fake_http.route("/_health", "ok")
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "ok" and "a plain-text 'ok'" in check["summary"]


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


def test_ready_that_hangs_on_a_2023_plugin_server_costs_only_its_short_limit(doctor, fake_http):
    fake_http.route("/_health", PLUGIN_HEALTHY, content_type="")
    fake_http.route("/_ready", {"status": "ok"}, hang=True)
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "warn" and check["summary"].startswith("/_ready did not answer: no answer from")
    assert "within 3.0 s" in check["summary"] and check["duration_ms"] < 6000


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


# Audit row 1 (/work/shared/posthog-generations.md).
def test_missing_ping_on_a_recent_healthy_plugin_server_is_as_expected(doctor, redis_server, fake_http):
    plugin_server(fake_http, "healthy")
    url = seed_redis(redis_server, **{VERSION_KEY: "1.47.0"})
    check = doctor("run", *target(redis=url, plugin_server=fake_http.url), *HEARTBEAT).check("plugin_server.heartbeat")
    assert check["status"] == "ok"
    assert "as expected" in check["summary"] and "recent plugin servers no longer write it" in check["summary"]


def test_missing_ping_on_an_unhealthy_plugin_server_is_left_to_its_health_check(doctor, redis_server, fake_http):
    plugin_server(fake_http, "unhealthy")
    url = seed_redis(redis_server, **{VERSION_KEY: "1.47.0"})
    check = doctor("run", *target(redis=url, plugin_server=fake_http.url), *HEARTBEAT).check("plugin_server.heartbeat")
    assert check["status"] == "skipped" and "plugin_server.health judges it" in check["summary"]


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


# --- the generations of the plugin server's HTTP server ---


# Audit row 11 (/work/shared/posthog-generations.md).
def test_2022_plugin_server_is_healthy_without_asking_the_paths_it_never_answers(doctor, fake_http):
    # plugin-server/src/main/services/http-server.ts (2022) answers /_health only: any other request hangs.
    fake_http.route("/_health", {"status": "ok"}, content_type="")
    ready = fake_http.route("/_ready", b"", hang=True)
    metrics = fake_http.route("/_metrics", b"", hang=True)
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "ok", check["summary"]
    assert (
        check["summary"]
        == "the plugin server reports itself healthy (a 2022 plugin server: /_health without sub-checks)"
    )
    assert ready.hits == metrics.hits == 0 and check["duration_ms"] < 3000
    row = next(e for e in check["evidence"] if e["title"] == "Plugin servers")["rows"][0]
    assert row[2] == "2022" and row[5].startswith("not asked: a 2022 plugin server never answers /_ready")


# Audit row 8 (/work/shared/posthog-generations.md).
def test_refused_port_with_a_fresh_heartbeat_is_an_old_plugin_server_not_a_dead_one(doctor, redis_server):
    # PostHog 1.31 and early 2022: no HTTP server, the Redis ping is the only sign of life.
    url = seed_redis(redis_server, **{PING_KEY: (iso_ago(3), 57), VERSION_KEY: "0.24.0"})
    dead = f"http://127.0.0.1:{closed_port()}?service=plugins"
    result = doctor("run", *target(redis=url, plugin_server=dead), "--only", "plugin_server")
    health, connection = result.check("plugin_server.health"), result.check("plugin_server.connection")
    assert health["status"] == "ok" and [f["key"] for f in health["findings"]] == ["no_http"]
    assert health["summary"].startswith("the plugin server has no HTTP server at this address, but its Redis heartbeat")
    assert "no event is being ingested" not in health["summary"]
    assert connection["status"] == "ok" and "an older plugin server without HTTP" in connection["summary"]
    assert result.check("plugin_server.heartbeat")["status"] == "ok"


DEGRADED_2025 = {
    "status": "ok",
    "checks": {
        "ingestion-consumer-events_plugin_ingestion": {
            "status": "degraded",
            "message": "Healthy with warnings: Rebalancing in progress (3s)",
        },
        "server-commands": "ok",
    },
}
FAILING_2025 = {
    "status": "error",
    "checks": {
        "ingestion-consumer-events_plugin_ingestion": {"status": "error", "message": "Consumer unhealthy"},
        "server-commands": "ok",
    },
}


# Audit row 9 (/work/shared/posthog-generations.md).
def test_2025_degraded_check_is_a_warning_with_its_message(doctor, fake_http):
    # nodejs/src/api/router.ts: {status, message} when a check has a message; degraded keeps HTTP 200.
    fake_http.route("/_health", DEGRADED_2025)
    fake_http.route("/_ready", DEGRADED_2025)
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "warn"
    assert check["summary"] == (
        "the plugin server is degraded: ingestion-consumer-events_plugin_ingestion (event ingestion from Kafka topic "
        "events_plugin_ingestion): Healthy with warnings: Rebalancing in progress (3s)"
    )
    assert "{" not in check["summary"]  # never a Python repr of the check's object
    assert check["advice"][0]["text"].startswith("A degraded check still works")


# Audit row 9, 11 (/work/shared/posthog-generations.md).
def test_2025_failing_check_shows_its_message_and_ready_is_not_reported_twice(doctor, fake_http):
    # 2025+ serves /_ready with /_health's handler: one failure, said once.
    fake_http.route("/_health", FAILING_2025, status=503)
    fake_http.route("/_ready", FAILING_2025, status=503)
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "fail"
    assert check["summary"] == (
        "the plugin server reports itself unhealthy (HTTP 503): failing ingestion-consumer-events_plugin_ingestion "
        "(event ingestion from Kafka topic events_plugin_ingestion): Consumer unhealthy"
    )
    rows = next(e for e in check["evidence"] if e["title"] == "Sub-checks of /_health")["rows"]
    assert rows[0][1:4] == ["ingestion-consumer-events_plugin_ingestion", "error", "Consumer unhealthy"]


# Audit row 12 (/work/shared/posthog-generations.md).
@pytest.mark.parametrize(
    "name, what, ingests",
    [
        ("analytics-ingestion", "event ingestion from Kafka topic events_plugin_ingestion", True),
        ("analytics-ingestion-overflow", "overflow event ingestion (topic events_plugin_ingestion_overflow)", True),
        ("events-ingestion-pipeline-default", "event ingestion pipeline default", True),
        (
            "ingestion-consumer-events_plugin_ingestion_historical",
            "event ingestion from Kafka topic events_plugin_ingestion_historical",
            True,
        ),
        (
            "ingestion-consumer-prod_events_plugin_ingestion",
            "event ingestion from Kafka topic prod_events_plugin_ingestion",
            True,
        ),  # a KAFKA_PREFIX
        ("ingestion-consumer-exceptions_ingestion", "ingestion from Kafka topic exceptions_ingestion", False),
        ("CdpCyclotronWorker", "CDP destinations and workflows (CdpCyclotronWorker)", False),
        ("session-recordings-blob-v2-overflow", "session recording ingestion-overflow", False),
        ("server-commands", "commands Django sends to the plugin server (reloads)", False),
        ("something-new", "", False),
    ],
)
def test_sub_check_names_of_every_generation_are_described(name, what, ingests):
    from posthog_doctor.checks.plugin_server._catalogue import describe

    assert describe(name) == (what, ingests)


# --- /_metrics ---


def metrics_text(*, started: float, processed_ms: float | None = None, dlq: dict[str, int] | None = None) -> str:
    from tests.generations import prometheus

    return prometheus(0, started=started, processed_ms=processed_ms, dlq=dlq or {}, groupId="ingestion")


# Audit row 51 (/work/shared/posthog-generations.md).
def test_young_healthy_plugin_server_is_named_a_young_process(doctor, fake_http):
    plugin_server(fake_http, "healthy")
    fake_http.route(
        "/_metrics", metrics_text(started=time.time() - 90, processed_ms=time.time() * 1000), content_type=""
    )
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "warn" and [f["key"] for f in check["findings"] if f["status"] != "ok"] == ["young"]
    assert re.search(r"is a young process: it started (1 min|9\d s) ago; if a second run", check["summary"])
    assert 85 <= check["metrics"]["uptime_seconds"] <= 100
    assert check["advice"][0]["text"].startswith("Run the doctor again in a few minutes")


# Audit row 51 (/work/shared/posthog-generations.md).
def test_stale_newest_event_is_ingestion_lag_at_the_plugin_server(doctor, fake_http):
    plugin_server(fake_http, "healthy")
    old = (time.time() - 2 * 3600) * 1000
    fake_http.route("/_metrics", metrics_text(started=time.time() - 86400, processed_ms=old), content_type="")
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "warn" and "the newest event the plugin server processed is 2 h old" in check["summary"]
    assert 7190 < check["metrics"]["ingestion_lag_seconds"] < 7300
    assert check["metrics"]["uptime_seconds"] >= 86400


# Audit row 51 (/work/shared/posthog-generations.md).
def test_dead_lettered_events_are_counted_per_step(doctor, fake_http):
    plugin_server(fake_http, "healthy")
    text = metrics_text(started=time.time() - 86400, processed_ms=time.time() * 1000, dlq={"processPersonsStep": 7})
    fake_http.route("/_metrics", text, content_type="text/plain; version=0.0.4; charset=utf-8")  # prom-client's own
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "warn"
    assert (
        check["summary"]
        == "the plugin server sent 7 events to the dead letter queue since it started (processPersonsStep 7)"
    )
    steps = next(e for e in check["evidence"] if e["title"].startswith("Dead-lettered events per pipeline step"))
    assert steps["rows"] == [[fake_http.url.split("//")[1], "processPersonsStep", "7"]]
    assert check["metrics"]["dlq_events_since_start"] == 7


@pytest.mark.parametrize(
    "body, status, note",
    [
        ("", 404, "no /_metrics on this plugin server"),
        ("<html>Bad gateway</html>", 200, "is not Prometheus text"),
        ("", 500, "/_metrics answered HTTP 500"),
    ],
)
def test_metrics_that_cannot_be_read_are_noted_without_a_finding(doctor, fake_http, body, status, note):
    plugin_server(fake_http, "healthy")
    if status != 404:
        fake_http.route("/_metrics", body, status=status, content_type="text/html")
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "ok"
    notes = next(e for e in check["evidence"] if e["title"] == "/_metrics")["rows"]
    assert note in notes[0][0]


def test_an_oversized_exposition_is_read_from_its_start_only(doctor, fake_http):
    plugin_server(fake_http, "healthy")
    text = metrics_text(started=time.time() - 86400, processed_ms=time.time() * 1000)
    filler = "".join(
        f'kafka_consumer_assignment{{topic_name="t",partition_id="{i}",pod="p",group_id="g"}} 1\n'
        for i in range(40_000)
    )
    fake_http.route("/_metrics", text + filler, content_type="")
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "ok" and check["metrics"]["uptime_seconds"] >= 86400
    notes = next(e for e in check["evidence"] if e["title"] == "/_metrics")["rows"]
    assert "larger than the doctor reads" in notes[0][0]


# --- ingestion in more than one service ---

SPLIT_CDP = {"status": "ok", "checks": {"cdp-processed-events": "ok", "server-commands": "ok"}}


# Audit row 45, 49 (/work/shared/posthog-generations.md).
def test_restart_advice_names_the_service_that_really_ingests(doctor, fake_http):
    # PLUGIN_SERVER_MODE splits the work: Helm's posthog-plugins runs CDP, posthog-plugins-ingestion ingests.
    from tests.http_server import FakeServer

    fake_http.route("/_health", SPLIT_CDP, content_type="")
    fake_http.route("/_ready", {"status": "ok"}, content_type="")
    ingestion = FakeServer()
    try:
        plugin_server(ingestion, "unhealthy")
        urls = f"{fake_http.url}?service=posthog-plugins,{ingestion.url}?service=posthog-plugins-ingestion"
        check = doctor("run", *target(plugin_server=urls), *HEALTH).check("plugin_server.health")
    finally:
        ingestion.close()
    assert check["status"] == "fail"
    assert check["summary"].startswith(
        "plugin server posthog-plugins-ingestion reports itself unhealthy (HTTP 503): failing analytics-ingestion"
    )
    commands = [c for a in check["advice"] for c in a["commands"]]
    assert "kubectl -n posthog rollout restart deployment/posthog-plugins-ingestion" in commands
    assert "kubectl -n posthog rollout restart deployment/posthog-plugins" not in commands
    rows = {r[0]: r[3] for r in next(e for e in check["evidence"] if e["title"] == "Plugin servers")["rows"]}
    assert rows == {"posthog-plugins": "no", "posthog-plugins-ingestion": "yes"}


# Audit row 49 (/work/shared/posthog-generations.md).
def test_a_plugin_server_that_does_not_ingest_is_said_to_be_the_wrong_one(doctor, fake_http):
    # CDP_API_URL names the CDP API: a plugin server, but not the one that ingests events.
    fake_http.route("/_health", SPLIT_CDP, content_type="")
    fake_http.route("/_ready", {"status": "ok"}, content_type="")
    check = doctor("run", *target(plugin_server=fake_http.url), *HEALTH).check("plugin_server.health")
    assert check["status"] == "warn"
    assert "no plugin server reached reports event ingestion among its health checks" in check["summary"]
    assert "--plugin-server-url" in check["advice"][0]["text"]


def test_a_fresh_ping_belongs_to_the_plugin_server_that_answers_not_to_a_refused_one(doctor, redis_server, fake_http):
    # 2023-24 plugin servers answer HTTP and write the ping: a second, refused URL is down, not an old version.
    plugin_server(fake_http, "healthy")
    url = seed_redis(redis_server, **{PING_KEY: (iso_ago(2), 58)})
    urls = f"{fake_http.url}?service=plugins,http://127.0.0.1:{closed_port()}?service=plugins-ingestion"
    check = doctor("run", *target(redis=url, plugin_server=urls), *HEALTH).check("plugin_server.health")
    assert check["status"] == "fail"
    assert check["summary"].startswith("plugin server plugins-ingestion is not running (connection refused")
    assert "no_http" not in {f["key"] for f in check["findings"]}


def test_dead_lettered_events_are_a_shared_fact_for_the_dead_letter_queue(fake_http):
    # The seam the dead letter queue's check reads (checks/common/plugin_server.py: dead_lettered, figures).
    from posthog_doctor import units
    from posthog_doctor.checks.common.plugin_server import dead_lettered, plugin_server_figures
    from posthog_doctor.config import load_settings
    from posthog_doctor.connectors import probe
    from posthog_doctor.connectors.base import Deadline
    from posthog_doctor.context import Context, RunState
    from posthog_doctor.topology import COMPONENTS

    plugin_server(fake_http, "healthy")
    text = metrics_text(started=time.time() - 7200, processed_ms=time.time() * 1000, dlq={"processPersonsStep": 12})
    fake_http.route("/_metrics", text, content_type="")
    ep = load_settings({"plugin_server_url": f"{fake_http.url}?service=plugins"}, {}).endpoints["plugin_server"]
    result, used = probe(COMPONENTS["plugin_server"], ep, seconds=3)
    state = RunState("run", {"plugin_server": used}, {"plugin_server": result})
    ctx = Context("clickhouse.dead_letter_queue", ("plugin_server",), state, {}, Deadline(10))
    try:
        [figures] = plugin_server_figures(ctx)
        assert figures.read and figures.dlq_by_step == {"processPersonsStep": 12.0}
        assert 7190 < (figures.uptime_seconds or 0) < 7300 and (figures.lag_seconds or 99) < 30
        since = units.duration(figures.uptime_seconds)
        assert dead_lettered(ctx) == (12, f"plugins: since it started {since} ago; processPersonsStep 12")
    finally:
        ctx.close()
