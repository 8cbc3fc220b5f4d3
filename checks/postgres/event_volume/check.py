"""The postgres.event_volume check: reading, then judging with volume.py and reporting with report.py."""

from __future__ import annotations

from posthog_doctor.check import (
    Check,
    Context,
    Evidence,
    Option,
    Outcome,
    Query,
    Skip,
    WouldScan,
    ok,
    outcome,
    undetermined,
    units,
)

from ...common import events_table
from ...common.analytics_backend import CLICKHOUSE, CLICKHOUSE_TABLES_QUERY, BackendVerdict, analytics_backend
from ...common.events_table import EVENT_TABLE, RELATED_TABLES, TableStats
from .report import (
    analyze_advice,
    event_table_evidence,
    memory_evidence,
    series_evidence,
    tables_evidence,
    trend_evidence,
    volume_advice,
    volume_summary,
)
from .volume import (
    Estimates,
    Window,
    assess_freshness,
    day_windows,
    month_windows,
    monthly_rate,
    rolling_windows,
    trend,
    volume_status,
)

MEMORY_QUERY = Query.from_file(__file__, "memory_settings.sql", "postgres")


class EventVolume(Check):
    """Events in posthog_event per month and day, sizes and growth, from the catalog and the planner only,
    judged against PostHog's documented Postgres limits."""

    id = "postgres.event_volume"
    title = "Event volume on Postgres"
    needs = ("postgres",)
    uses = ("posthog_api", "clickhouse", "status_snapshot")
    tags = ("postgres", "volume")
    category = "Performance"
    options = {
        # docs/self-host/configure/scaling-posthog
        "struggle_events_per_month": Option(
            2_000_000, "from this many events a month Postgres starts to struggle (warn)"
        ),
        "limit_events_per_month": Option(5_000_000, "the documented hard limit of events a month on Postgres (fail)"),
        "ram_mb_per_million_events": Option(300, "RAM (and disk) Postgres needs per 1M stored events, in MB"),
        # Statistics that no longer describe the table mislead the planner, PostHog's queries and these estimates.
        "stale_changed_fraction": Option(
            0.2, "statistics are stale when more than this fraction of rows changed since the last ANALYZE"
        ),
        "stale_min_changed_rows": Option(10_000, "statistics are stale only when at least this many rows changed"),
        "recent_days": Option(7, "an event newer than this many days means Postgres still receives events"),
        "days_shown": Option(14, "days in the per-day estimate"),
        "months_shown": Option(6, "calendar months in the per-month estimate"),
    }
    queries = (*events_table.QUERIES, MEMORY_QUERY, CLICKHOUSE_TABLES_QUERY)

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        stats = events_table.read_table_stats(ctx, (EVENT_TABLE, *RELATED_TABLES))
        events = stats.get(EVENT_TABLE)
        if events is None:
            raise Skip("Postgres has no posthog_event table: this PostHog keeps no events in Postgres")
        backend = analytics_backend(ctx, o["recent_days"])
        skip_when_clickhouse(backend, events)
        tables = tables_evidence(stats)
        if events.rows == 0:
            return ok("posthog_event is empty: no events stored in Postgres", evidence=[tables])

        histogram = events_table.read_histogram(ctx)
        bounds, bounds_note = read_time_bounds(ctx)
        first_event = bounds.first_event if bounds else None
        freshness = assess_freshness(
            events,
            histogram.exists,
            stale_fraction=o["stale_changed_fraction"],
            stale_min_rows=o["stale_min_changed_rows"],
        )
        estimates = estimate_windows(ctx, events, histogram.exists, o["days_shown"], o["months_shown"])
        rate = monthly_rate(estimates.last_30_days, freshness, events, first_event)
        growth = trend(estimates.last_30_days, estimates.previous_30_days, freshness, first_event, events.now)
        memory = ctx.postgres.query(MEMORY_QUERY).first() or {}

        evidence: list[Evidence] = [
            event_table_evidence(events, rate, freshness, histogram, bounds, bounds_note),
            *series_evidence(estimates, freshness),
            trend_evidence(estimates, growth, rate, o),
            tables,
            memory_evidence(events, memory, o["ram_mb_per_million_events"]),
        ]
        if rate is None:
            return undetermined(
                "could not estimate events per month: " + (freshness.reason or bounds_note),
                evidence=evidence,
                advice=[analyze_advice()],
            )
        status = volume_status(rate.events, o["struggle_events_per_month"], o["limit_events_per_month"])
        if freshness.stale and status == "ok":
            status = "warn"  # stale statistics mislead PostHog's own queries too
        return outcome(
            status,
            volume_summary(status, rate, growth, freshness, o),
            evidence=evidence,
            advice=volume_advice(status, events, rate, growth, freshness, backend.posthog_version, o),
            metrics={"events_per_month": rate.events, "event_table_rows": events.rows},
        )


def skip_when_clickhouse(verdict: BackendVerdict, events: TableStats) -> None:
    """On a ClickHouse deployment posthog_event is a leftover: its size is history, not load."""
    if verdict.backend == CLICKHOUSE:
        sources = ", ".join(s.source for s in verdict.strong)
        raise Skip(
            f"events live in ClickHouse ({sources}); posthog_event holds ~{units.approx(events.rows)} rows "
            "from before, which do not load this deployment"
        )


def read_time_bounds(ctx: Context):
    """(bounds, note): the first and newest event, or None and why, when only a scan could tell."""
    try:
        return events_table.read_time_bounds(ctx), ""
    except WouldScan as exc:
        return None, f"first and newest event not read: {exc} (no usable timestamp index)"


def estimate_windows(ctx: Context, events: TableStats, has_histogram: bool, days: int, months: int) -> Estimates:
    """Planner estimates per window; without a histogram they would be guesses, so none are made."""
    if not has_histogram:
        return Estimates()

    def estimate(w: Window) -> float:
        return _rows(events_table.estimate_range(ctx, w.start, w.end))

    last, previous = rolling_windows(events.now)
    return Estimates(
        estimate(last),
        estimate(previous),
        [(w, estimate(w)) for w in day_windows(events.now, days)],
        [(w, estimate(w)) for w in month_windows(events.now, months)],
    )


def _rows(plan_rows: float) -> float:
    return 0.0 if plan_rows <= 1 else plan_rows  # the planner never estimates below one row
