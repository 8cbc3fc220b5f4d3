"""The check itself: reading, judging and reporting (the package's docstring says what it looks at)."""

from __future__ import annotations

from dataclasses import dataclass, field

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    Evidence,
    Finding,
    Item,
    Option,
    Outcome,
    Query,
    Skip,
    Table,
    Values,
    conclude,
    units,
)

from .._common import as_int
from .._literals import masked
from .._system_tables import SYSTEM_COLUMNS, UPTIME, server_version, system_columns, uptime
from .families import FAMILIES, ErrorFamily, family_of

ERRORS = Query.from_file(__file__, "server_errors.sql", "clickhouse")
ERROR_COUNTS = Query.from_file(__file__, "server_error_counts.sql", "clickhouse")
ERROR_LOG_COMMANDS = [
    "docker compose exec clickhouse tail -n 200 /var/log/clickhouse-server/clickhouse-server.err.log   # hobby",
    "kubectl exec -n posthog chi-posthog-posthog-0-0-0 -- tail -n 200 "
    "/var/log/clickhouse-server/clickhouse-server.err.log   # Helm",
]


@dataclass
class FamilySeen:
    family: ErrorFamily
    count: int = 0
    last_time: int = 0
    last_message: str = ""
    names: list[str] = field(default_factory=list)


class ServerErrors(Check):
    """ClickHouse errors that matter for ingestion (system.errors): Kafka, format/schema, memory, ZooKeeper /
    Keeper, too many parts, read-only tables, full disk and timeouts, with counts, last time, last message and
    advice per family."""

    id = "clickhouse.errors"
    title = "ClickHouse errors that matter for ingestion"
    needs = ("clickhouse",)
    tags = ("clickhouse", "ingestion")
    category = "Data integrity"
    timeout = 15.0
    options = {
        "recent_hours": Option(24.0, "judge an error family whose last occurrence is at most this many hours old"),
    }
    queries = (SYSTEM_COLUMNS, UPTIME, ERRORS, ERROR_COUNTS)

    def run(self, ctx: Context) -> Outcome:
        columns = system_columns(ctx).get("errors")
        if not columns:
            raise Skip(
                f"ClickHouse {server_version(ctx)} has no system.errors (added in 20.11): its errors can only be "
                "read in clickhouse-server.err.log on the ClickHouse host"
            )
        up, now = uptime(ctx)
        timed = "last_error_time" in columns
        rows = ctx.clickhouse.query(ERRORS if timed else ERROR_COUNTS).dicts()
        seen = _by_family(rows, timed)
        window = ctx.options["recent_hours"] * 3600
        # Without times, an error is recent only if the server itself started within the window.
        findings = [
            _finding(s, now, up, timed)
            for s in seen
            if (s.last_time >= now - window if timed else up <= window) and s.count
        ]
        note = (
            "counted since the server started; includes failed queries of every client (dashboards, the doctor)"
            if timed
            else f"ClickHouse {server_version(ctx)} keeps no time or message per error (system.errors has no "
            "last_error_time): counts since the server started, judged only when it started within the window"
        )
        evidence: list[Evidence] = [
            Values(
                "ClickHouse server",
                [
                    Item("Running for", units.duration(up), "uptime"),
                    Item("Window judged", units.duration(window), "window"),
                ],
            ),
            Table(
                "Errors that matter for ingestion (system.errors)",
                ["Family", "Errors", "Count", "Last seen", "Ago", "Last message"],
                [
                    [
                        s.family.title,
                        ", ".join(s.names),
                        s.count,
                        units.utc(s.last_time) if timed else "not kept",
                        units.duration(now - s.last_time) if timed and s.last_time else "—",
                        s.last_message,
                    ]
                    for s in seen
                ],
                note=note,
            ),
        ]
        recent = {f.key for f in findings}
        recent_count = sum(s.count for s in seen if s.family.id in recent)
        return conclude(
            findings,
            f"no error that matters for ingestion in the last {units.duration(window)}"
            + (f" ({len(seen)} famil{'ies' if len(seen) != 1 else 'y'} seen earlier)" if seen else ""),
            evidence=evidence,
            metrics={
                "clickhouse_ingestion_errors_recent": recent_count,
                "clickhouse_error_families_recent": len(findings),
            },
        )


def _by_family(rows: list[dict], timed: bool) -> list[FamilySeen]:
    seen: dict[str, FamilySeen] = {}
    for row in rows:
        code, message = as_int(row["code"]), str(row.get("last_message") or "")
        family = family_of(code, message, FAMILIES)
        if family is None or not as_int(row["count"]):
            continue
        entry = seen.setdefault(family.id, FamilySeen(family))
        entry.count += as_int(row["count"])
        entry.names.append(f"{row['name']} ({code})")
        last = as_int(row.get("last_time"))
        if timed and last >= entry.last_time:
            entry.last_time, entry.last_message = last, masked(message)
    order = {f.id: i for i, f in enumerate(FAMILIES)}
    return sorted(seen.values(), key=lambda s: order[s.family.id])


def _finding(s: FamilySeen, now: int, up: int, timed: bool) -> Finding:
    when = f", the last {units.duration(now - s.last_time)} ago" if timed else ""
    message = f": {s.last_message[:120]}" if s.last_message else ""  # a finding is cut at 300 characters
    text = (
        f"{s.family.title}: {s.count:,} error{'s' if s.count != 1 else ''} ({', '.join(s.names)}) since "
        f"ClickHouse started {units.duration(up)} ago{when}{message}"
    )
    advice = Advice(
        f"{s.family.explanation} {s.family.advice}", commands=ERROR_LOG_COMMANDS, links=list(s.family.links)
    )
    return Finding(s.family.severity, text, (advice,), key=s.family.id)
