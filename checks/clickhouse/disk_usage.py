"""Where ClickHouse's bytes go: events, the dead letter queue, recordings, ingestion warnings, persons, app logs,
ClickHouse's own system logs and the rest, from part metadata (system.parts, every version including 18.16).

A group that can be trimmed (the DLQ, system logs, warnings, app logs, recordings) and holds a large share of
the data is a finding that says how to win the space back; the disk check names the same groups when it warns.
"""

from __future__ import annotations

from posthog_doctor.check import Advice, Check, Context, Finding, Option, Outcome, Table, conclude, units

from ..common import docs
from ._disk_groups import PARTS_BY_TABLE, attribute, share_sentence, tables_on_disk

GIB = 1024**3


class DiskUsage(Check):
    """Where ClickHouse's bytes go, per group of tables (events, dead letter queue, recordings, ingestion
    warnings, persons, app logs, system logs, other), from part metadata; warns when a group that can be trimmed
    holds a large share."""

    id = "clickhouse.disk_usage"
    title = "ClickHouse disk: where the bytes go"
    needs = ("clickhouse",)
    tags = ("clickhouse", "disk")
    category = "Deployments/Maintenance"
    timeout = 15.0
    options = {
        "warn_share_pct": Option(30.0, "warn when a group that can be trimmed holds more than this share of the bytes"),
        "min_gib": Option(1.0, "ignore groups smaller than this many GiB"),
    }
    queries = (PARTS_BY_TABLE,)

    def run(self, ctx: Context) -> Outcome:
        tables = tables_on_disk(ctx)
        groups = attribute(tables)
        total = sum(g.bytes for g in groups)
        o = ctx.options
        findings = []
        for g in groups:
            share = 100 * g.bytes / total if total else 0.0
            if g.group.trim and share > o["warn_share_pct"] and g.bytes >= o["min_gib"] * GIB:
                biggest = max(g.tables, key=lambda t: t.bytes)
                findings.append(
                    Finding.warn(
                        f"{g.group.title} hold {share:.0f}% of ClickHouse's data ({units.size(g.bytes)}; the "
                        f"biggest, {biggest.name}, {units.size(biggest.bytes)})",
                        Advice(g.group.trim, links=[docs.CLICKHOUSE_RESIZE_DISK, docs.CLICKHOUSE_RUNBOOK]),
                        key=g.group.id,
                    )
                )
        evidence = [
            Table(
                "Bytes per group of tables",
                ["Group", "Bytes", "Share %", "Rows", "Tables", "Biggest table"],
                [
                    [
                        g.group.title,
                        units.size(g.bytes),
                        round(100 * g.bytes / total, 1) if total else 0.0,
                        g.rows,
                        len(g.tables),
                        max(g.tables, key=lambda t: t.bytes).name,
                    ]
                    for g in sorted(groups, key=lambda g: -g.bytes)
                ],
                note="active parts on every disk (system.parts); groups from disk_groups.yaml",
            ),
            Table(
                "Biggest tables",
                ["Table", "Bytes", "Rows", "Parts"],
                [[t.name, units.size(t.bytes), t.rows, t.parts] for t in tables[:15]],
            ),
        ]
        metrics = {f"disk_bytes_{g.group.id}": g.bytes for g in groups}
        metrics["disk_bytes_total"] = total
        return conclude(
            findings,
            f"{units.size(total)} in {len(tables)} table{'s' if len(tables) != 1 else ''}: "
            f"{share_sentence(groups) or 'no data yet'}",
            evidence=evidence,
            metrics=metrics,
        )
