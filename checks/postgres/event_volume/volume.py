"""From catalog and planner numbers to events per month, a trend and a verdict. Pure functions.

PostHog's documented limits for a Postgres-backed deployment (docs/self-host/configure/scaling-posthog):
Postgres "starts to struggle" at 2M events a month, 5M a month "seems to be a hard limit", and the
database needs RAM for the whole events table, about 300 MB per 1M events. The numbers themselves are
options of the check; this module only applies them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from posthog_doctor.check import units

from ...common.events_table import TableStats

DAY = dt.timedelta(days=1)
MONTH_WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True)
class Window:
    """A time range to estimate: start <= timestamp < end."""

    label: str
    start: dt.datetime
    end: dt.datetime
    partial: bool = False  # the range runs up to now (today, this month)


def rolling_windows(now: dt.datetime) -> tuple[Window, Window]:
    """The last 30 days (the volume the verdict is about) and the 30 days before (for the trend)."""
    return (
        Window("last 30 days", now - MONTH_WINDOW, now),
        Window("30 days before", now - 2 * MONTH_WINDOW, now - MONTH_WINDOW),
    )


def day_windows(now: dt.datetime, count: int) -> list[Window]:
    """The last `count` calendar days in UTC, oldest first; today runs up to now."""
    now = now.astimezone(dt.UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    days = []
    for back in range(count - 1, -1, -1):
        start = today - back * DAY
        partial = back == 0
        days.append(
            Window(
                start.strftime("%Y-%m-%d") + (" (so far)" if partial else ""),
                start,
                now if partial else start + DAY,
                partial,
            )
        )
    return days


def month_windows(now: dt.datetime, count: int) -> list[Window]:
    """The last `count` calendar months in UTC, oldest first; this month runs up to now."""
    now = now.astimezone(dt.UTC)
    this_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = []
    for back in range(count - 1, -1, -1):
        start = _add_months(this_month, -back)
        partial = back == 0
        months.append(
            Window(
                start.strftime("%Y-%m") + (" (so far)" if partial else ""),
                start,
                now if partial else _add_months(start, 1),
                partial,
            )
        )
    return months


def _add_months(first_of_month: dt.datetime, months: int) -> dt.datetime:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return first_of_month.replace(year=index // 12, month=index % 12 + 1)


@dataclass
class Estimates:
    """The planner's estimates for the windows a report shows (all None without a histogram)."""

    last_30_days: float | None = None
    previous_30_days: float | None = None
    days: list[tuple[Window, float]] | None = None
    months: list[tuple[Window, float]] | None = None


@dataclass(frozen=True)
class Freshness:
    """Whether the planner's statistics still describe the table."""

    stale: bool
    reason: str  # why they are stale, in plain words ("" when fresh)
    has_histogram: bool
    changed_fraction: float | None  # rows changed since the last ANALYZE / rows it counted


def assess_freshness(
    stats: TableStats, has_histogram: bool, *, stale_fraction: float, stale_min_rows: int
) -> Freshness:
    """Stale when ANALYZE never ran (no histogram) or too much changed since it last ran."""
    if stats.rows == 0:
        return Freshness(False, "", has_histogram, None)
    if not has_histogram or stats.reltuples is None:
        return Freshness(
            True, "posthog_event has never been analysed: the planner has no timestamp histogram", has_histogram, None
        )
    fraction = stats.changed_since_analyze / max(stats.reltuples, 1.0)
    if stats.changed_since_analyze >= stale_min_rows and fraction > stale_fraction:
        when = f" on {stats.last_analyzed:%Y-%m-%d}" if stats.last_analyzed else ""
        return Freshness(
            True,
            f"{stats.changed_since_analyze:,} rows changed since the last ANALYZE{when}, "
            f"{fraction:.0%} of the {stats.reltuples:,.0f} it counted",
            has_histogram,
            fraction,
        )
    return Freshness(False, "", has_histogram, fraction)


@dataclass(frozen=True)
class MonthlyRate:
    events: float
    method: str  # how it was estimated, in plain words


