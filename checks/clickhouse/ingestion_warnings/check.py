"""The clickhouse.ingestion_warnings check: the digest by type and team, what each type means, and the verdict."""

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

from ...common.payload import show_details
from .._common import as_int, parse_window, tables
from .types import DOCS, WarningType, type_of

DIGEST = Query.from_file(__file__, "digest.sql", "clickhouse", "ingestion_warnings_digest")
TABLE = "ingestion_warnings"
MAX_ROWS = 2000  # (type, team) groups the digest returns at most
COUNTING_NOTE = (
    "Rows are warnings, not events: PostHog's plugin server writes most types at most once an hour per team and "
    "type (per process), and only a few (pipeline_step_dlq, client_ingestion_warning, "
    "invalid_event_when_process_person_profile_is_false) once per event"
)


@dataclass
class TypeDigest:
    """Every row of one warning type, over all teams."""

    kind: WarningType
    window: int = 0
    context: int = 0
    hour: int = 0
    first_seen: int = 0
    last_seen: int = 0
    teams: dict[int, int] = field(default_factory=dict)  # team id -> rows in the window
    sources: set[str] = field(default_factory=set)
    example: str = ""

    def add(self, row: dict) -> None:
        window = as_int(row["window_rows"])
        self.window += window
        self.context += as_int(row["context_rows"])
        self.hour += as_int(row["hour_rows"])
        first, last = as_int(row["first_seen"]), as_int(row["last_seen"])
        self.first_seen = min(self.first_seen or first, first)
        if last >= self.last_seen:
            self.last_seen, self.example = last, str(row["example_details"])
        if window:
            self.teams[as_int(row["team_id"])] = window
        self.sources.add(str(row["source"]))


class IngestionWarnings(Check):
    """Digest of PostHog's ingestion warnings by type and team (rows, first and last seen, teams, masked
    examples), each type explained: which mean lost data and which are noise. Since 2025 the only ClickHouse
    record of dead-lettered events is a `pipeline_step_dlq` warning."""

    id = "clickhouse.ingestion_warnings"
    title = "Ingestion warnings: what PostHog's ingestion dropped or changed"
    needs = ("clickhouse",)
    tags = ("clickhouse", "ingestion", "data-loss")
    category = "Data integrity"
    timeout = 20.0
    options = {
        "window": Option("24h", "digest the warnings of this last period (e.g. 24h, 90m, 7d)"),
        "context": Option("7d", "also read this much history, for first seen and the earlier types"),
        "max_rows_to_read": Option(20_000_000, "read budget of the ingestion_warnings scan, in rows"),
    }
    queries = (DIGEST,)

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        window = parse_window(o["window"], f"{self.id}.window")
        context = max(parse_window(o["context"], f"{self.id}.context"), window)
        if TABLE not in tables(ctx):
            raise Skip(
                f"this PostHog has no {TABLE} table in database {ctx.clickhouse.database!r}: it predates ClickHouse "
                "migration 0032_ingestion_warnings and records no ingestion warnings"
            )
        result = ctx.clickhouse.query(
            DIGEST,
            {"window_seconds": window, "context_seconds": context, "max_rows": MAX_ROWS},
            max_rows_to_read=o["max_rows_to_read"],
        )
        digests: dict[str, TypeDigest] = {}
        for row in result.dicts():
            name = str(row["type"])
            digests.setdefault(name, TypeDigest(type_of(name))).add(row)
        ordered = sorted(digests.values(), key=lambda d: (not d.kind.loses_data, -d.window, -d.context, d.kind.type))
        current = [d for d in ordered if d.window]
        span = units.duration(window)
        partial = result.partial_reason if result.partial else ""
        findings = [self._finding(d, span) for d in current]
        rows = sum(d.window for d in current)
        before = sum(d.context for d in ordered) - rows
        healthy = (
            f"{rows:,} ingestion warning rows in the last {span}, none of a type that loses data "
            f"({', '.join(d.kind.type for d in current[:3])})"
            if current
            else f"no ingestion warnings in the last {span}"
        )
        if before and not current:
            healthy += f"; {before:,} in the {units.duration(context)} before"
        evidence: list[Evidence] = [
            Values(
                "Ingestion warnings",
                [
                    Item(f"Warning rows, last {span}", rows, "window_rows"),
                    Item(f"Warning rows, last {units.duration(context)}", rows + before, "context_rows"),
                    Item(f"Types, last {span}", len(current), "types"),
                    Item(
                        f"Rows of types that lose data, last {span}",
                        sum(d.window for d in current if d.kind.loses_data),
                        "loss_rows",
                    ),
                ],
                note="; ".join(n for n in (COUNTING_NOTE, f"partial: {partial}" if partial else "") if n),
            ),
        ]
        if current:
            evidence.append(self._type_table(current, span, ctx.include_payloads))
            evidence.append(self._team_table(current, span))
        earlier = [d for d in ordered if not d.window]
        if earlier:
            evidence.append(
                Table(
                    f"Types seen earlier in the last {units.duration(context)}, not in the window",
                    ["Type", "Meaning", "Rows", "First seen", "Last seen"],
                    [
                        [d.kind.type, d.kind.title, d.context, units.utc(d.first_seen), units.utc(d.last_seen)]
                        for d in earlier
                    ],
                )
            )
        partial_note = f" (partial: {partial})" if partial else ""
        return conclude(
            findings,
            healthy + partial_note,
            suffix=partial_note,  # a digest cut short by the budget says so whatever it found
            evidence=evidence,
            advice=[Advice(COUNTING_NOTE + ".", links=[DOCS])],
            partial=bool(partial),
            metrics={
                "ingestion_warning_rows": rows,
                "ingestion_warning_types": len(current),
                "ingestion_warning_loss_rows": sum(d.window for d in current if d.kind.loses_data),
            },
        )

    @staticmethod
    def _finding(d: TypeDigest, span: str) -> Finding:
        teams = f"{len(d.teams)} team{'s' if len(d.teams) != 1 else ''}"
        text = f"{d.kind.type}: {d.window:,} rows in the last {span} ({teams}; {d.kind.counting})"
        if not d.kind.loses_data:
            return Finding.ok(text, key=d.kind.type)
        meaning = "events dead-lettered" if d.kind.effect == "dead_lettered" else "data dropped"
        return Finding.warn(
            f"{text}: {meaning}",
            Advice(f"{d.kind.type} ({d.kind.title}): {d.kind.advice}", links=[d.kind.link]),
            key=d.kind.type,
        )

    @staticmethod
    def _type_table(current: list[TypeDigest], span: str, include_payloads: bool) -> Table:
        return Table(
            f"Warning types, last {span}",
            [
                "Type",
                "Meaning",
                "Effect",
                "Rows",
                "Rows in the last hour",
                "Teams",
                "First seen",
                "Last seen",
                "Written",
                "Example details",
            ],
            [
                [
                    d.kind.type,
                    d.kind.title,
                    d.kind.effect if d.kind.known else "unknown",
                    d.window,
                    d.hour,
                    len(d.teams),
                    units.utc(d.first_seen),
                    units.utc(d.last_seen),
                    d.kind.counting,
                    show_details(d.example, d.kind.shown, include_payloads),
                ]
                for d in current
            ],
            note="First seen is within the context period read. Example values are masked except those that name "
            "no person; rerun with --include-payloads to see them.",
            personal=True,
        )

    @staticmethod
    def _team_table(current: list[TypeDigest], span: str) -> Table:
        rows = [[d.kind.type, team, count] for d in current for team, count in sorted(d.teams.items())]
        return Table(f"Rows per team, last {span}", ["Type", "Team", "Rows"], rows[:200])
