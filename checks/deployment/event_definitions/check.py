"""The deployment.event_definitions check: the busiest recent events against the last-seen time of their definitions."""

from __future__ import annotations

from dataclasses import dataclass

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    Finding,
    Option,
    Outcome,
    Query,
    Skip,
    Table,
    conclude,
    explained,
    units,
)

from ...common import docs

RECENT_EVENTS = Query.from_file(__file__, "recent_events.sql", "clickhouse", "recent_event_names")
LAYOUT = Query.from_file(__file__, "layout.sql", "postgres", "event_definitions_layout")
DEFINITIONS = Query.from_file(__file__, "definitions.sql", "postgres", "event_definitions")
HOUR = units.HOUR

WRITER = Advice(
    "Nothing is writing event definitions. Since PostHog moved them out of the plugin server (September 2024), the "
    "property-defs-rs service writes them, about once an hour per event: make sure it runs and has SKIP_WRITES=false, "
    "SKIP_READS=false and FILTER_MODE=opt-out, as PostHog's docker-compose sets (its built-in defaults write "
    "nothing); it consumes Kafka topic clickhouse_events_json as group property-defs-rs. On an older PostHog the "
    "plugin server writes them, once per UTC day per event: read its logs for failing Postgres writes.",
    commands=[
        "docker compose ps property-defs-rs",
        "docker compose logs --tail 100 property-defs-rs",
        "docker compose logs --tail 200 plugins | grep -i definition",
    ],
    links=[docs.PROPERTY_DEFS_RS, docs.PROPERTY_DEFS_MOVE, docs.HOBBY_COMPOSE],
)


@dataclass(frozen=True)
class Seen:
    """One (team, event) ClickHouse saw arrive, and what its definition says (Unix seconds)."""

    team: int
    event: str
    events: int
    first_arrival: int
    last_arrival: int
    defined: bool
    last_seen: float | None

    @property
    def lag(self) -> float | None:
        """How far the definition's last-seen time trails the newest arrival."""
        return None if self.last_seen is None else self.last_arrival - self.last_seen


class EventDefinitions(Check):
    """Event definitions' last-seen time (`posthog_eventdefinition.last_seen_at`) for the busiest events arriving in
    ClickHouse: events arriving while their definitions go stale or never appear reveal a missing definitions writer
    (property-defs-rs, or the plugin server on older PostHog)."""

    id = "deployment.event_definitions"
    title = "Event definitions keep up with events"
    needs = ("postgres", "clickhouse")
    tags = ("postgres", "clickhouse", "ingestion")
    category = "Ingestion"
    timeout = 20.0
    options = {
        "window_hours": Option(3.0, "look at events that arrived in this last period"),
        "max_events": Option(50, "compare at most this many of the busiest (team, event) pairs"),
        "stale_hours": Option(
            26.0, "a definition this far behind its event's newest arrival is stale (the plugin server: once a day)"
        ),
        "stale_hours_rust": Option(
            3.0, "the same on PostHog 2025+, whose property-defs-rs updates definitions about hourly"
        ),
        "missing_after_minutes": Option(90.0, "an event arriving for this long should have a definition"),
        "max_rows_to_read": Option(100_000_000, "read budget of the scan of recent events"),
        "scan_bytes": Option(16_000_000, "posthog_eventdefinition smaller than this may be read by a scan"),
    }
    queries = (RECENT_EVENTS, LAYOUT, DEFINITIONS, explained(DEFINITIONS))

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        layout = ctx.postgres.query(LAYOUT).one()
        if not layout["present"]:
            raise Skip("no posthog_eventdefinition table: is this PostHog's database?")
        if not layout["has_last_seen"]:
            raise Skip("posthog_eventdefinition has no last_seen_at column: this PostHog predates it (2021)")
        window = int(o["window_hours"] * HOUR)
        recent = ctx.clickhouse.query(
            RECENT_EVENTS,
            {
                "window_seconds": window,
                "timestamp_window_seconds": window + 2 * units.DAY,
                "max_events": int(o["max_events"]),
            },
            max_rows_to_read=o["max_rows_to_read"],
        )
        rows = recent.dicts()
        if not rows:
            raise Skip(f"no event arrived in ClickHouse in the last {units.duration(window)}: nothing to compare")
        definitions = ctx.postgres.query(
            DEFINITIONS,
            {"teams": sorted({int(r["team_id"]) for r in rows}), "names": sorted({str(r["event"]) for r in rows})},
            no_scan=int(layout["table_bytes"]) >= o["scan_bytes"],  # a large table is read through its index only
        ).dicts()
        last_seen = {(int(d["team_id"]), str(d["name"])): _float(d["last_seen_at"]) for d in definitions}
        seen = [
            Seen(
                int(r["team_id"]),
                str(r["event"]),
                int(r["events"]),
                int(r["first_arrival"]),
                int(r["last_arrival"]),
                (int(r["team_id"]), str(r["event"])) in last_seen,
                last_seen.get((int(r["team_id"]), str(r["event"]))),
            )
            for r in rows
        ]
        now = max(int(r["server_now"]) for r in rows)
        rust = bool(layout["has_enforcement_mode"])
        stale_after = (o["stale_hours_rust"] if rust else o["stale_hours"]) * HOUR
        stale = [s for s in seen if s.defined and (s.lag is None or s.lag > stale_after)]
        missing = [s for s in seen if not s.defined and now - s.first_arrival >= o["missing_after_minutes"] * 60]
        writer = "property-defs-rs (PostHog 2025+)" if rust else "property-defs-rs, or the plugin server before 2024"
        findings = judge(seen, stale, missing, now, stale_after, writer)
        newest = max((s.last_seen for s in seen if s.last_seen), default=None)
        return conclude(
            findings,
            f"the definitions of the {len(seen)} busiest events of the last {units.duration(window)} are up to date "
            f"(newest update {units.duration(now - newest) if newest else 'unknown'} ago; written by {writer})",
            evidence=[evidence_table(seen, stale, missing, now, writer)],
            partial=recent.partial,
            metrics={
                "stale_event_definitions": len(stale),
                "missing_event_definitions": len(missing),
                "event_definition_lag_hours": round((now - newest) / HOUR, 1) if newest else None,
            },
        )


