"""The check itself: reading, judging and reporting (the package's docstring says what it looks at)."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    Item,
    Option,
    Outcome,
    Point,
    Query,
    Series,
    Skip,
    Table,
    Values,
    fail,
    ok,
    units,
    warn,
)

from ...common import docs
from .._common import DAY, SERVER_NOW, as_int, day_label, events_data_table, server_now
from .._spread import spread_over_days

MONTHS = Query.from_file(__file__, "volume_months.sql", "clickhouse")
DAYS = Query.from_file(__file__, "volume_days.sql", "clickhouse")
PRESSURE = Query.from_file(__file__, "parts_pressure.sql", "clickhouse")
LIMITS = Query.from_file(__file__, "merge_tree_limits.sql", "clickhouse")
_MONTH = re.compile(r"^(\d{4})(\d{2})$")


class EventVolume(Check):
    """Events stored per month and per day (from part metadata, no scan), their compressed and uncompressed
    size, the month-over-month trend, and active parts per partition against ClickHouse's limits."""

    id = "clickhouse.event_volume"
    title = "Event volume: events stored per month and per day"
    needs = ("clickhouse",)
    tags = ("clickhouse", "volume")
    category = "Performance"
    timeout = 15.0
    options = {
        "days": Option(30, "how many days the per-day estimate covers"),
        "parts_warn_fraction": Option(0.8, "warn when a partition has this share of parts_to_delay_insert"),
    }
    queries = (SERVER_NOW, MONTHS, DAYS, PRESSURE, LIMITS)

    def run(self, ctx: Context) -> Outcome:
        table = events_data_table(ctx)
        if table is None:
            raise Skip(f"no events table in database {ctx.clickhouse.database!r}: see the schema check")
        where = {"database": ctx.clickhouse.database, "table": table}
        now = server_now(ctx)
        months = ctx.clickhouse.query(MONTHS, where).dicts()
        days = self._days(ctx, where, now, ctx.options["days"])
        pressure = ctx.clickhouse.query(PRESSURE, {"database": ctx.clickhouse.database}).dicts()
        limits = {r["name"]: as_int(r["value"]) for r in ctx.clickhouse.query(LIMITS).dicts()}
        trend = month_trend(months, now)
        evidence = [
            self._overview(months, days, trend, table),
            self._month_table(months),
            Series(
                "Events stored per month",
                [Point(str(m["partition"]), as_int(m["stored_rows"])) for m in reversed(months)],
                unit="events",
            ),
            Series(
                f"Events per day, last {ctx.options['days']} days (estimated from part time ranges)",
                [Point(day_label(d), round(v)) for d, v in days],
                unit="events",
                note="days in UTC; exact for recent small parts, an average over large merged parts",
            ),
            Table(
                "Partitions with the most active parts",
                ["Table", "Partition", "Active parts"],
                [[r["table"], r["partition"], as_int(r["parts"])] for r in pressure],
                note=", ".join(f"{k} = {v}" for k, v in sorted(limits.items())),
            ),
        ]
        outcome = self._verdict(months, days, trend, pressure, limits, ctx.options, evidence)
        outcome.metrics.update(
            {
                "events_stored": sum(as_int(m["stored_rows"]) for m in months),
                "max_parts_in_a_partition": max((as_int(r["parts"]) for r in pressure), default=0),
            }
        )
        return outcome

    @staticmethod
    def _days(ctx: Context, where, now: int, count: int) -> list[tuple[int, float]]:
        today = now - now % DAY
        since = today - (count - 1) * DAY
        ranges = [
            (r["range_start"], r["range_end"], as_int(r["stored_rows"]))
            for r in ctx.clickhouse.query(DAYS, dict(where, lookback_seconds=now - since)).dicts()
        ]
        spread = spread_over_days(ranges, since, now + 1)
        return [(d, spread.get(d, 0.0)) for d in range(since, today + 1, DAY)]

    @staticmethod
    def _overview(months, days, trend: dict, table: str) -> Values:
        rows = sum(as_int(m["stored_rows"]) for m in months)
        compressed = sum(as_int(m["compressed_bytes"]) for m in months)
        uncompressed = sum(as_int(m["uncompressed_bytes"]) for m in months)
        return Values(
            "Events stored",
            [
                Item("Events stored (rows in active parts)", rows, "stored_rows"),
                Item("Months (partitions)", len(months), "partitions"),
                Item("Compressed", units.size(compressed), "compressed"),
                Item("Uncompressed", units.size(uncompressed), "uncompressed"),
                Item("Compression ratio", round(uncompressed / compressed, 1) if compressed else None, "ratio"),
                Item(f"Events, last {len(days)} days (estimate)", round(sum(v for _, v in days)), "recent_days"),
                Item("Last complete month vs the one before (%)", trend.get("growth_pct"), "growth_pct"),
                Item("This month, projected to its end", trend.get("projected"), "projected_month"),
            ],
            note=(
                f"parts of table {table} on this server; on a sharded cluster the other shards hold the rest"
                if table == "sharded_events"
                else f"parts of table {table}"
            ),
        )

    @staticmethod
    def _month_table(months) -> Table:
        rows = []
        for m in months:
            compressed, uncompressed = as_int(m["compressed_bytes"]), as_int(m["uncompressed_bytes"])
            rows.append(
                [
                    str(m["partition"]),
                    as_int(m["stored_rows"]),
                    units.size(compressed),
                    units.size(uncompressed),
                    round(uncompressed / compressed, 1) if compressed else None,
                    as_int(m["parts"]),
                    units.utc(as_int(m["first_event"])),
                    units.utc(as_int(m["last_event"])),
                ]
            )
        return Table(
            "Events per month (partition)",
            ["Month", "Events", "Compressed", "Uncompressed", "Ratio", "Active parts", "First event", "Last event"],
            rows,
        )

    @staticmethod
    def _verdict(months, days, trend, pressure, limits, o, evidence):
        delay, throw = limits.get("parts_to_delay_insert", 0), limits.get("parts_to_throw_insert", 0)
        busiest = pressure[0] if pressure else None
        parts = as_int(busiest["parts"]) if busiest else 0
        where = f"{busiest['table']} partition {busiest['partition']}" if busiest else ""
        advice = [
            Advice(
                "Many small parts come from many small inserts or merges that cannot keep up: check "
                "ClickHouse's CPU and disk load and the merges in system.merges; inserts are delayed at "
                f"parts_to_delay_insert ({delay}) and rejected with 'Too many parts' at "
                f"parts_to_throw_insert ({throw}).",
                links=[docs.CLICKHOUSE_LOAD],
            )
        ]
        if throw and parts >= throw:
            return fail(
                f"{where} has {parts} active parts, at ClickHouse's limit of {throw}: inserts fail with "
                "'Too many parts'",
                evidence=evidence,
                advice=advice,
            )
        if delay and parts >= delay * o["parts_warn_fraction"]:
            return warn(
                f"{where} has {parts} active parts, near parts_to_delay_insert ({delay}) where ClickHouse "
                "starts delaying inserts",
                evidence=evidence,
                advice=advice,
            )
        rows = sum(as_int(m["stored_rows"]) for m in months)
        if not rows:
            return ok("the events table holds no events yet", evidence=evidence)
        recent = round(sum(v for _, v in days))
        growth = f"; last month {trend['growth_pct']:+g}% over the month before" if "growth_pct" in trend else ""
        return ok(
            f"{rows:,} events stored in {len(months)} month{'s' if len(months) != 1 else ''} "
            f"(about {recent:,} in the last {len(days)} days){growth}",
            evidence=evidence,
        )


def month_trend(months, now: int) -> dict:
    """Month-over-month growth of the last two complete months, and the current month projected to its end."""
    by_month = {}
    for m in months:
        found = _MONTH.match(str(m["partition"]))
        if found:
            by_month[(int(found.group(1)), int(found.group(2)))] = as_int(m["stored_rows"])
    today = datetime.fromtimestamp(now, UTC)
    current = (today.year, today.month)
    last = _previous(current)
    before = _previous(last)
    trend = {}
    if by_month.get(before) and last in by_month:
        trend["growth_pct"] = round(100.0 * (by_month[last] - by_month[before]) / by_month[before], 1)
    if current in by_month:
        month_start = datetime(today.year, today.month, 1, tzinfo=UTC).timestamp()
        elapsed = max(now - month_start, 3600)
        length = calendar.monthrange(today.year, today.month)[1] * DAY
        trend["projected"] = round(by_month[current] * length / elapsed)
    return trend


def _previous(month: tuple[int, int]) -> tuple[int, int]:
    year, number = month
    return (year - 1, 12) if number == 1 else (year, number - 1)