def rates_since_analyze(stats: TableStats) -> list[MonthlyRate]:
    """What the rows changed since the last ANALYZE say about the monthly volume (events are append-mostly).

    An ANALYZE within the last 30 days means every row added since arrived within the last 30 days: a
    floor. One at least a day ago also gives a rate: the rows over the time since, per 30 days.
    """
    if stats.last_analyzed is None or not stats.changed_since_analyze:
        return []
    changed, elapsed = stats.changed_since_analyze, stats.now - stats.last_analyzed
    rates = []
    if elapsed <= MONTH_WINDOW:
        rates.append(
            MonthlyRate(
                changed,
                f"at least the {changed:,} rows added since the last ANALYZE "
                f"{_ago(elapsed)} ago, all within the last 30 days",
            )
        )
    if elapsed >= DAY:
        rates.append(
            MonthlyRate(
                changed / (elapsed / MONTH_WINDOW),
                f"{changed:,} rows added since the last ANALYZE {_ago(elapsed)} ago, per 30 days",
            )
        )
    return rates


def average_over_history(rows: int, first_event: dt.datetime | None, now: dt.datetime) -> MonthlyRate | None:
    """All rows over the time since the first event, per 30 days (at least a day of history assumed)."""
    if first_event is None or rows <= 0:
        return None
    span = max(now - first_event, DAY)
    return MonthlyRate(
        rows / (span / MONTH_WINDOW), f"{rows:,} rows over the {_ago(span)} since the first event, per 30 days"
    )


def monthly_rate(
    last_30_days: float | None, freshness: Freshness, stats: TableStats, first_event: dt.datetime | None
) -> MonthlyRate | None:
    """The events-per-month figure the verdict is based on.

    Fresh statistics: the planner's estimate for the last 30 days. Stale statistics: the highest of that
    estimate, what the rows added since the last ANALYZE imply, and the average over the table's history,
    so stale statistics can make the doctor cautious but never hide a high volume.
    """
    planner = None
    if last_30_days is not None:
        planner = MonthlyRate(last_30_days, "planner estimate for the last 30 days (timestamp histogram)")
    if not freshness.stale:
        return planner
    candidates = [
        r
        for r in (planner, *rates_since_analyze(stats), average_over_history(stats.rows, first_event, stats.now))
        if r is not None
    ]
    return max(candidates, key=lambda r: r.events) if candidates else None


def growth(last: float, previous: float) -> float | None:
    """Growth of the last 30 days over the 30 before, as a fraction (0.5 = +50%); None without a base."""
    if previous <= 1:
        return None
    return last / previous - 1


@dataclass(frozen=True)
class Trend:
    growth: float | None  # the last 30 days over the 30 before (0.25 = +25%)
    note: str  # why there is no growth figure, when there is none


def trend(
    last_30_days: float | None,
    previous_30_days: float | None,
    freshness: Freshness,
    first_event: dt.datetime | None,
    now: dt.datetime,
) -> Trend:
    """Growth over 30 days, only from fresh estimates over at least 60 days of history."""
    if last_30_days is None or freshness.stale:
        return Trend(None, "not estimated: the statistics are stale")
    if first_event is None or first_event > now - 2 * MONTH_WINDOW:
        return Trend(None, "not estimated: less than 60 days of events")
    return Trend(growth(last_30_days, previous_30_days or 0), "")


def months_until(current: float, target: float, monthly_growth: float | None) -> float | None:
    """Months until `current` reaches `target` at a steady growth rate; None when it never does."""
    if current >= target:
        return 0.0
    if monthly_growth is None or monthly_growth <= 0.01 or current <= 1:
        return None
    return math.log(target / current) / math.log(1 + monthly_growth)


def volume_status(events_per_month: float, struggle: float, limit: float) -> str:
    """ok below the struggle threshold, warn from it, fail from the hard limit."""
    if events_per_month >= limit:
        return "fail"
    if events_per_month >= struggle:
        return "warn"
    return "ok"


def _ago(delta: dt.timedelta) -> str:
    return units.duration(delta.total_seconds())
