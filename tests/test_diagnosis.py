"""The diagnosis step: the walk along the event's path and the links between findings (checks/diagnosis/rules.yaml).

The engine part is a pure function of check results, so most tests hand it results shaped like the checks'
own; the rules file itself is validated; and one whole run goes through the CLI to the three outputs and a
real browser.
"""

from __future__ import annotations

import json
import socket
from importlib.resources import files

import jsonschema
import pytest

from posthog_doctor.diagnosis import RulesError, bundled_knowledge, diagnose, load_rules
from posthog_doctor.model import CheckResult, FindingRecord, Report, Status
from tests.browser import open_page
from tests.conftest import target
from tests.http_server import closed_port
from tests.service_support import PREFLIGHT_OK

FAIL, WARN, OK, ERROR, SKIPPED = Status.FAIL, Status.WARN, Status.OK, Status.ERROR, Status.SKIPPED


def result(check_id: str, status: Status, summary: str = "", **extra) -> CheckResult:
    return CheckResult(check_id, check_id, status, summary or f"{check_id} says {status.value}", **extra)


PLUGIN_SERVER_DOWN = [
    result(
        "plugin_server.health",
        FAIL,
        "the plugin server is not running (connection refused by plugins:6738: "
        "nothing listens there), so no event is being ingested",
    ),
    result("plugin_server.connection", FAIL, "cannot reach plugin server: connection refused"),
    result("plugin_server.heartbeat", FAIL, "no heartbeat in the last 60 s, and its /_health failed too"),
    result("clickhouse.ingestion", FAIL, "no event arrived for 3 h 3 min", metrics={"ingestion_silence_minutes": 183}),
    result("posthog.preflight", FAIL, "Django reports down: the plugin server (plugins: false)"),
    result(
        "system_status",
        FAIL,
        "live — 1 failed: the plugin server is down",
        findings=[FindingRecord(FAIL, "the plugin server is down", "plugin_server_alive")],
    ),
    result("clickhouse.connection", OK),
    result("redis.connection", OK),
    result("postgres.connection", OK),
    result("celery.workers", OK),
    result("clickhouse.dead_letter_queue", OK),
]


# --- the rules file -----------------------------------------------------------------------------


def test_the_bundled_rules_are_valid_and_each_says_why_and_where_from():
    knowledge = bundled_knowledge()
    assert [s.id for s in knowledge.stages if s.kind == "path"][:3] == ["capture", "kafka_in", "ingestion_workers"]
    assert len(knowledge.rules) >= 15
    for rule in knowledge.rules:
        assert rule.reason and rule.source, rule.id
        assert rule.kind == "conflict" or rule.next_step, rule.id  # what to do, except where evidence disagrees


@pytest.mark.parametrize(
    "text, says",
    [
        ("stages: [{id: a, title: A, kind: river}]", "kind must be one of"),
        (
            "stages: [{id: a, title: A}]\nrules: [{id: r, title: R, stage: b, when: [x.y], reason: r, source: s}]",
            "unknown stage 'b'",
        ),
        ("rules: [{id: r, title: R, when: [x.y], reason: r}]", "every rule says why"),
        ("rules: [{id: r, title: R, reason: r, source: s}]", "at least one `when`"),
        ("rules: [{id: r, title: R, when: [{check: x, summary: '('}], reason: r, source: s}]", "bad pattern"),
        ("rules: [{id: r, title: R, when: [{check: x, status: purple}], reason: r, source: s}]", "unknown status"),
    ],
)
def test_a_broken_rules_file_is_refused_naming_the_entry(text, says):
    with pytest.raises(RulesError, match=says):
        load_rules(text, "test")


# --- the walk -----------------------------------------------------------------------------------


def test_seven_red_lines_are_one_problem_with_its_consequences():
    dx = diagnose(PLUGIN_SERVER_DOWN)
    assert dx.break_stage == "ingestion_workers"
    assert (
        dx.headline == "Ingestion breaks at Ingestion workers (plugin server): The ingestion workers (plugin "
        "server) are not running"
    )
    top = dx.causes[0]
    assert top.id == "plugin_server_down" and len(dx.causes) == 1
    red = {r.id for r in PLUGIN_SERVER_DOWN if r.status is FAIL}
    assert set(top.explains) == red and dx.unexplained == []  # every red line hangs under the one cause
    assert top.chain[0] == "the plugin server does not answer"
    assert "nothing new in ClickHouse for 3 h 3 min" in top.chain
    assert dx.stage("events").state == "broken" and dx.stage("redis").state == "ok"
    assert dx.losing_events


