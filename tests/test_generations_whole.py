"""The generation matrix, whole (issue 12): the full doctor, every component, against PostHog 1.31 (2021), 2023 and
2025+ as whole deployments on the real test servers (tests/deployment.py joins the service side,
tests/generations.py, with the data side, tests/clickhouse_generations.py, and with Kafka, Postgres and ZooKeeper).

A healthy deployment of every generation is healthy in the report: no failure, no warning, the event's path seen
flowing. `host.resources` is left out of every run: it judges the machine running the tests (its CPUs, memory and
disk), not the deployment. The same broken states (plugin server down, events dead-lettered, ingestion stalled) are
found in every generation, by the checks that should find them and by the diagnosis.
"""

from __future__ import annotations

import pytest

from tests import clickhouse_generations as chgen
from tests import deployment as dp
from tests.deployment import KAFKA_ONE_READING, KAFKA_SECONDS, build, red, run_all, stack, statuses  # noqa: F401

pytestmark = [pytest.mark.clickhouse, pytest.mark.postgres, pytest.mark.redis]

GENERATIONS = ("2021", "2023", "2025")
# state -> (how it is built, what breaks, the run's flags)
BREAKS = {
    "healthy": (dict(shared=True), lambda d: d, KAFKA_ONE_READING),
    "plugin_down": (dict(traffic="stalled"), dp.plugin_server_down, KAFKA_SECONDS),
    "dead_lettered": ({}, dp.dead_lettered, KAFKA_ONE_READING),
    "stalled": (dict(traffic="stalled"), dp.ingestion_stalled, KAFKA_SECONDS),
}
# The checks a healthy deployment skips, each for a reason of the test bed or of the generation (anything else that
# skips is a check that could not look, and fails the test).
SKIPPED = {
    "capture.token_lookup": "no project token given",
    "clickhouse.disk": "no system.disks",  # ClickHouse 18.16
    "clickhouse.errors": "no system.errors",  # ClickHouse 18.16
    "clickhouse.migrations": "no ClickHouse migration record",  # a declared schema, as recent single nodes keep
    "kafka.clickhouse_tables": "no Kafka-engine table",  # Null tables stand in (tests/deployment.py)
    "postgres.event_volume": "events live in ClickHouse",
}
SKIPPED_BY_GENERATION = {
    "2021": {
        "capture.service": "no capture service",  # Django captured until 2024
        "clickhouse.ingestion_warnings": "0032_ingestion_warnings",
        "plugin_server.redis": "no plugin-server Redis setting",
        "postgres.async_migrations": "predates async migrations",
    },
    "2023": {"capture.service": "no capture service", "plugin_server.redis": "no plugin-server Redis setting"},
    "2025": {},
}


@pytest.fixture(scope="module")
def matrix(stack, tmp_path_factory):  # noqa: F811 - the fixture imported above
    def make(gen: str, state: str):
        how, broken, _ = BREAKS[state]
        return broken(build(stack, f"{gen}_{state}", gen, **how))

    plan = [
        (f"{gen}_{state}", (lambda gen=gen, state=state: make(gen, state)), flags)
        for state, (_, _, flags) in BREAKS.items()
        for gen in GENERATIONS
    ]
    return run_all(plan, tmp_path_factory.mktemp("generations"))


def expected_checks() -> set[str]:
    """Every bundled check but host.resources: a new check joins the matrix by itself."""
    from posthog_doctor.registry import Registry, load_bundled

    registry = Registry()
    load_bundled(registry)
    return set(registry.checks) - {"host.resources"}


