"""The ClickHouse side of the doctor on three generations of PostHog (2021/1.31, 2023, 2025+), on ClickHouse 18.16
and on chdb: every clickhouse.* check and the deployment check, against a healthy install, one whose events are
being dead-lettered, and one whose ingestion stalled (tests/clickhouse_generations.py has the DDL and its sources).

A healthy install of every generation is healthy (no warn or fail anywhere); the dead-lettered events are found in
every generation, where that generation records them (table rows, rows without an error time, or
pipeline_step_dlq warnings); the stall is found in every generation.
"""

from __future__ import annotations

import pytest

from tests import clickhouse_generations as gens
from tests.clickhouse_support import ENGINES, make_deployment, run_doctor, table_rows, values

SCENARIOS = ("healthy", "dead_lettered", "stalled")
CHECKS = ("--only", "clickhouse", "--only", "deployment")


def expected_checks() -> set[str]:
    """Every bundled check the selection names: a new ClickHouse check joins the matrix by itself."""
    from posthog_doctor.registry import Registry, load_bundled

    registry = Registry()
    load_bundled(registry)
    return {i for i in registry.checks if i.startswith(("clickhouse.", "deployment."))}


@pytest.fixture(scope="module", params=ENGINES)
def matrix(request, tmp_path_factory):
    """Every generation in every scenario on one engine, the doctor run once against each."""
    runs = {}
    for generation in gens.GENERATIONS:
        for scenario in SCENARIOS:
            dep = make_deployment(request, f"gen_{generation}_{scenario}")
            gens.create(dep, generation)
            if scenario == "stalled":
                gens.plant_stalled_traffic(dep, generation)
            else:
                gens.plant_healthy_traffic(dep, generation)
            if scenario == "dead_lettered":
                gens.plant_dead_letters(dep, generation)
            gens.plant_benign_warnings(dep, generation)
            out = tmp_path_factory.mktemp(f"gen-{request.param}-{generation}-{scenario}")
            runs[generation, scenario] = run_doctor(dep, out, *CHECKS)
    return request.param, runs


def statuses(run) -> dict[str, str]:
    return {c["id"]: c["status"] for c in run.report["checks"]}


@pytest.mark.parametrize("generation", gens.GENERATIONS)
def test_a_healthy_install_of_every_generation_is_healthy(matrix, generation):
    engine, runs = matrix
    run = runs[generation, "healthy"]
    found = statuses(run)
    assert set(found) == expected_checks()
    bad = {k: v for k, v in found.items() if v not in ("ok", "skipped")}
    assert not bad, (engine, generation, {k: run.check(k)["summary"] for k in bad})
    assert run.code == 0
    if not gens.has_ingestion_warnings(generation):
        assert found["clickhouse.ingestion_warnings"] == "skipped"
        assert "0032_ingestion_warnings" in run.check("clickhouse.ingestion_warnings")["summary"]
    else:  # the benign warnings are seen, and named as losing nothing
        warnings = run.check("clickhouse.ingestion_warnings")
        assert warnings["status"] == "ok" and "none of a type that loses data" in warnings["summary"]
    if engine == "clickhouse-18.16":  # no system.disks before 19.15: said, not failed
        assert found["clickhouse.disk"] == "skipped"


@pytest.mark.parametrize("generation", gens.GENERATIONS)
def test_dead_lettered_events_are_found_in_every_generation(matrix, generation):
    engine, runs = matrix
    run = runs[generation, "dead_lettered"]
    dlq = run.check("clickhouse.dead_letter_queue")
    assert dlq["status"] == "fail", dlq["summary"]
    assert dlq["metrics"]["dlq_events"] == gens.DEAD_LETTERED[generation]
    assert dlq["metrics"]["dlq_causes_still_happening"] >= 1
    figures = values(dlq, "Dead letter queue")
    if generation == "2021":  # the 1.30-1.31 capture rows carry no error time and are still counted
        assert figures["untimed_events"] == 25
        assert figures["destination"] == "the events_dead_letter_queue table"
    if generation == "2025":
        assert dlq["summary"].startswith("this PostHog dead-letters to the Kafka topic events_plugin_ingestion_dlq")
        assert "an empty events_dead_letter_queue proves nothing" in dlq["summary"]
        assert figures["kafka_window_events"] == 30
        causes = table_rows(dlq, "Causes, last 24 h")
        assert [(c["Error location"], c["Recorded in"], c["Known cause"]) for c in causes] == [
            ("pipeline_step_dlq:processPersonsStep", "ingestion warning", "Person processing failed")
        ]
        warnings = run.check("clickhouse.ingestion_warnings")
        assert warnings["status"] == "warn" and warnings["summary"].startswith("pipeline_step_dlq: 30 rows")
    others = {
        k: v
        for k, v in statuses(run).items()
        if k not in ("clickhouse.dead_letter_queue", "clickhouse.ingestion_warnings")
    }
    assert all(v in ("ok", "skipped") for v in others.values()), others


@pytest.mark.parametrize("generation", gens.GENERATIONS)
def test_a_stall_is_found_in_every_generation(matrix, generation):
    _, runs = matrix
    run = runs[generation, "stalled"]
    ingestion = run.check("clickhouse.ingestion")
    assert ingestion["status"] == "fail"
    assert ingestion["summary"].startswith("no event arrived for 3 h 3 min")
    assert statuses(run)["clickhouse.dead_letter_queue"] == "ok"


def test_each_generation_reads_its_own_kafka_path(matrix):
    _, runs = matrix
    paths = {
        generation: [r["Table"] for r in table_rows(runs[generation, "healthy"].check("clickhouse.ingestion"), "Kafka")]
        for generation in gens.GENERATIONS
    }
    assert paths == {
        "2021": ["kafka_events", "events_mv"],
        "2023": ["kafka_events_json", "events_json_mv"],
        "2025": ["kafka_events_json", "events_json_mv"],
    }


def test_a_healthy_2025_install_says_where_its_failures_would_be(matrix):
    _, runs = matrix
    dlq = runs["2025", "healthy"].check("clickhouse.dead_letter_queue")
    assert dlq["status"] == "ok"
    assert "events_plugin_ingestion_dlq" in dlq["summary"] and "an empty table proves nothing" in dlq["summary"]
    signals = table_rows(dlq, "Where failed events go")
    assert [
        "schema",
        "events_recent, kafka_events_recent_json present (the current layout; the 2023 one had neither)",
        "hint: Kafka",
    ] in [list(s.values()) for s in signals]
    # 2021 has no warnings table: the DLQ table is its only record, and an empty one is meaningful.
    old = runs["2021", "healthy"].check("clickhouse.dead_letter_queue")
    assert old["summary"] == "no events went to the dead letter queue in the last 24 h"
    assert values(old, "Dead letter queue")["destination"] == "the events_dead_letter_queue table"
