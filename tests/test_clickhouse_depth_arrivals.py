"""clickhouse.event_timestamps and clickhouse.event_families on ClickHouse 18.16 and chdb: one shared bounded scan of
recent arrivals, per kind of event and team.

Every planted arrival is 60 s past an even two minutes ago (age = 60 + n * 120 s), so it sits 60 s away from every
hour and day boundary the scan buckets by, and the expected counts hold while the test runs.
"""

from __future__ import annotations

import pytest

from tests.clickhouse_support import (
    DAY,
    ENGINES,
    HOUR,
    evidence,
    make_deployment,
    plant_arrivals,
    run_doctor,
    table_rows,
    values,
)

TIMESTAMPS, FAMILIES = "clickhouse.event_timestamps", "clickhouse.event_families"
WEEK = 7 * DAY + HOUR
EVERY = 120  # one event of each planted stream every two minutes: 30 an hour
WEEK_OF_EVENTS = WEEK // EVERY


@pytest.fixture(scope="module", params=ENGINES)
def runs(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"arrivals-{request.param}")
    # Healthy: pageviews and exceptions of team 1, custom events of team 2, all on time, for a week and an hour.
    healthy = make_deployment(request, "arrivals_healthy")
    healthy.create_posthog_schema(dlq=False, persons=False)
    for event, team in (("'$pageview'", "1"), ("'$exception'", "1"), ("'signed up'", "2")):
        plant_arrivals(healthy, WEEK_OF_EVENTS, first_age=60, spacing=EVERY, team=team, event=event)
    # Faulty: exceptions stopped 2 h ago while pageviews flow; team 2's clock runs two days ahead (its last day),
    # team 3 sends events three days late (its last day); team 4 sends 20 events a day late (under the threshold).
    faulty = make_deployment(request, "arrivals_faulty")
    faulty.create_posthog_schema(dlq=False, persons=False)
    plant_arrivals(faulty, WEEK_OF_EVENTS, first_age=60, spacing=EVERY, event="'$pageview'")
    plant_arrivals(faulty, WEEK_OF_EVENTS - 60, first_age=2 * HOUR + 60, spacing=EVERY, event="'$exception'")
    plant_arrivals(faulty, 720, first_age=60, spacing=EVERY, team="2", event="'signed up'", skew=2 * DAY)
    plant_arrivals(faulty, 720, first_age=60, spacing=EVERY, team="3", event="'$screen'", skew=-3 * DAY)
    plant_arrivals(faulty, 600, first_age=60, spacing=EVERY, team="4", event="'$screen'", skew=-HOUR - 60)
    # Lagging: every event of the last day arrives two hours after its timestamp (the pipeline is behind).
    lagging = make_deployment(request, "arrivals_lagging")
    lagging.create_posthog_schema(dlq=False, persons=False)
    plant_arrivals(lagging, 720, first_age=60, spacing=EVERY, event="'$pageview'", skew=-2 * HOUR)
    only = ("--only", TIMESTAMPS, "--only", FAMILIES)
    yield {
        "engine": request.param,
        "faulty_dep": faulty,
        "healthy": run_doctor(healthy, out / "healthy", *only),
        "faulty": run_doctor(faulty, out / "faulty", *only),
        "lagging": run_doctor(
            lagging, out / "lagging", "--only", TIMESTAMPS, "--option", f"{TIMESTAMPS}.min_events=20"
        ),
        "tight": run_doctor(
            faulty, out / "tight", "--only", TIMESTAMPS, "--option", f"{TIMESTAMPS}.events_max_rows_to_read=100"
        ),
    }
    # Future-dated parts would skew other modules' server-wide figures (disk growth): leave nothing behind.
    for dep in (healthy, faulty, lagging):
        dep.execute(f"DROP DATABASE IF EXISTS {dep.database}", in_database=False)


