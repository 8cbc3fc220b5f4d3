"""What postgres.event_volume says: its summary line, its advice and its evidence, from numbers already judged."""

from __future__ import annotations

from posthog_doctor.check import Advice, Item, Point, Series, Table, Values, units

from ...common import docs
from ...common.events_table import TableStats
from .migration import migration_steps, version_advice
from .volume import Estimates, Freshness, MonthlyRate, Trend, months_until

approx, size = units.approx, units.size


# --- summary and advice -------------------------------------------------------------------------


def volume_summary(status: str, rate: MonthlyRate, trend: Trend, freshness: Freshness, o) -> str:
    volume = f"~{approx(rate.events)} events a month in Postgres"
    struggle, limit = approx(o["struggle_events_per_month"]), approx(o["limit_events_per_month"])
    if status == "fail":
        text = f"{volume}, past the ~{limit}/month PostHog documents as Postgres's limit: move to ClickHouse"
    elif rate.events >= o["struggle_events_per_month"]:
        text = f"{volume}, past the {struggle}/month where Postgres starts to struggle (limit ~{limit})"
    else:
        text = f"{volume}, below the {struggle}/month where Postgres starts to struggle"
    if trend.growth is not None and abs(trend.growth) >= 0.05:
        text += f", {'growing' if trend.growth > 0 else 'shrinking'} {abs(trend.growth):.0%} over 30 days"
    if freshness.stale:
        text += f"; statistics are stale ({freshness.reason})"
    return text


def volume_advice(
    status: str, events: TableStats, rate: MonthlyRate, trend: Trend, freshness: Freshness, version: str | None, o
) -> list[Advice]:
    advice = []
    if freshness.stale:
        advice.append(analyze_advice())
    if status == "fail" or rate.events >= o["struggle_events_per_month"]:
        advice.append(migration_steps())
        advice.append(version_advice(version))
        advice.append(memory_advice(events, o["ram_mb_per_million_events"]))
    elif trend.growth:
        months = months_until(rate.events, o["struggle_events_per_month"], trend.growth)
        if months is not None and months <= 12:
            advice.append(
                Advice(
                    f"At this growth the volume reaches {approx(o['struggle_events_per_month'])} events a "
                    f"month in about {months:.0f} months: plan the move to ClickHouse before then.",
                    links=[docs.SCALING, docs.POSTGRES_VS_CLICKHOUSE],
                )
            )
    return advice


def analyze_advice() -> Advice:
    return Advice(
        "Refresh the statistics of posthog_event (ANALYZE reads a sample, takes no lock that blocks "
        "writes, and is safe at any time); if autovacuum does not keep up, lower "
        "autovacuum_analyze_scale_factor for this table. Then run the doctor again.",
        commands=[
            "psql -d posthog -c 'ANALYZE VERBOSE posthog_event;'",
            "psql -d posthog -c 'ALTER TABLE posthog_event SET (autovacuum_analyze_scale_factor = 0.02);'",
        ],
        links=["https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-STATISTICS"],
    )


def memory_advice(events: TableStats, mb_per_million: int) -> Advice:
    by_rule = events.rows / 1e6 * mb_per_million * 1024 * 1024
    need = max(by_rule, events.total_bytes)
    return Advice(
        f"Until the move, give Postgres at least {size(need)} of memory: PostHog's rule is RAM for the whole "
        f"events table (now {size(events.total_bytes)} with indexes), about {mb_per_million} MB per 1M "
        f"events ({approx(events.rows)} events → {size(by_rule)}).",
        links=[docs.SCALING],
    )


# --- evidence -----------------------------------------------------------------------------------


