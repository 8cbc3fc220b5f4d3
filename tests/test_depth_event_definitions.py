"""deployment.event_definitions: events arriving in ClickHouse (18.16 and chdb) against posthog_eventdefinition in a
real Postgres: fresh, stale (no writer), stale by the 2025+ hourly rule, one event never defined, and a table large
enough that it must be read through its index."""

from __future__ import annotations

import re

import pytest

from tests.clickhouse_support import ENGINES, make_deployment, table_rows
from tests.conftest import target
from tests.postgres_support import event_definitions_deployment, scan_counters

pytestmark = pytest.mark.postgres

CHECK = "deployment.event_definitions"
EVENTS = ("$pageview", "$autocapture", "signed up")


@pytest.fixture(scope="module", params=ENGINES)
def events_db(request):
    """Team 1's events arriving for the last 2 h 40 min (signed up: 2 h), one a minute or faster."""
    dep = make_deployment(request, "definitions")
    dep.create_posthog_schema()
    dep.plant_events(300, first_age=60, spacing=30, event="'$pageview'")
    dep.plant_events(200, first_age=90, spacing=45, event="'$autocapture'")
    dep.plant_events(100, first_age=120, spacing=72, event="'signed up'")
    dep.plant_events(50, first_age=60, spacing=60, event="'$$plugin_metrics'")  # never defined, by design
    return dep


@pytest.fixture(scope="module")
def postgres_dbs(postgres_server):
    def make(name, layout, hours, **kw):
        return event_definitions_deployment(postgres_server, f"phd_defs_{name}", layout, hours, **kw)

    return {
        "fresh": make("fresh", "2023", dict.fromkeys(EVENTS, 2.0)),
        "stale": make("stale", "2023", dict.fromkeys(EVENTS, 74.0)),
        "rust_late": make("rust_late", "2025", dict.fromkeys(EVENTS, 5.0)),
        "rust_fresh": make("rust_fresh", "2025", dict.fromkeys(EVENTS, 0.5)),
        "one_missing": make("one_missing", "2023", {"$pageview": 1.0, "$autocapture": 1.0}),
        "large": make("large", "2023", dict.fromkeys(EVENTS, 2.0), filler=30_000),
    }


def run(doctor, events_db, pg, *flags):
    return doctor("run", "--only", CHECK, *flags, *target(clickhouse=events_db.url, postgres=pg.url)).check(CHECK)


def test_fresh_definitions_are_quiet(events_db, postgres_dbs, doctor):
    check = run(doctor, events_db, postgres_dbs["fresh"])
    assert check["status"] == "ok", check["summary"]
    assert re.fullmatch(
        r"the definitions of the 3 busiest events of the last 3 h are up to date \(newest update 2 h( \d+ min)? ago; "
        r"written by property-defs-rs, or the plugin server before 2024\)",
        check["summary"],
    ), check["summary"]
    rows = {r["Event"]: r for r in table_rows(check, "Recent events and their definitions")}
    assert set(rows) == set(EVENTS)  # $$plugin_metrics is left out: no writer defines it
    assert rows["$pageview"]["Arrived (window)"] == 300 and rows["$pageview"]["Verdict"] == "fresh"
    assert check["metrics"]["stale_event_definitions"] == 0


def test_stale_definitions_name_a_missing_writer(events_db, postgres_dbs, doctor):
    check = run(doctor, events_db, postgres_dbs["stale"])
    assert check["status"] == "warn"
    assert re.fullmatch(
        r"events arrive but their definitions do not follow: all 3 busiest events are more than 26 h behind or "
        r"undefined \(team 1 '\$pageview' arrived 1 min ago, its definition was last seen 3 d 2 h ago\): nothing "
        r"writes event definitions",
        check["summary"],
    ), check["summary"]
    advice = check["advice"][0]
    assert "SKIP_WRITES=false" in advice["text"] and "https://github.com/PostHog/posthog/pull/24843" in advice["links"]
    assert check["metrics"]["stale_event_definitions"] == 3
    assert 73.9 <= check["metrics"]["event_definition_lag_hours"] <= 74.1


def test_the_2025_layout_expects_hourly_updates(events_db, postgres_dbs, doctor):
    late = run(doctor, events_db, postgres_dbs["rust_late"])
    assert late["status"] == "warn"
    assert "are more than 3 h behind or undefined" in late["summary"]
    assert "written by property-defs-rs (PostHog 2025+)" in evidence_note(late)
    fresh = run(doctor, events_db, postgres_dbs["rust_fresh"])
    assert fresh["status"] == "ok", fresh["summary"]


def test_an_event_never_defined_is_named(events_db, postgres_dbs, doctor):
    check = run(doctor, events_db, postgres_dbs["one_missing"])
    assert check["status"] == "warn"
    assert re.search(
        r"1 of the 3 busiest events .* \(team 1 'signed up' has arrived for 2 h( \d+ min)? with no definition\): the "
        r"definitions writer \(property-defs-rs, or the plugin server before 2024\) skips or fails on some",
        check["summary"],
    ), check["summary"]
    rows = {r["Event"]: r["Verdict"] for r in table_rows(check, "Recent events and their definitions")}
    assert rows == {"$pageview": "fresh", "$autocapture": "fresh", "signed up": "no definition"}
    assert check["metrics"]["missing_event_definitions"] == 1


def test_a_large_table_is_read_through_its_index(events_db, postgres_dbs, doctor):
    dep = postgres_dbs["large"]
    before = scan_counters(dep, "posthog_eventdefinition")
    check = run(doctor, events_db, dep, "-O", f"{CHECK}.scan_bytes=1")  # anything is "large": no_scan is asked
    after = scan_counters(dep, "posthog_eventdefinition")
    assert check["status"] == "ok", check["summary"]
    assert after.seq_scan == before.seq_scan and after.idx_scan > before.idx_scan


def evidence_note(check) -> str:
    return next(e for e in check["evidence"] if e["title"] == "Recent events and their definitions")["note"]
