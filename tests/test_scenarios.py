"""The diagnosis on broken deployments built on the real test servers (issue 15): each scenario of tests/scenarios.py
is a whole PostHog of one generation (tests/deployment.py) with one thing broken, run through the whole doctor once.

For every scenario: the break stage and the top root cause in report.json's `diagnosis` are what a PostHog engineer
would name; every red finding (fail, warn, error) is the cause or hangs under one (a cause's `explains`, or a
reconciled false alarm), none is left unexplained; and the first five lines of report.md name the break and the
cause. The plugin server whose Kafka consumer is down reads as one problem with its consequences, and its HTML
report is opened in a real browser.
"""

from __future__ import annotations

import pytest

from tests import scenarios as sc
from tests.browser import open_page
from tests.deployment import KAFKA_SECONDS, head, red, run_all, stack  # noqa: F401 - `stack` is a fixture

pytestmark = [pytest.mark.clickhouse, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(scope="module")
def runs(stack, tmp_path_factory):  # noqa: F811 - the fixture imported above
    """Every scenario built, then run in order (a Kafka backlog built first is old enough by its turn)."""
    plan = [(s.key or s.name, (lambda s=s: s.make(stack, s.key or s.name)), s.flags) for s in sc.SCENARIOS]
    try:
        done = run_all(plan, tmp_path_factory.mktemp("scenarios"))
    finally:
        sc.close_replicated()
    return {s.name: done[s.key or s.name] for s in sc.SCENARIOS}


NAMES = [s.name for s in sc.SCENARIOS]


def test_there_are_at_least_fifteen_broken_deployments():
    broken = [s for s in sc.SCENARIOS if s.cause or s.note]
    assert len(broken) >= 15, [s.name for s in broken]
    assert len({s.cause for s in broken if s.cause}) >= 15  # distinct failure classes, not one class retold
    # Thresholds in seconds are a stand-in: each scenario that uses them says so.
    assert all(s.stand_in for s in sc.SCENARIOS if s.flags == KAFKA_SECONDS)


@pytest.mark.parametrize("name", NAMES)
def test_the_break_and_the_top_cause(runs, name):
    scenario, dx = sc.BY_NAME[name], runs[name].report["diagnosis"]
    causes = [c["id"] for c in dx["causes"]]
    assert dx["break_stage"] == scenario.break_stage, (dx["headline"], causes)
    assert (causes[:1] or [""])[0] == scenario.cause, (dx["headline"], causes, red(runs[name]))
    if scenario.note:
        assert scenario.note in [n["id"] for n in dx["notes"]], dx["notes"]
    if not scenario.cause and not scenario.note:  # healthy: nothing red, nothing to explain
        assert red(runs[name]) == {} and runs[name].code == 0


@pytest.mark.parametrize("name", NAMES)
def test_every_red_finding_is_the_cause_or_hangs_under_one(runs, name):
    result = runs[name]
    dx = result.report["diagnosis"]
    under = {i for c in dx["causes"] for i in c["explains"]}
    reconciled = {i for n in dx["notes"] if n["kind"] == "false_alarm" for i in n["explains"]}
    found = red(result)
    assert set(found) <= under | reconciled, {k: v for k, v in found.items() if k not in under | reconciled}
    assert dx["unexplained"] == []
    if sc.BY_NAME[name].cause:  # the cause rests on a red finding of its own
        assert set(dx["causes"][0]["explains"]) & set(found), dx["causes"][0]


@pytest.mark.parametrize("name", NAMES)
def test_the_first_five_lines_name_the_break_and_the_root_cause(runs, name):
    scenario, lines = sc.BY_NAME[name], head(runs[name])
    text = " ".join(lines).replace("\\_", "_")  # Markdown escapes underscores
    missing = [w for w in scenario.words if w not in text]
    assert not missing, (missing, lines)
    dx = runs[name].report["diagnosis"]
    if dx["causes"]:
        assert lines[3].startswith("Root cause: "), lines
        assert lines[4].startswith("Next step: "), lines


def test_the_plugin_server_whose_consumer_is_down_reads_as_one_problem(runs):
    """The seven-red-lines case of issue 15, as a 2025+ deployment has it now: six red lines (Celery, the DLQ, the
    schema, the heartbeat and /_readyz were false alarms of the doctor then and are green here, as they should be:
    the workers, the dead letter queue and the tables are fine, 2025+ writes no heartbeat, and /_readyz does not ask
    the plugin server), and all six hang under the one cause, consequences in path order."""
    result = runs["seven_red_lines"]
    found = red(result)
    assert set(found) == {
        "plugin_server.health",
        "plugin_server.connection",
        "kafka.consumer_lag",
        "clickhouse.ingestion",
        "posthog.preflight",
        "system_status",
    }, found
    dx = result.report["diagnosis"]
    assert len(dx["causes"]) == 1 and set(dx["causes"][0]["explains"]) == set(found)
    chain = dx["causes"][0]["chain"]
    assert chain[0] == "the plugin server reports its consumer unhealthy"
    stall = next(i for i, link in enumerate(chain) if link.startswith("nothing new in ClickHouse for 3 h"))
    assert chain.index("its consumer group stopped committing on events_plugin_ingestion") < stall  # path order
    assert "6 findings are this one problem" in head(result)[3]
    # Consequences are listed under their cause, not beside it: the ticket's list holds the one cause, no red check
    # as a line of its own.
    md = result.text("md")
    listed = [line for line in md.split("<sub>")[0].splitlines() if line.startswith("- ")]
    assert len(listed) == 1 and listed[0].startswith("- ❌ **The plugin server runs but does not consume events**")
    assert all(f"`{check}`" in listed[0] for check in found)


def test_a_lag_is_said_as_a_lag_not_as_a_stall(runs):
    dx = runs["ingestion_lagging"].report["diagnosis"]
    assert dx["causes"][0]["kind"] == "lag" and dx["break_stage"] == ""
    assert "no event arrived" not in dx["headline"] and "stalled" not in dx["headline"]
    stalled = runs["ingestion_stalled"].report["diagnosis"]
    assert stalled["causes"][0]["kind"] == "cause" and stalled["break_stage"] == "ingestion_workers"


def test_the_broken_html_pipeline_renders_in_a_real_browser(runs, tmp_path):
    page = open_page(runs["seven_red_lines"].output / "report.html", tmp_path / "seven-red-lines.png")
    assert page.console == [], page.console
    assert 'class="stage broken break" data-stage="ingestion_workers"' in page.dom
    assert 'data-stage="events" data-state="broken"' in page.dom  # the consequence downstream, drawn as such
    assert page.screenshot.stat().st_size > 10_000


def test_a_read_only_replica_is_said_as_such_not_as_decades_behind(runs):
    """ClickHouse 18.16 counts a read-only replica's delay from the epoch: that is no replication lag."""
    for name in ("readonly_replica", "zookeeper_down"):
        schema = runs[name].check("clickhouse.schema")
        assert schema["summary"].startswith("read-only replica of ") and "sharded_events" in schema["summary"]
        assert "behind" not in schema["summary"], schema["summary"]


def test_the_diagnosis_costs_nothing_measurable(runs):
    """Under 20 ms on a whole run's report (41 checks), the best of five: a pure function of the results."""
    import time

    from posthog_doctor.diagnosis import diagnose
    from posthog_doctor.model import Report

    results = Report.from_dict(runs["seven_red_lines"].report).checks
    assert len(results) >= 40
    diagnose(results)  # the rules are read once per process
    best = min(_timed(lambda: diagnose(results), time.perf_counter) for _ in range(5))
    assert best < 0.020, f"{best * 1000:.1f} ms"


def _timed(work, clock) -> float:
    started = clock()
    work()
    return clock() - started
