"""The whole ClickHouse story in one report, as a support engineer reads it: a seeded deployment whose
events stopped arriving 3 hours ago while the capture endpoint writes them to the dead letter queue."""

from __future__ import annotations

import pytest

from tests.clickhouse_support import ENGINES, HOUR, make_deployment, run_doctor

CAPTURE_ERROR = (
    "concat('Unable to fetch team from Postgres. Error: OperationalError(\\'timeout after ', toString(number), 's\\')')"
)


@pytest.fixture(scope="module", params=ENGINES)
def report(request, tmp_path_factory):
    dep = make_deployment(request, "report")
    dep.create_posthog_schema()
    dep.plant_events(1700, first_age=3 * HOUR + 180, spacing=360)
    dep.plant_dlq(64, location="django_server_capture_endpoint", error=CAPTURE_ERROR, age=300, spread=2 * HOUR)
    dep.plant_dlq(
        11,
        location="plugin_server_ingest_event:processPersonsStep",
        error="'Event ingestion failed. Error: deadlock detected'",
        age=12 * HOUR,
        spread=60,
    )
    # On chdb the disk is this machine's own: its free space is not the story told here.
    run = run_doctor(
        dep,
        tmp_path_factory.mktemp(f"report-{dep.engine}"),
        "--only",
        "clickhouse",
        "--skip",
        "clickhouse.errors",  # counts every error this process's engine has seen: not this deployment's story
        "-Oclickhouse.disk.warn_free_pct=0.5",
        "-Oclickhouse.disk.fail_free_pct=0.1",
    )
    return dep, run


def test_the_report_tells_the_whole_story(report):
    dep, run = report
    statuses = {c["id"]: c["status"] for c in run.report["checks"] if c["id"].startswith("clickhouse.")}
    assert statuses == {
        "clickhouse.connection": "ok",
        "clickhouse.dead_letter_queue": "fail",
        "clickhouse.ingestion": "fail",
        "clickhouse.event_volume": "ok",
        "clickhouse.disk": "ok" if dep.modern else "skipped",
        "clickhouse.schema": "ok",
        "clickhouse.background_work": "ok",
        "clickhouse.disk_usage": "ok",
        "clickhouse.event_families": "ok",  # every kind stopped together: the ingestion check's story
        "clickhouse.event_timestamps": "ok",
        "clickhouse.system_logs": "ok",
        "clickhouse.migrations": "skipped",  # this deployment keeps no migration record
        "clickhouse.ingestion_warnings": "skipped",  # this layout has no ingestion_warnings table
    }
    assert run.code == 2
    assert run.report["priority_hint"]["level"] == "urgent"
    md = run.text("md")
    assert (
        "| django\\_server\\_capture\\_endpoint | Unable to fetch team from Postgres. "
        "Error: OperationalError('\\<value\\>') | 64 |" in md
    )
    assert (
        "| plugin\\_server\\_ingest\\_event:processPersonsStep | "
        "Event ingestion failed. Error: deadlock detected | 11 |" in md
    )
    assert (
        "The capture endpoint could not read the project from Postgres "
        "(64 events; django\\_server\\_capture\\_endpoint)" in md
    )
    assert "Person processing failed (11 events; plugin\\_server\\_ingest\\_event:processPersonsStep)" in md
    assert "no event arrived for 3 h 3 min" in md
    dlq = run.check("clickhouse.dead_letter_queue")
    assert dlq["summary"].startswith(
        "75 events went to the dead letter queue in the last 24 h (2 causes); 1 still happening"
    )
    assert dlq["metrics"]["dlq_share_pct"] == round(100 * 75 / (75 + 210), 1)
    if dep.modern:
        assert "at the current growth" in run.check("clickhouse.disk")["summary"]


def test_the_html_report_draws_the_dlq_hours_and_the_event_days(report):
    _, run = report
    html = run.text("html")
    for title in ("DLQ events per hour: All causes", "Events per day, last 30 days", "Events per minute, last hour"):
        assert f'aria-label="{title}' in html, title
    assert html.count('<svg class="chart"') >= 6