def event_table_evidence(
    events: TableStats, rate: MonthlyRate | None, freshness: Freshness, histogram, bounds, bounds_note: str
) -> Values:
    items = [
        Item("Events a month (basis of the verdict)", round(rate.events) if rate else None, "events_per_month"),
        Item("How that was estimated", rate.method if rate else None, "method"),
        Item("Events now (pg_stat_user_tables.n_live_tup)", events.live_rows, "live_rows"),
        Item(
            "Events at the last ANALYZE (pg_class.reltuples)",
            None if events.reltuples is None else round(events.reltuples),
            "reltuples",
        ),
        Item("Table size", size(events.table_bytes), "table_size"),
        Item("Index size", size(events.index_bytes), "index_size"),
        Item("Total size (pg_total_relation_size)", size(events.total_bytes), "total_size"),
        Item("Partitions", events.partitions, "partitions"),
        Item("First event", bounds.first_event if bounds else None, "first_event"),
        Item("Newest event", bounds.last_event if bounds else None, "last_event"),
        Item("Last ANALYZE", events.last_analyzed, "last_analyzed"),
        Item("Rows changed since the last ANALYZE", events.changed_since_analyze, "changed_since_analyze"),
        Item("Newest timestamp the statistics know", histogram.last_timestamp, "histogram_last_timestamp"),
        Item("Statistics fresh", not freshness.stale, "statistics_fresh"),
    ]
    notes = [n for n in (freshness.reason, bounds_note) if n]
    return Values("posthog_event", items, note="; ".join(notes))


def series_evidence(estimates: Estimates, freshness: Freshness) -> list[Series]:
    if estimates.days is None or estimates.months is None:
        return []
    note = "Planner estimates from the timestamp histogram, not counts." + (
        " The statistics are stale: recent periods are likely underestimated." if freshness.stale else ""
    )
    return [
        Series("Events per day (estimated)", [Point(w.label, round(n)) for w, n in estimates.days], "events", note),
        Series("Events per month (estimated)", [Point(w.label, round(n)) for w, n in estimates.months], "events", note),
    ]


def trend_evidence(estimates: Estimates, trend: Trend, rate: MonthlyRate | None, o) -> Values:
    current = rate.events if rate else 0

    def until(target: float) -> float | None:
        return months_until(current, target, trend.growth)

    return Values(
        "Trend",
        [
            Item("Events in the last 30 days (estimated)", _round(estimates.last_30_days), "last_30_days"),
            Item("Events in the 30 days before (estimated)", _round(estimates.previous_30_days), "previous_30_days"),
            Item("Growth over 30 days", None if trend.growth is None else f"{trend.growth:+.0%}", "growth"),
            Item(
                f"Months until {approx(o['struggle_events_per_month'])}/month at this growth (0: already)",
                _round(until(o["struggle_events_per_month"]), 1),
                "months_to_struggle",
            ),
            Item(
                f"Months until {approx(o['limit_events_per_month'])}/month at this growth (0: already)",
                _round(until(o["limit_events_per_month"]), 1),
                "months_to_limit",
            ),
        ],
        note=trend.note,
    )


def tables_evidence(stats: dict[str, TableStats]) -> Table:
    rows = [
        [t.name, t.rows, size(t.table_bytes), size(t.index_bytes), size(t.total_bytes)]
        for t in sorted(stats.values(), key=lambda t: -t.total_bytes)
    ]
    return Table(
        "Event-scale tables",
        ["Table", "Rows (estimated)", "Table", "Indexes", "Total"],
        rows,
        note="Row counts from pg_stat_user_tables / pg_class, sizes from pg_table_size / pg_indexes_size / "
        "pg_total_relation_size; no table was read.",
    )


def memory_evidence(events: TableStats, memory: dict, mb_per_million: int) -> Values:
    by_rule = events.rows / 1e6 * mb_per_million * 1024 * 1024
    return Values(
        "Memory",
        [
            Item("Events table with indexes", size(events.total_bytes), "events_total_size"),
            Item(f"RAM by PostHog's rule ({mb_per_million} MB per 1M events)", size(by_rule), "ram_by_rule"),
            Item("shared_buffers", memory.get("shared_buffers"), "shared_buffers"),
            Item("effective_cache_size", memory.get("effective_cache_size"), "effective_cache_size"),
        ],
        note="PostHog's docs: Postgres should have enough memory to hold the entire events table.",
    )


def _round(value, digits: int = 0):
    if value is None:
        return None
    return round(value, digits) if digits else round(value)