def judge(seen: list[Seen], stale: list[Seen], missing: list[Seen], now: int, stale_after: float, writer: str):
    bad = stale + missing
    if not bad:
        return []
    worst = max(bad, key=lambda s: s.events)
    if worst.defined:
        example = (
            f"team {worst.team} '{worst.event}' arrived {units.duration(now - worst.last_arrival)} ago, its definition "
            f"was last seen {units.duration(now - worst.last_seen) if worst.last_seen else 'never'} ago"
        )
    else:
        arriving = units.duration(now - worst.first_arrival)
        example = f"team {worst.team} '{worst.event}' has arrived for {arriving} with no definition"
    scope = "all" if len(bad) == len(seen) else f"{len(bad)} of the"
    cause = (
        "nothing writes event definitions"
        if len(bad) == len(seen)
        else f"the definitions writer ({writer}) skips or fails on some"
    )
    return [
        Finding.warn(
            f"events arrive but their definitions do not follow: {scope} {len(seen)} busiest events are more than "
            f"{units.duration(stale_after)} behind or undefined ({example}): {cause}",
            WRITER,
        )
    ]


def evidence_table(seen: list[Seen], stale: list[Seen], missing: list[Seen], now: int, writer: str) -> Table:
    def verdict(s: Seen) -> str:
        return "stale" if s in stale else "no definition" if s in missing else "new" if not s.defined else "fresh"

    return Table(
        "Recent events and their definitions",
        ["Team", "Event", "Arrived (window)", "Last arrival", "Definition last seen", "Behind by", "Verdict"],
        [
            [
                s.team,
                s.event,
                s.events,
                f"{units.duration(now - s.last_arrival)} ago",
                f"{units.duration(now - s.last_seen)} ago" if s.last_seen else "never",
                units.duration(s.lag) if s.lag is not None else None,
                verdict(s),
            ]
            for s in seen
        ],
        note=f"Arrivals from ClickHouse (_timestamp), definitions from posthog_eventdefinition; written by {writer}.",
        personal=True,  # event names come from the customer's data
    )


def _float(value) -> float | None:
    return None if value is None else float(value)