@pytest.mark.parametrize("gen", GENERATIONS)
def test_a_healthy_deployment_of_every_generation_is_healthy(matrix, gen):
    result = matrix[f"{gen}_healthy"]
    found = statuses(result)
    assert set(found) == expected_checks()
    assert red(result) == {}
    skipped = {c["id"]: c["summary"] for c in result.report["checks"] if c["status"] == "skipped"}
    allowed = SKIPPED | SKIPPED_BY_GENERATION[gen]
    assert set(skipped) <= set(allowed), {k: v for k, v in skipped.items() if k not in allowed}
    assert all(allowed[k] in v for k, v in skipped.items()), skipped
    assert result.code == 0
    if gen == "2021":  # 1.31 carried processed events on clickhouse_events_proto: that is not a missing topic
        assert "clickhouse_events_proto" in result.check("kafka.topics")["summary"]
    dx = result.report["diagnosis"]
    assert dx["causes"] == [] and dx["notes"] == [] and dx["break_stage"] == ""
    assert dx["headline"] == "Events flow through every stage of the path (7 checked)"


@pytest.mark.parametrize("gen", GENERATIONS)
def test_a_plugin_server_down_is_found_in_every_generation(matrix, gen):
    result = matrix[f"{gen}_plugin_down"]
    found = statuses(result)
    health = result.check("plugin_server.health")
    assert health["status"] == "fail" and "not running" in health["summary"], health["summary"]
    if gen != "2025":  # 2025+ writes no heartbeat: the check says so instead of failing
        assert found["plugin_server.heartbeat"] == "fail"
    assert found["clickhouse.ingestion"] == "fail" and found["kafka.consumer_lag"] == "fail"
    group = dp.KAFKA_LAYOUTS[gen].ingestion_group
    assert result.check("kafka.consumer_lag")["summary"].startswith(f"{group}: stalled")
    dx = result.report["diagnosis"]
    assert dx["break_stage"] == "ingestion_workers" and dx["causes"][0]["id"] == "plugin_server_down"
    assert dx["unexplained"] == [] and set(red(result)) <= set(dx["causes"][0]["explains"])


@pytest.mark.parametrize("gen", GENERATIONS)
def test_dead_lettered_events_are_found_in_every_generation(matrix, gen):
    result = matrix[f"{gen}_dead_lettered"]
    dlq = result.check("clickhouse.dead_letter_queue")
    assert dlq["status"] == "fail" and dlq["metrics"]["dlq_events"] == chgen.DEAD_LETTERED[gen]
    dx = result.report["diagnosis"]
    if gen == "2025":  # the Kafka topic, and its witness in ClickHouse, tell the same events
        topic = result.check("kafka.dead_letter_topic")
        assert topic["status"] == "fail" and topic["metrics"]["dlq_topic_last_hour"] == chgen.DEAD_LETTERED[gen]
        assert dx["break_stage"] == "dlq_topic" and dx["causes"][0]["id"] == "events_dead_lettered_to_kafka"
    elif gen == "2021":  # most rows are 1.31's capture failing to read the team from Postgres
        assert dx["break_stage"] == "dlq_table" and dx["causes"][0]["id"] == "capture_cannot_read_postgres"
    else:
        assert dx["break_stage"] == "dlq_table" and dx["causes"][0]["id"] == "events_dead_lettered"
    if gen != "2021":  # the plugin server counts them per step (2023+)
        assert "dlq" in {f["key"] for f in result.check("plugin_server.health")["findings"] if f["status"] != "ok"}
    assert dx["unexplained"] == [] and set(red(result)) <= {i for c in dx["causes"] for i in c["explains"]}


@pytest.mark.parametrize("gen", GENERATIONS)
def test_a_stalled_ingestion_is_found_in_every_generation(matrix, gen):
    result = matrix[f"{gen}_stalled"]
    assert result.check("clickhouse.ingestion")["summary"].startswith("no event arrived for 3 h")
    group = dp.KAFKA_LAYOUTS[gen].ingestion_group
    assert result.check("kafka.consumer_lag")["summary"].startswith(f"{group}: stalled")
    assert statuses(result)["plugin_server.health"] == "ok"  # its process answers: the stall is in Kafka's view
    dx = result.report["diagnosis"]
    assert dx["break_stage"] == "ingestion_workers" and dx["causes"][0]["id"] == "ingestion_consumer_stalled"
    assert dx["unexplained"] == [] and set(red(result)) <= set(dx["causes"][0]["explains"])