def test_an_upstream_cause_takes_its_downstream_causes_under_it():
    """Kafka down: the plugin server is unhealthy too, but because of Kafka, so it is a consequence."""
    results = [
        result("kafka.connection", FAIL, "cannot reach Kafka: connection refused"),
        result(
            "plugin_server.health",
            FAIL,
            "the plugin server reports itself unhealthy (HTTP 503): failing analytics-ingestion",
        ),
        result("clickhouse.ingestion", FAIL, "no event arrived for 2 h", metrics={"ingestion_silence_minutes": 120}),
        result("posthog.readiness", FAIL, "not ready: Kafka (kafka_connected) false in /_readyz"),
    ]
    dx = diagnose(results)
    assert [c.id for c in dx.causes] == ["kafka_down"]
    assert dx.break_stage == "kafka_in" and "plugin_server.health" in dx.causes[0].explains
    assert dx.causes[0].chain[0] == "Kafka does not answer"


def test_two_independent_problems_are_two_ranked_causes():
    results = [
        *PLUGIN_SERVER_DOWN[:4],
        result("redis.connection", FAIL, "cannot reach Redis: connection refused"),
        result("celery.workers", SKIPPED, "Redis unavailable: connection refused"),
    ]
    dx = diagnose(results)
    assert [c.id for c in dx.causes] == ["plugin_server_down", "redis_down"]  # the one explaining more first
    assert dx.stage("celery").state == "unknown" and "Redis" in dx.stage("celery").settle


def test_a_lag_is_not_a_stall():
    results = [
        result(
            "clickhouse.ingestion",
            WARN,
            "42 events in the last hour, 10% of the usual 420",
            metrics={"ingestion_silence_minutes": 48, "events_last_hour": 42},
        ),
        result("plugin_server.health", OK, "the plugin server reports itself healthy"),
    ]
    dx = diagnose(results)
    assert dx.break_stage == "" and dx.lag_minutes == 48
    assert dx.headline == "Events arrive, but late at events table: the newest event reached ClickHouse 48 min ago"
    assert "no event arrived" not in dx.headline and not dx.losing_events


def test_a_known_false_alarm_is_reconciled_not_repeated():
    results = [
        result("posthog.preflight", FAIL, "Django reports down: the plugin server (plugins: false)"),
        result("plugin_server.health", OK, "the plugin server reports itself healthy"),
        result("clickhouse.ingestion", OK, "events are arriving: newest 12 s ago"),
    ]
    dx = diagnose(results)
    assert dx.causes == [] and [n.id for n in dx.notes] == ["preflight_plugins_false_alarm"]
    assert dx.unexplained == [] and dx.break_stage == ""
    assert dx.notes[0].kind == "false_alarm" and "CDP_API_URL" in dx.notes[0].reason


def test_evidence_that_cannot_be_reconciled_says_what_to_run():
    results = [
        result("plugin_server.health", OK, "the plugin server reports itself healthy"),
        result("clickhouse.ingestion", FAIL, "no event arrived for 5 h", metrics={"ingestion_silence_minutes": 300}),
    ]
    dx = diagnose(results)
    conflict = next(n for n in dx.notes if n.kind == "conflict")
    assert "--kafka-url" in conflict.next_step
    assert "clickhouse.ingestion" in dx.unexplained  # a conflict explains nothing


def test_stages_that_could_not_be_seen_are_unknown_with_what_would_settle_them():
    results = [
        result("clickhouse.connection", FAIL, "cannot reach ClickHouse: connection refused"),
        result("clickhouse.ingestion", SKIPPED, "ClickHouse unavailable: connection refused"),
        result("clickhouse.dead_letter_queue", SKIPPED, "ClickHouse unavailable: connection refused"),
        result("plugin_server.health", ERROR, "could not determine: timeout"),
    ]
    dx = diagnose(results)
    assert dx.stage("ingestion_workers").state == "unknown"
    assert dx.stage("dlq_table").state == "unknown" and "--clickhouse-url" in dx.stage("dlq_table").settle
    assert [c.id for c in dx.causes] == ["clickhouse_down"]