def test_a_healthy_deployment_is_quiet(runs):
    timestamps, families = runs["healthy"].check(TIMESTAMPS), runs["healthy"].check(FAMILIES)
    assert timestamps["status"] == "ok", timestamps["summary"]
    assert timestamps["summary"] == "2,160 events arrived in the last 24 h: 0% over 1 h ahead, 0% over 24 h late"
    assert families["status"] == "ok", families["summary"]
    assert families["summary"] == (
        "3 kinds of event with usual traffic at this hour all arriving (90 events in the last hour, usually 90)"
    )
    kinds = {r["Kind"]: r for r in table_rows(families, "Arrivals per kind of event")}
    assert (
        kinds["$exception (error tracking)"]["Last hour"],
        kinds["$exception (error tracking)"]["Usual (median)"],
    ) == (30, 30)
    assert kinds["$ai_* (LLM analytics)"]["Note"] == "none in 7 days: not judged"
    assert kinds["$snapshot (session recordings)"]["Note"].startswith("Recordings never land in events")


def test_one_kind_missing_while_the_rest_arrive_warns_with_its_lane(runs):
    result = runs["faulty"].check(FAMILIES)
    assert result["status"] == "warn"
    # 30 pageviews + 30 'signed up' (team 2) + 30 late $screen (team 3) + 30 $screen (team 4) arrived; usually
    # (median of the same hour on previous days) only pageviews and exceptions: 60.
    assert result["summary"] == (
        "$exception (error tracking): 0 arrived in the last hour, usually 30 at this hour, while the other events "
        "arrive (120, usually 30)"
    )
    assert "cymbal" in result["advice"][0]["text"] and "error-tracking" in result["advice"][0]["links"][0]
    assert result["metrics"]["event_families_missing"] == 1


def test_events_ahead_of_their_arrival_are_counted_per_team(runs):
    result = runs["faulty"].check(TIMESTAMPS)
    dep = runs["faulty_dep"]
    # Oracle: the same question asked of the rows directly.
    ahead, late = (
        int(v)
        for v in dep.execute(
            "SELECT countIf(toUnixTimestamp(timestamp) > toUnixTimestamp(_timestamp) + 3600), "
            "countIf(toUnixTimestamp(timestamp) < toUnixTimestamp(_timestamp) - 86400) "
            "FROM events WHERE _timestamp >= now() - 86400"
        )[0]
    )
    assert (ahead, late) == (720, 720)
    figures = values(result, "Last day's arrivals")
    assert (figures["ahead_hour"], figures["ahead_23h"], figures["behind_day"]) == (ahead, 720, late)
    teams = {r["Team"]: r for r in table_rows(result, "Per team, last 24 h")}
    assert teams[2]["> 1 h ahead"] == 720 and teams[2]["Ahead %"] == 100.0 and teams[2]["Most ahead"] == "2 d"
    assert teams[3]["> 24 h behind"] == 720 and teams[3]["Most behind"] == "3 d"
    assert teams[4]["> 24 h behind"] == 0  # one hour late is not far in the past
    assert result["status"] == "warn"
    texts = [f["text"] for f in result["findings"] if f["status"] == "warn"]
    assert texts == [
        "team 2: 100% of the last day's 720 events are timestamped more than 1 h after they arrived (up to 2 d "
        "ahead); 720 more than 23 h ahead, which newer PostHog clamps: this pipeline does not",
        "team 3: 100% of the last day's 720 events arrived more than 24 h after their timestamp (up to 3 d late)",
    ]
    advice = " ".join(a["text"] for a in result["advice"])
    assert "sent_at" in advice and "23 h" in advice and "queue events" in advice
    assert any(link.endswith("/docs/data/timestamps") for a in result["advice"] for link in a["links"])


def test_a_pipeline_behind_is_told_apart_from_late_clients(runs):
    result = runs["lagging"].check(TIMESTAMPS)
    assert result["status"] == "warn"
    assert result["summary"] == (
        "100% of the 30 events that arrived in the last hour were more than 1 h old: the pipeline is behind"
    )
    assert "plugin server" in result["advice"][0]["text"]


def test_the_scan_is_bounded_and_says_so(runs):
    result = runs["tight"].check(TIMESTAMPS)
    assert result["partial"] is True
    assert "partial scan: stopped after reading" in evidence(result, "Last day's arrivals")["note"]
