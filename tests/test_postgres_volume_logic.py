"""The pure parts of the Postgres volume verdict: thresholds, time windows, statistics freshness, rates, trend."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posthog_doctor.checks.common.events_table import TableStats
from posthog_doctor.checks.postgres.event_volume.migration import parse_version, version_advice
from posthog_doctor.checks.postgres.event_volume.volume import (
    assess_freshness,
    day_windows,
    growth,
    month_windows,
    monthly_rate,
    months_until,
    rates_since_analyze,
    volume_status,
)

NOW = dt.datetime(2024, 3, 15, 10, 30, tzinfo=dt.UTC)
M = 1_000_000


def stats(**overrides) -> TableStats:
    values = dict(
        name="posthog_event",
        reltuples=1e6,
        live_rows=1_000_000,
        dead_rows=0,
        changed_since_analyze=0,
        last_analyzed=NOW - dt.timedelta(days=1),
        table_bytes=1,
        index_bytes=1,
        total_bytes=2,
        partitions=0,
        now=NOW,
    )
    values.update(overrides)
    return TableStats(**values)


@pytest.mark.parametrize(
    "events, expected",
    [
        (0, "ok"),
        (1_999_999, "ok"),
        (2 * M, "warn"),
        (4_999_999, "warn"),
        (5 * M, "fail"),
        (60 * M, "fail"),
    ],
)
def test_volume_status_at_each_documented_threshold(events, expected):
    assert volume_status(events, 2 * M, 5 * M) == expected


def test_day_windows_are_utc_calendar_days_ending_with_today_so_far():
    days = day_windows(NOW, 3)
    assert [d.label for d in days] == ["2024-03-13", "2024-03-14", "2024-03-15 (so far)"]
    assert days[0].end - days[0].start == dt.timedelta(days=1)
    assert days[-1].end == NOW and days[-1].partial
    assert all(a.end == b.start for a, b in zip(days[:-1], days[1:], strict=True))


def test_month_windows_cross_a_year_boundary():
    months = month_windows(dt.datetime(2024, 2, 10, tzinfo=dt.UTC), 4)
    assert [m.label for m in months] == ["2023-11", "2023-12", "2024-01", "2024-02 (so far)"]
    assert months[1].start == dt.datetime(2023, 12, 1, tzinfo=dt.UTC)
    assert months[1].end == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_statistics_never_analysed_are_stale():
    fresh = assess_freshness(stats(reltuples=None), has_histogram=False, stale_fraction=0.2, stale_min_rows=10_000)
    assert fresh.stale and "never been analysed" in fresh.reason


@pytest.mark.parametrize("changed, stale", [(150_000, False), (200_000, False), (200_001, True), (5_000_000, True)])
def test_statistics_are_stale_past_the_changed_fraction(changed, stale):
    fresh = assess_freshness(
        stats(changed_since_analyze=changed), has_histogram=True, stale_fraction=0.2, stale_min_rows=10_000
    )
    assert fresh.stale is stale


def test_a_small_table_is_not_stale_for_a_few_changed_rows():
    fresh = assess_freshness(
        stats(reltuples=100.0, live_rows=150, changed_since_analyze=50),
        has_histogram=True,
        stale_fraction=0.2,
        stale_min_rows=10_000,
    )
    assert not fresh.stale


def test_rows_added_since_a_recent_analyze_give_a_floor_and_a_rate():
    floor, rate = rates_since_analyze(stats(changed_since_analyze=600_000, last_analyzed=NOW - dt.timedelta(days=3)))
    assert floor.events == 600_000 and "at least" in floor.method
    assert rate.events == pytest.approx(6 * M) and "per 30 days" in rate.method
    minutes_ago = rates_since_analyze(stats(changed_since_analyze=5_000, last_analyzed=NOW - dt.timedelta(minutes=5)))
    assert [r.events for r in minutes_ago] == [5_000]  # too short to extrapolate
    long_ago = rates_since_analyze(stats(changed_since_analyze=900_000, last_analyzed=NOW - dt.timedelta(days=90)))
    assert [r.events for r in long_ago] == [pytest.approx(300_000)]  # no floor: some rows are older than 30 days


def test_stale_statistics_never_hide_a_high_volume():
    """The planner says 100k, but 3M rows arrived in the 10 days since ANALYZE: the higher figure is used."""
    table = stats(
        reltuples=1e6, live_rows=4_000_000, changed_since_analyze=3_000_000, last_analyzed=NOW - dt.timedelta(days=10)
    )
    freshness = assess_freshness(table, has_histogram=True, stale_fraction=0.2, stale_min_rows=10_000)
    rate = monthly_rate(100_000, freshness, table, NOW - dt.timedelta(days=400))
    assert rate.events == pytest.approx(9 * M) and "since the last ANALYZE" in rate.method


def test_fresh_statistics_use_the_planner_estimate():
    table = stats()
    freshness = assess_freshness(table, has_histogram=True, stale_fraction=0.2, stale_min_rows=10_000)
    assert monthly_rate(1_234_567, freshness, table, NOW - dt.timedelta(days=90)).events == 1_234_567


def test_without_any_estimate_there_is_no_rate():
    table = stats(reltuples=None, last_analyzed=None, changed_since_analyze=0)
    freshness = assess_freshness(table, has_histogram=False, stale_fraction=0.2, stale_min_rows=10_000)
    assert monthly_rate(None, freshness, table, None) is None


def test_growth_and_months_until_a_threshold():
    assert growth(1_500_000, 1_000_000) == pytest.approx(0.5)
    assert growth(10, 0) is None
    assert months_until(1 * M, 2 * M, 1.0) == pytest.approx(1.0)
    assert months_until(3 * M, 2 * M, 0.1) == 0.0
    assert months_until(1 * M, 2 * M, -0.1) is None


@given(st.floats(min_value=1_000, max_value=1e9), st.floats(min_value=0.02, max_value=3.0))
def test_months_until_reaches_the_target(current, rate):
    target = current * 7
    months = months_until(current, target, rate)
    assert current * (1 + rate) ** months == pytest.approx(target, rel=1e-6)


@pytest.mark.parametrize(
    "version, says",
    [
        ("1.28.3", "upgrade it to 1.30.0 first"),
        ("1.29.1", "upgrade to 1.30.0 first unless"),
        ("1.30.0", "recent enough"),
        ("1.43.0", "recent enough"),
        (None, "Check the PostHog version first"),
    ],
)
def test_version_advice_follows_the_migration_guide(version, says):
    assert says in version_advice(version).text
    assert parse_version("1.29.1") == (1, 29, 1) and parse_version("v1.30") == (1, 30, 0)