def test_nothing_wrong_says_events_flow_and_nothing_unchecked_is_called_healthy():
    dx = diagnose([result("clickhouse.ingestion", OK, "events are arriving"), result("plugin_server.health", OK)])
    assert dx.causes == [] and dx.break_stage == ""
    assert dx.headline.startswith("Events flow through the 4 stages checked; not seen: Capture")
    assert dx.stage("capture").state == "unchecked"


# A path of three stages and a dead-letter branch, in the engine's own terms (the engine knows nothing of PostHog).
TOY = load_rules(
    """
stages:
  - {id: a, title: A, speaks: [{check: queue.lag, finding: "group:a"}, a.health]}
  - {id: b, title: B, speaks: [b.health, {check: queue.lag, finding: "group:b"}]}
  - {id: c, title: C, speaks: [c.arrivals]}
  - {id: d, title: D, kind: dead_letter, speaks: [d.count]}
rules:
  - {id: b_down, title: B is down, stage: b, when: [b.health], explains: [queue.lag, c.arrivals], reason: r, source: s}
  - {id: a_down, title: A is down, stage: a, when: [a.health], explains: [c.arrivals], reason: r, source: s, rank: 10}
  - id: c_empty_while_b_answers
    title: C is empty while B answers
    kind: conflict
    stage: c
    when: [{check: b.health, status: ok}, c.arrivals]
    reason: r
    source: s
""",
    "toy",
)


def test_the_break_is_the_root_causes_stage_when_what_is_broken_before_it_is_its_backlog():
    """B stopped consuming: its backlog shows on A's queue, upstream. The break is B, where the cause sits."""
    backlog = result(
        "queue.lag",
        FAIL,
        "b: stalled",
        findings=[FindingRecord(FAIL, "b: stalled", "group:b"), FindingRecord(OK, "a: caught up", "group:a")],
    )
    lag_at_a = result("queue.lag", FAIL, "a: stalled", findings=[FindingRecord(FAIL, "a: stalled", "group:a")])
    down = [result("b.health", FAIL), result("c.arrivals", FAIL)]
    dx = diagnose([lag_at_a, *down], TOY)
    assert dx.stage("a").state == "broken" and dx.causes[0].id == "b_down"
    assert dx.break_stage == "b"  # A's only red line is B's backlog, which B's cause explains
    dx = diagnose([lag_at_a, result("a.health", FAIL), *down], TOY)
    assert dx.break_stage == "a"  # A is broken on its own account: the first broken stage is the break
    # A red check whose own finding on a stage is fine speaks for that stage as ok, not as unseen.
    assert diagnose([backlog, *down], TOY).stage("a").state == "ok"


def test_a_conflict_that_a_root_cause_explains_is_reconciled():
    unexplained = diagnose([result("b.health", OK), result("c.arrivals", FAIL)], TOY)
    assert [n.id for n in unexplained.notes] == ["c_empty_while_b_answers"]
    explained = diagnose([result("b.health", OK), result("c.arrivals", FAIL), result("a.health", FAIL)], TOY)
    assert explained.notes == [] and explained.causes[0].id == "a_down" and explained.unexplained == []


def test_two_problems_one_check_reports_are_two_causes():
    """One lag check names two stalled groups: the rule about each accounts for its own group only, so neither
    hides the other (a rule is a consequence only of one that covers the very findings that revealed it)."""
    rules = load_rules(
        """
stages: [{id: a, title: A}, {id: b, title: B}]
rules:
  - {id: a_stalled, title: A stalled, stage: a, when: [{check: queue.lag, finding: "group:a"}], reason: r, source: s}
  - id: b_stalled
    title: B stalled
    stage: b
    rank: 10
    when: [{check: queue.lag, finding: "group:b"}]
    explains: [{check: queue.lag, finding: "group:b"}]
    reason: r
    source: s
""",
        "toy",
    )
    both = result(
        "queue.lag",
        FAIL,
        "a: stalled",
        findings=[FindingRecord(FAIL, "a: stalled", "group:a"), FindingRecord(FAIL, "b: stalled", "group:b")],
    )
    assert sorted(c.id for c in diagnose([both], rules).causes) == ["a_stalled", "b_stalled"]


