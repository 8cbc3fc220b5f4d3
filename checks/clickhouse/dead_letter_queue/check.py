"""The clickhouse.dead_letter_queue check: the digest query, the totals, the examples, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    Evidence,
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

from .._common import HOUR, as_int, hour_label, parse_window, partial_note, pct, tables
from .._ingest_profile import QUERIES as PROFILE_QUERIES
from .._ingest_profile import ingest_profile
from .causes import CAUSES, Cause, cause_of
from .payload import show_payload, show_value

DIGEST = Query.from_file(__file__, "digest.sql", "clickhouse", "dlq_digest")
TOTALS = Query.from_file(__file__, "totals.sql", "clickhouse", "dlq_totals")
EXAMPLES = Query.from_file(__file__, "examples.sql", "clickhouse", "dlq_examples")
DLQ_TABLE = "events_dead_letter_queue"
NO_ID = "00000000-0000-0000-0000-000000000000"  # argMaxIf over no rows
MAX_DIGEST_ROWS = 1000  # causes the digest returns at most (more are counted by a second pass)
CAUSES_WITH_EXAMPLES = 5
CAUSES_CHARTED = 3
MAX_PAYLOAD_BYTES = 16_000


@dataclass
class CauseRow:
    """One digest row: every event of one error location with one normalised message."""

    location: str
    message: str
    window: int
    context: int
    day: int
    hour: int
    first_seen: int
    last_seen: int
    teams: int
    top_events: list[str]
    per_hour: dict[int, int]
    example_ids: list[str]
    known: Cause = field(default=CAUSES[-1])

    @classmethod
    def from_row(cls, row: dict) -> CauseRow:
        hours, counts = row["per_hour"]
        ids = [str(row[f"example_{i}"]) for i in (1, 2, 3)]
        location, message = str(row["location"]), str(row["cause"])
        return cls(
            location,
            message,
            as_int(row["window_events"]),
            as_int(row["context_events"]),
            as_int(row["day_events"]),
            as_int(row["hour_events"]),
            as_int(row["first_seen"]),
            as_int(row["last_seen"]),
            as_int(row["teams"]),
            [str(e) for e in row["top_events"]],
            {as_int(h): as_int(c) for h, c in zip(hours, counts, strict=True)},
            [i for i in dict.fromkeys(ids) if i and i != NO_ID],
            cause_of(location, message, CAUSES),
        )

    @property
    def still_happening(self) -> bool:
        return self.hour > 0


@dataclass
class Totals:
    window: int
    context: int
    day: int
    hour: int


class DeadLetterQueue(Check):
    """Digest of the dead letter queue: each cause of dropped events with its count, first and last seen,
    teams, hourly trend, masked examples and advice; plus the DLQ's share of the last 24 hours' events."""

    id = "clickhouse.dead_letter_queue"
    title = "Dead letter queue: events that returned 200 but never showed up"
    needs = ("clickhouse",)
    tags = ("clickhouse", "ingestion", "dlq", "data-loss")
    category = "Data integrity"
    timeout = 30.0
    options = {
        "window": Option("24h", "digest the DLQ rows of this last period (e.g. 24h, 90m, 7d)"),
        "context": Option("7d", "also read this much history, for first seen and the hourly chart"),
        "fail_share_pct": Option(
            20.0,
            "fail when the DLQ holds this share of the last 24 h's events (PostHog's System Status turns red at 20%)",
        ),
        "max_causes": Option(100, "list at most this many causes"),
        "max_rows_to_read": Option(
            10_000_000, "read budget of the DLQ scan, in rows (about 10 s of normalising error messages on one core)"
        ),
        "max_bytes_to_read": Option(5_000_000_000, "read budget of the DLQ scan, in bytes"),
        "events_max_rows_to_read": Option(300_000_000, "read budget of the scan of recent events (DLQ share)"),
    }
    queries = (DIGEST, TOTALS, EXAMPLES, *PROFILE_QUERIES)

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        window = parse_window(o["window"], f"{self.id}.window")
        context = max(parse_window(o["context"], f"{self.id}.context"), window)
        present = tables(ctx)
        if DLQ_TABLE not in present:
            raise Skip(
                f"this PostHog has no {DLQ_TABLE} table in database {ctx.clickhouse.database!r} "
                "(a PostHog older than the DLQ, or a newer one without it): nothing to digest"
            )
        max_causes = int(o["max_causes"])
        params = {
            "window_seconds": window,
            "context_seconds": context,
            "scan_seconds": context + HOUR,  # Kafka time trails the error time by seconds; an hour is safe
            "max_rows": max(max_causes, MAX_DIGEST_ROWS),
        }
        budget = {"max_rows_to_read": o["max_rows_to_read"], "max_bytes_to_read": o["max_bytes_to_read"]}
        digest = ctx.clickhouse.query(DIGEST, params, **budget)
        every = [CauseRow.from_row(r) for r in digest.dicts()]
        totals, totals_result = self._totals(ctx, every, params, budget)
        now = max((as_int(r["server_now"]) for r in digest.dicts()), default=0)
        share = self._share(ctx, present, totals.day, o["events_max_rows_to_read"])
        causes = every[:max_causes]
        examples = self._examples(ctx, causes[:CAUSES_WITH_EXAMPLES])
        partial = partial_note((digest, totals_result))
        return self._verdict(ctx, causes, every, totals, share, examples, window, context, now, partial)

    # -- reading --

    @staticmethod
    def _totals(ctx: Context, causes: list[CauseRow], params: dict, budget: dict):
        """Totals from every cause the digest returned; a second pass only when there were too many to return."""
        if len(causes) < params["max_rows"]:
            return Totals(*(sum(getattr(c, f) for c in causes) for f in ("window", "context", "day", "hour"))), None
        result = ctx.clickhouse.query(TOTALS, params, **budget)
        row = result.first() or {}
        return Totals(*(as_int(row.get(f"{f}_events")) for f in ("window", "context", "day", "hour"))), result

    @staticmethod
    def _share(ctx: Context, present, dlq_day: int, max_rows: int) -> dict:
        """The DLQ's share of the last 24 hours, as PostHog's System Status computes it."""
        if "events" not in present:
            return {"note": "no events table: the DLQ's share of ingestion is unknown"}
        try:
            profile = ingest_profile(ctx, max_rows)
        except ConnectorError as exc:
            return {"note": f"the DLQ's share of ingestion is unknown: {exc}"}
        return {
            "events": profile.last_day,
            "share": pct(dlq_day, dlq_day + profile.last_day),
            "note": f"events scan partial: {profile.partial_reason}" if profile.partial_reason else "",
        }

    @staticmethod
    def _examples(ctx: Context, causes: list[CauseRow]) -> dict[str, dict]:
        ids = [i for c in causes for i in c.example_ids]
        if not ids:
            return {}
        result = ctx.clickhouse.query(
            EXAMPLES, {"ids": tuple(ids), "max_payload_bytes": MAX_PAYLOAD_BYTES}, max_rows_to_read=1_000_000
        )
        return {str(r["example_id"]): r for r in result.dicts()}

    # -- reporting --

    def _verdict(
        self, ctx: Context, causes, every, totals: Totals, share: dict, examples, window, context, now, partial
    ):
        o = ctx.options
        in_window = [c for c in causes if c.window]
        span = units.duration(window)
        at_least = "at least " if partial else ""
        evidence: list[Evidence] = [self._overview(totals, share, len(in_window), window, context, partial)]
        if in_window:
            evidence.append(self._cause_table(in_window, totals.window, span))
            evidence.append(self._hourly(every, now, context, "All causes"))
            evidence += [
                self._hourly([c], now, context, f"Cause {i}: {c.message[:80]}")
                for i, c in enumerate(in_window[:CAUSES_CHARTED], 1)
            ]
            if examples:
                evidence.append(self._example_table(in_window[:CAUSES_WITH_EXAMPLES], examples, ctx.include_payloads))
        earlier = [c for c in causes if not c.window]
        if earlier:
            evidence.append(self._earlier_table(earlier, context))
        cut = f" (partial: {partial})" if partial else ""
        live = [c for c in in_window if c.still_happening]
        metrics = {
            "dlq_events": totals.window,
            "dlq_share_pct": share.get("share"),
            "dlq_causes": len(in_window),
            "dlq_causes_still_happening": len(live),
        }
        if not in_window:
            before = f"; {at_least}{totals.context:,} in the {units.duration(context)} before" if totals.context else ""
            return ok(
                f"no events went to the dead letter queue in the last {span}{before}{cut}",
                evidence=evidence,
                partial=bool(partial),
                metrics=metrics,
            )
        high_share = share.get("share", 0.0) >= o["fail_share_pct"]
        summary = (
            f"{at_least}{totals.window:,} events went to the dead letter queue in the last {span} "
            f"({len(in_window)} cause{'s' if len(in_window) != 1 else ''})"
        )
        if live:
            summary += f'; {len(live)} still happening, e.g. "{live[0].message[:90]}" ({live[0].window:,})'
        if "share" in share:
            summary += f"; {share['share']:g}% of the last 24 h's events"
        verdict = fail if live or high_share else warn
        return verdict(
            summary + cut,
            evidence=evidence,
            advice=self._advice(in_window, share, o),
            partial=bool(partial),
            metrics=metrics,
        )

    @staticmethod
    def _overview(totals: Totals, share: dict, causes: int, window, context, partial) -> Values:
        items = [
            Item(f"Events in the DLQ, last {units.duration(window)}", totals.window, "window_events"),
            Item("Events in the DLQ, last 24 h", totals.day, "day_events"),
            Item("Events in the DLQ, last hour", totals.hour, "hour_events"),
            Item(f"Events in the DLQ, last {units.duration(context)}", totals.context, "context_events"),
            Item("Causes in the window", causes, "causes"),
            Item("Events ingested, last 24 h", share.get("events"), "events_last_day"),
            Item("DLQ share of the last 24 h (%)", share.get("share"), "dlq_share_pct"),
        ]
        notes = [n for n in (share.get("note"), f"partial: {partial}" if partial else "") if n]
        return Values("Dead letter queue", items, note="; ".join(notes))

    @staticmethod
    def _cause_table(causes: list[CauseRow], total: int, span: str) -> Table:
        rows = [
            [
                c.location,
                c.message[:300],
                c.window,
                pct(c.window, total),
                units.utc(c.first_seen),
                units.utc(c.last_seen),
                c.teams,
                "yes" if c.still_happening else "no",
                ", ".join(c.top_events),
                c.known.title,
            ]
            for c in causes
        ]
        return Table(
            f"Causes, last {span} (ids, numbers and quoted values replaced)",
            [
                "Error location",
                "Error",
                "Events",
                "Share %",
                "First seen",
                "Last seen",
                "Teams",
                "Seen in the last hour",
                "Top events",
                "Known cause",
            ],
            rows,
            note="First seen is within the context period read.",
            personal=True,
        )

    @staticmethod
    def _hourly(causes: list[CauseRow], now: int, context: int, title: str) -> Series:
        last = now - now % HOUR
        hours = range(last - (context // HOUR) * HOUR, last + 1, HOUR)
        counts = {h: sum(c.per_hour.get(h, 0) for c in causes) for h in hours}
        return Series(
            f"DLQ events per hour: {title}",
            [Point(hour_label(h), counts[h]) for h in hours],
            unit="events",
            note="hours in UTC",
        )

    @staticmethod
    def _example_table(causes: list[CauseRow], examples: dict, include_payloads: bool) -> Table:
        rows = []
        for number, cause in enumerate(causes, 1):
            for example_id in cause.example_ids:
                r = examples.get(example_id)
                if r is None:
                    continue
                rows.append(
                    [
                        number,
                        units.utc(as_int(r["at"])),
                        as_int(r["team_id"]),
                        r["event"],
                        show_value(r["distinct_id"], include_payloads),
                        str(r["error"])[:300],
                        show_payload(r["properties"], as_int(r["properties_bytes"]), include_payloads),
                        show_payload(r["raw_payload"], as_int(r["raw_payload_bytes"]), include_payloads),
                    ]
                )
        note = (
            "payloads as sent (--include-payloads)"
            if include_payloads
            else "values masked, keys kept; rerun with --include-payloads to see them"
        )
        return Table(
            "Recent examples (cause number as in the charts and the table's order)",
            ["Cause", "Seen", "Team", "Event", "Distinct id", "Error", "Properties", "Raw payload"],
            rows,
            note=note,
            personal=True,
        )  # customer data: IPs and personal values pseudonymised

    @staticmethod
    def _earlier_table(causes: list[CauseRow], context: int) -> Table:
        return Table(
            f"Causes seen earlier in the last {units.duration(context)}, not in the window",
            ["Error location", "Error", "Events", "First seen", "Last seen"],
            [[c.location, c.message[:300], c.context, units.utc(c.first_seen), units.utc(c.last_seen)] for c in causes],
            personal=True,
        )

    @staticmethod
    def _advice(causes: list[CauseRow], share: dict, o) -> list[Advice]:
        advice: list[Advice] = []
        seen: dict[str, list[CauseRow]] = {}
        for c in causes:
            seen.setdefault(c.known.id, []).append(c)
        for group in seen.values():
            known = group[0].known
            count = sum(c.window for c in group)
            where = ", ".join(dict.fromkeys(c.location for c in group))
            advice.append(
                Advice(
                    f"{known.title} ({count:,} events; {where}). {known.explanation} Next: {known.next_step}",
                    links=list(known.docs),
                )
            )
        if share.get("share", 0.0) >= o["fail_share_pct"]:
            advice.insert(
                0,
                Advice(
                    f"The DLQ holds {share['share']:g}% of the last 24 hours' events; PostHog's "
                    f"System Status page turns red at {o['fail_share_pct']:g}%. Fix the largest "
                    "cause first."
                ),
            )
        advice.append(
            Advice(
                "Events in the dead letter queue are not ingested again by PostHog: once the cause "
                "is fixed, only new events arrive."
            )
        )
        return advice
