"""The check itself: reading, judging and reporting (the package's docstring says what it looks at)."""

from __future__ import annotations

import re

from posthog_doctor.check import Advice, Check, Context, Finding, Option, Outcome, Query, Table, conclude, units

from ...common import docs
from .._common import DAY
from .._disk_groups import PARTS_BY_TABLE, TableBytes, tables_on_disk
from .._spread import spread_over_days
from .._system_tables import UPTIME, uptime

GROWTH = Query.from_file(__file__, "system_log_growth.sql", "clickhouse")
LOG_TABLES = Query.from_file(__file__, "system_log_tables.sql", "clickhouse")
LOG_TABLE = re.compile(r"_log(_[0-9]+)?$")
RENAMED = re.compile(r"_log_[0-9]+$")  # an old copy left by an upgrade
GIB = 1024**3


def trim_advice(big: list[TableBytes]) -> Advice:
    """The statements that win the space back and keep it, for the tables found (advice only: never run)."""
    commands = []
    for t in big[:5]:
        if RENAMED.search(t.table):
            commands.append(f"DROP TABLE system.{t.table}   -- an old copy left by an upgrade")
        else:
            commands.append(f"TRUNCATE TABLE system.{t.table}   -- frees the space now")
            commands.append(
                f"ALTER TABLE system.{t.table} MODIFY TTL event_date + INTERVAL 30 DAY   -- ClickHouse 19.6+"
            )
    return Advice(
        "Trim ClickHouse's own logs and give them a TTL. Truncating a log table (or dropping its old monthly "
        "partitions with ALTER TABLE ... DROP PARTITION) frees the space at once and loses only ClickHouse's "
        "diagnostics; keep it down for good with `<ttl>event_date + INTERVAL 30 DAY DELETE</ttl>` in the log's "
        "section of the server config (a config.d file, then restart: an ALTER of a system table is undone when "
        'the config differs), or switch off logs nobody reads (`<metric_log remove="1"/>`, '
        '`<trace_log remove="1"/>`).',
        commands=commands,
        links=[docs.CH_QUERY_LOG_SETTINGS, docs.CH_SYSTEM_TABLES, docs.CLICKHOUSE_RESIZE_DISK],
    )


class SystemLogs(Check):
    """The size, daily growth and TTL of ClickHouse's own system.*_log tables (a runaway log table fills the
    disk), from part metadata, with the statements that trim them."""

    id = "clickhouse.system_logs"
    title = "ClickHouse's own log tables: size, growth, TTL"
    needs = ("clickhouse",)
    tags = ("clickhouse", "disk")
    category = "Deployments/Maintenance"
    timeout = 15.0
    options = {
        "table_warn_gib": Option(5.0, "warn about a log table without TTL bigger than this many GiB"),
        "share_warn_pct": Option(25.0, "warn when the log tables hold more than this share of ClickHouse's bytes"),
        "min_gib": Option(1.0, "never warn about the share when the log tables hold less than this many GiB"),
        "growth_days": Option(7, "measure the daily growth over this many past days"),
    }
    queries = (PARTS_BY_TABLE, LOG_TABLES, GROWTH, UPTIME)

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        tables = tables_on_disk(ctx)
        total = sum(t.bytes for t in tables)
        logs = [t for t in tables if t.database == "system" and LOG_TABLE.search(t.table)]
        ttl = {str(r["name"]): bool(int(r["has_ttl"])) for r in ctx.clickhouse.query(LOG_TABLES).dicts()}
        growth = self._growth(ctx, o["growth_days"])
        log_bytes = sum(t.bytes for t in logs)
        share = 100 * log_bytes / total if total else 0.0

        big = [
            t
            for t in logs
            if t.bytes >= o["table_warn_gib"] * GIB and (not ttl.get(t.table) or RENAMED.search(t.table))
        ]
        findings = [self._table_finding(t, growth.get(t.table, 0.0)) for t in big]
        if share > o["share_warn_pct"] and log_bytes >= o["min_gib"] * GIB:
            findings.append(
                Finding.warn(
                    f"ClickHouse's own log tables hold {share:.0f}% of its data ({units.size(log_bytes)}, growing "
                    f"{units.size(sum(growth.get(t.table, 0.0) for t in logs))} a day; the biggest: "
                    + ", ".join(f"system.{t.table} {units.size(t.bytes)}" for t in logs[:3])
                    + ")",
                    key="share",
                )
            )
        if findings:
            advice = trim_advice(big or logs)
            findings = [Finding(f.status, f.text, (advice,), key=f.key) for f in findings]
        evidence = [
            Table(
                "ClickHouse's log tables (system database)",
                ["Table", "Bytes", "Rows", "Parts", "Oldest", "Newest", "Growth per day", "TTL"],
                [
                    [
                        f"system.{t.table}",
                        units.size(t.bytes),
                        t.rows,
                        t.parts,
                        units.utc(t.oldest),
                        units.utc(t.newest),
                        units.size(growth.get(t.table, 0.0)),
                        "yes" if ttl.get(t.table) else "no",
                    ]
                    for t in logs
                ],
                note=f"growth over the last {o['growth_days']} days, from the dates the parts cover; "
                "a name ending in _<n> is an old copy an upgrade left behind",
            )
        ]
        return conclude(
            findings,
            f"{len(logs)} log table{'s' if len(logs) != 1 else ''} with {units.size(log_bytes)} "
            f"({share:.1f}% of ClickHouse's data)",
            evidence=evidence,
            metrics={"system_logs_bytes": log_bytes, "system_logs_share_pct": round(share, 1)},
        )

    @staticmethod
    def _growth(ctx: Context, days: int) -> dict[str, float]:
        _, now = uptime(ctx)
        since = now - days * DAY
        ranges: dict[str, list] = {}
        for r in ctx.clickhouse.query(GROWTH, {"lookback_seconds": days * DAY}).dicts():
            ranges.setdefault(str(r["table"]), []).append((r["range_start"], r["range_end"], int(r["bytes"] or 0)))
        return {t: sum(spread_over_days(rs, since, now + 1).values()) / days for t, rs in ranges.items()}

    @staticmethod
    def _table_finding(t: TableBytes, growth: float) -> Finding:
        if RENAMED.search(t.table):
            return Finding.warn(
                f"system.{t.table} holds {units.size(t.bytes)} ({units.approx(t.rows)} rows): an old copy of a log "
                "table left by an upgrade, which ClickHouse never drops",
                key=t.table,
            )
        since = f" since {units.utc(t.oldest)[:10]}" if t.oldest else ""
        return Finding.warn(
            f"system.{t.table} holds {units.size(t.bytes)} ({units.approx(t.rows)} rows{since}), growing "
            f"{units.size(growth)} a day, with no TTL: it grows until the disk is full",
            key=t.table,
        )