def test_the_diagnosis_reads_results_only(monkeypatch):
    """No I/O: any connection attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the diagnosis tried to connect")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert diagnose(PLUGIN_SERVER_DOWN).break_stage == "ingestion_workers"


def test_the_diagnosis_survives_the_json_round_trip():
    report = Report({"name": "posthog-doctor", "version": "x"}, "2026-12-01T00:00:00Z", {}, PLUGIN_SERVER_DOWN)
    report.diagnosis = diagnose(PLUGIN_SERVER_DOWN)
    data = report.to_dict()
    schema = json.loads(files("posthog_doctor.schema").joinpath("report.schema.json").read_text())
    jsonschema.validate(data, schema)
    again = Report.from_dict(json.loads(json.dumps(data)))
    assert again.diagnosis == report.diagnosis


# --- a whole run: the three outputs and a real browser ------------------------------------------------


@pytest.fixture
def sick_plugin_server_run(doctor, fake_http, redis_server):
    fake_http.route("/_livez", {"http": True})
    fake_http.route("/_preflight/", {**PREFLIGHT_OK, "plugins": False})
    fake_http.route("/_health", "ok", content_type="text/plain")
    fake_http.route("/_readyz", {"postgres": True, "kafka_connected": True, "celery_broker": True, "cache": True})
    port = closed_port()
    return doctor(
        "run", *target(posthog_api=fake_http.url, plugin_server=f"http://127.0.0.1:{port}", redis=redis_server.url)
    )


def test_the_report_opens_with_the_break_and_the_root_cause(sick_plugin_server_run):
    run = sick_plugin_server_run
    first = run.text("md").splitlines()[:5]
    assert first[2].startswith("**Ingestion breaks at Ingestion workers (plugin server): The ingestion workers")
    assert first[3].startswith("Root cause: the plugin server does not answer")
    assert first[4].startswith("Next step: Restart the plugin server (safe")
    assert run.report["diagnosis"]["break_stage"] == "ingestion_workers"
    assert run.report["priority_hint"]["level"] == "urgent"
    assert "Diagnosis: Ingestion breaks at Ingestion workers" in run.stdout  # the terminal too


def test_the_html_pipeline_renders_in_a_real_browser_with_the_break_visible(sick_plugin_server_run, tmp_path):
    page = open_page(sick_plugin_server_run.output / "report.html", tmp_path / "report.png")
    assert page.console == [], page.console  # no script error, no blocked load, no CSP violation
    assert 'class="stage broken break" data-stage="ingestion_workers"' in page.dom
    assert 'data-stage="capture" data-state="unknown"' in page.dom  # switched off: not seen, not healthy
    assert page.screenshot.stat().st_size > 10_000


def test_the_browser_check_can_fail(tmp_path):
    """The console check sees a real CSP violation, so an empty console above means something."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="img-src data:">'
        '</head><body><img src="http://example.invalid/x.png"></body></html>'
    )
    assert open_page(bad, tmp_path / "bad.png").console


def _report(results: list[CheckResult]) -> Report:
    report = Report({"name": "posthog-doctor", "version": "x"}, "2026-12-01T00:00:00Z", {}, results)
    report.diagnosis = diagnose(results)
    return report


def test_diff_says_whether_the_break_closed_or_moved():
    from posthog_doctor.diff import compare
    from posthog_doctor.render import render_diff

    healthy = [result("plugin_server.health", OK), result("clickhouse.ingestion", OK, "events are arriving")]
    kafka_down = [result("kafka.connection", FAIL, "cannot reach Kafka"), *healthy]
    before = _report(PLUGIN_SERVER_DOWN)
    assert compare(before, _report(healthy)).pipeline.said == "the break at Ingestion workers (plugin server) is closed"
    moved = compare(before, _report(kafka_down))
    assert (
        moved.pipeline.said
        == "the break moved from Ingestion workers (plugin server) to Kafka: events_plugin_ingestion"
    )
    assert "**Pipeline: the break moved from" in render_diff(moved, "md")
    assert render_diff(moved, "json").count('"said": "the break moved from') == 1
