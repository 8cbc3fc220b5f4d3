"""How long until ClickHouse's disk is full: free and total space per disk, daily growth, and a forecast.

Free space comes from `system.disks` (ClickHouse 19.15+). Growth is read from part metadata: the bytes of
the parts holding the last days' data (tables partitioned by time, which for PostHog is where the volume
is: events by month), spread over the days they cover. Tables without a time in their partition key are
not in the growth figure; the report says how much of the data that leaves out.
"""

from __future__ import annotations

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    Finding,
    MissingObject,
    Option,
    Outcome,
    Query,
    Skip,
    Table,
    conclude,
    units,
)

from ..common import docs
from ._common import DAY, SERVER_NOW, as_int, pct, server_now
from ._disk_groups import PARTS_BY_TABLE, attribute, share_sentence, tables_on_disk
from ._spread import spread_over_days

SPACE = Query.from_file(__file__, "disk_space.sql", "clickhouse")
USAGE = Query.from_file(__file__, "disk_usage.sql", "clickhouse")
GROWTH = Query.from_file(__file__, "disk_growth.sql", "clickhouse")
UNLIMITED = 2**62  # object-storage disks report no real capacity (0 or about 2**64)


class Disk(Check):
    """Free and total space of each ClickHouse disk, daily growth measured from recent parts, and the number
    of days until the disk is full."""

    id = "clickhouse.disk"
    title = "ClickHouse disk: free space and days until full"
    needs = ("clickhouse",)
    tags = ("clickhouse", "disk")
    category = "Deployments/Maintenance"
    timeout = 15.0
    options = {
        "growth_days": Option(7, "measure the daily growth over this many past days"),
        "warn_days": Option(30.0, "warn when the disk is forecast to be full within this many days"),
        "fail_days": Option(7.0, "fail when the disk is forecast to be full within this many days"),
        "warn_free_pct": Option(15.0, "warn when a disk has less free space than this"),
        "fail_free_pct": Option(5.0, "fail when a disk has less free space than this"),
    }
    queries = (SPACE, USAGE, GROWTH, SERVER_NOW, PARTS_BY_TABLE)

    def run(self, ctx: Context) -> Outcome:
        try:
            disks = ctx.clickhouse.query(SPACE).dicts()
        except MissingObject:
            version = ctx.probe("clickhouse").version or "this version"
            raise Skip(
                f"ClickHouse {version} has no system.disks (added in 19.15): its free space cannot be read "
                "over SQL; check the data volume with `df -h` on the ClickHouse host"
            ) from None
        usage = {r["disk"]: r for r in ctx.clickhouse.query(USAGE).dicts()}
        growth = self._daily_growth(ctx, ctx.options["growth_days"])
        findings, rows = [], []
        for disk in disks:
            finding, row = self._judge(disk, growth.get(disk["name"], 0.0), usage.get(disk["name"], {}), ctx.options)
            rows.append(row)
            if finding:
                findings.append(finding)
        if findings:
            findings = self._attributed(ctx, findings)
        days = ctx.options["growth_days"]
        evidence = [
            Table(
                "ClickHouse disks",
                [
                    "Disk",
                    "Path",
                    "Free",
                    "Total",
                    "Free %",
                    f"Growth per day ({days} d)",
                    "Days until full",
                    "ClickHouse data",
                    "Data in the growth figure %",
                ],
                rows,
                note="growth from parts of tables partitioned by time (events by month); "
                "free space as ClickHouse sees it",
            )
        ]
        least_free = min((r[4] for r in rows), default=None)
        soonest = min((r[6] for r in rows if r[6] is not None), default=None)
        metrics = {
            "disk_min_free_pct": least_free,
            "disk_days_until_full": soonest,
            "disk_growth_bytes_per_day": round(sum(growth.values()), 1),
        }
        forecast = f"; {say_days(soonest)} at the current growth" if soonest is not None else ""
        healthy = f"{len(rows)} disk{'s' if len(rows) != 1 else ''}, the fullest with {least_free:g}% free{forecast}"
        return conclude(
            findings,
            healthy,
            evidence=evidence,
            metrics=metrics,
            advice=[
                Advice(
                    "Free space on ClickHouse's volume (resize it, or lower the retention of large tables) before it "
                    "fills: a full disk stops ingestion and merges.",
                    links=[docs.CLICKHOUSE_RESIZE_DISK],
                )
            ],
        )

    @staticmethod
    def _attributed(ctx: Context, findings: list[Finding]) -> list[Finding]:
        """The findings with where the bytes go (clickhouse.disk_usage's groups) and how to trim the biggest."""
        groups = sorted(attribute(tables_on_disk(ctx)), key=lambda g: -g.bytes)
        where = share_sentence(groups)
        total = sum(g.bytes for g in groups)
        trims = tuple(
            Advice(g.group.trim, links=[docs.CLICKHOUSE_RESIZE_DISK])
            for g in groups
            if g.group.trim and g.bytes >= 0.05 * total  # only groups worth trimming
        )[:2]
        return [
            Finding(f.status, f"{f.text}; the data: {where}" if where else f.text, (*f.advice, *trims), key=f.key)
            for f in findings
        ]

    @staticmethod
    def _daily_growth(ctx: Context, days: int) -> dict[str, float]:
        now = server_now(ctx)
        since = now - days * DAY
        per_disk: dict[str, list] = {}
        for r in ctx.clickhouse.query(GROWTH, {"lookback_seconds": days * DAY}).dicts():
            per_disk.setdefault(r["disk"], []).append((r["range_start"], r["range_end"], as_int(r["bytes"])))
        return {
            disk: sum(spread_over_days(ranges, since, now + 1).values()) / days for disk, ranges in per_disk.items()
        }

    @staticmethod
    def _judge(disk: dict, growth: float, usage: dict, o) -> tuple[Finding | None, list]:
        name, free, total = disk["name"], as_int(disk["free_space"]), as_int(disk["total_space"])
        used, timed = as_int(usage.get("used_bytes")), as_int(usage.get("timed_bytes"))
        if not total or total >= UNLIMITED:
            return None, [
                name,
                disk["path"],
                "—",
                "unlimited",
                100.0,
                units.size(growth),
                None,
                units.size(used),
                pct(timed, used),
            ]
        free_pct = pct(free, total)
        days_left = round(free / growth, 1) if growth > 0 else None
        row = [
            name,
            disk["path"],
            units.size(free),
            units.size(total),
            free_pct,
            units.size(growth),
            days_left,
            units.size(used),
            pct(timed, used),
        ]
        when = f", {say_days(days_left)} at {units.size(growth)} a day" if days_left is not None else ""
        if free_pct < o["fail_free_pct"] or (days_left is not None and days_left < o["fail_days"]):
            return Finding.fail(f"disk {name} has {free_pct:g}% free ({units.size(free)}){when}"), row
        if free_pct < o["warn_free_pct"] or (days_left is not None and days_left < o["warn_days"]):
            return Finding.warn(f"disk {name} has {free_pct:g}% free ({units.size(free)}){when}"), row
        return None, row


def say_days(days: float) -> str:
    if days > 3650:
        return "full in more than 10 years"
    return "full within a day" if days < 1 else f"full in about {days:,.0f} days"
