"""The generation matrix, service side: the whole doctor against PostHog 1.31 (2021), 2023 and 2025+ as their
services answer (tests/generations.py), on a real Redis and real local HTTP servers.

A healthy deployment of every generation is healthy in the report (no false failure or warning), and each
broken state a generation can have is found, by the check that should find it, with the right service named.
ClickHouse and Postgres are off here: their side of each generation is tests/clickhouse_generations.py's.
"""

from __future__ import annotations

import pytest

from tests import generations
from tests.generations import GENERATIONS, Deployment, Generation

API_KEY = "phx_GenerationMatrixKey0123456789abcdef"
ALWAYS_RUN = (
    "redis.connection",
    "celery.workers",
    "plugin_server.connection",
    "plugin_server.health",
    "plugin_server.heartbeat",
    "posthog.connection",
    "posthog.preflight",
    "posthog.readiness",
    "system_status",
)


@pytest.fixture
def deployment(redis_server, request):
    made: list[Deployment] = []

    def make(generation: Generation, state: str) -> Deployment:
        made.append(generations.serve(generation, state, redis_server))
        return made[-1]

    yield make
    for d in made:
        generations.close(d)


def run(doctor, monkeypatch, d: Deployment, *, redis: str = "env"):
    """The doctor as a customer runs it: PostHog's env given, ClickHouse and Postgres off (their side is tested
    with the ClickHouse generations), the host check left out (it judges the machine running the tests)."""
    env = dict(d.env)
    flags = ["--clickhouse-url", "off", "--postgres-url", "off", "--posthog-url", d.web.url, "--api-key", API_KEY]
    if "CDP_API_URL" not in env:
        flags += ["--plugin-server-url", d.plugin_url]
    if redis == "guess":  # no REDIS_URL: the two Redis of the hobby stack, as the defaults would find them
        env.pop("REDIS_URL", None)
        flags += ["--redis-url", f"{d.other_redis_url},{d.main_redis_url}"]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return doctor("run", *flags, "--skip", "host")


def statuses(result) -> dict[str, tuple[str, str]]:
    return {c["id"]: (c["status"], c["summary"]) for c in result.report["checks"]}


@pytest.mark.parametrize("generation", GENERATIONS, ids=lambda g: g.key)
def test_a_healthy_deployment_of_every_generation_is_healthy(doctor, monkeypatch, deployment, generation):
    d = deployment(generation, "healthy")
    result = run(doctor, monkeypatch, d)
    seen = statuses(result)
    bad = {k: v for k, v in seen.items() if v[0] not in ("ok", "skipped")}
    assert not bad, bad
    ran = [k for k in ALWAYS_RUN if seen[k][0] == "ok"]
    assert ran == list(ALWAYS_RUN), {k: seen[k] for k in ALWAYS_RUN if k not in ran}
    assert result.code == 0


def check(result, check_id: str) -> dict:
    return result.check(check_id)


def keys(check_result: dict) -> set[str]:
    return {f["key"] for f in check_result["findings"] if f["status"] != "ok"}


BROKEN = [(g, s) for g in GENERATIONS for s in g.states]


@pytest.mark.parametrize("generation, state", BROKEN, ids=[f"{g.key}-{s}" for g, s in BROKEN])
def test_each_broken_state_is_found_in_every_generation_that_can_have_it(
    doctor, monkeypatch, deployment, generation, state
):
    d = deployment(generation, state)
    result = run(doctor, monkeypatch, d)
    health = check(result, "plugin_server.health")
    seen = statuses(result)
    if state == "plugin_down":
        assert health["status"] == "fail" and "down" in keys(health), health["summary"]
        assert health["summary"].startswith("the plugin server is not running (connection refused")
        assert seen["plugin_server.heartbeat"][0] == "fail", seen["plugin_server.heartbeat"]
        assert "Restart the plugin server" in health["advice"][0]["text"]
        # Django agrees: its own pages say the plugin server is down.
        assert seen["system_status"][0] == "fail" and "plugin server is down" in seen["system_status"][1]
        assert seen["posthog.preflight"][0] == "fail"
    elif state == "not_consuming":
        assert health["status"] == "fail" and "unhealthy" in keys(health), health["summary"]
        if generation.key == "2025":  # the consumer's own message, and /_ready (the same handler) said once
            assert "ingestion-consumer-events_plugin_ingestion (event ingestion from Kafka topic " in health["summary"]
            assert "Consumer unhealthy" in health["summary"] and "not ready" not in health["summary"]
        else:  # 2023: /_health names the failing check, /_ready says the consumer is not ready
            assert "failing analytics-ingestion" in health["summary"] and "not_ready" in keys(health)
        assert "lag" in keys(health)  # the newest event it committed is hours old
        assert health["metrics"]["ingestion_lag_seconds"] > 3600
    elif state == "degraded":
        assert health["status"] == "warn" and keys(health) == {"degraded"}, health["summary"]
        assert "Healthy with warnings: Rebalancing in progress (3s)" in health["summary"]
        assert result.code == 1  # a warning, nothing fails: Django still counts it alive (HTTP 200)
    elif state == "crash_loop":
        assert health["status"] == "fail" and "crash_loop" in keys(health), health["summary"]
        assert "crash-looping: it started" in health["summary"]
        assert health["metrics"]["uptime_seconds"] < 60
    elif state == "dead_lettering":
        assert health["status"] == "warn" and keys(health) == {"dlq"}, health["summary"]
        assert "events to the dead letter queue since it started (" in health["summary"]
        assert health["metrics"]["dlq_events_since_start"] in (41, 115)
    else:
        raise AssertionError(state)
    if state != "plugin_down":  # the service itself was read; its generation is named in the evidence
        table = next(e for e in health["evidence"] if e["title"] == "Plugin servers")
        assert table["rows"][0][2] == ("2023-24" if generation.key == "2023" else "2025+")


# Audit row 4 (/work/shared/posthog-generations.md).
def test_without_redis_setting_the_redis_holding_posthogs_heartbeat_is_chosen(doctor, monkeypatch, deployment):
    # The newest hobby stack runs redis (left with a 9-day-old heartbeat) and redis7 (Django and Celery's):
    # with no REDIS_URL both are candidates, and the fresh heartbeat decides.
    from tests.generations import GEN_2025

    d = deployment(GEN_2025, "healthy")
    result = run(doctor, monkeypatch, d, redis="guess")
    workers = check(result, "celery.workers")
    assert workers["status"] == "ok", workers["summary"]
    chosen = next(i["value"] for i in workers["evidence"][0]["items"] if i["key"] == "redis")
    assert chosen.startswith(f"127.0.0.1:{d.redis_host_port[1]}/{generations.MAIN_DB}: it holds PostHog's newest")
    assert f"also tried 127.0.0.1:{d.redis_host_port[1]}/{generations.OTHER_DB} (Celery heartbeat 9 d old)" in chosen
    assert workers["metrics"]["queue_depth"] == 7
