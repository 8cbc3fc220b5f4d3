"""The clickhouse.dead_letter_queue check: which dead letter queue this PostHog writes, its digest, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass

from posthog_doctor.check import (
    Check,
    ConnectorError,
    Context,
    Evidence,
    Option,
    Outcome,
    Skip,
    fail,
    ok,
    undetermined,
    units,
    warn,
)

from ...common import dead_letter_signals
from ...common.dead_letter_signals import DeadLetterFact
from .._common import HOUR, parse_window, partial_note, pct, tables
from .._ingest_profile import QUERIES as PROFILE_QUERIES
from .._ingest_profile import ingest_profile
from . import reading, report
from .generation import TOPIC, Generation, decide
from .rows import TABLE_SOURCE, CauseRow, Totals

DLQ_TABLE = "events_dead_letter_queue"
WARNINGS_TABLE = "ingestion_warnings"
CAUSES_WITH_EXAMPLES = 5
CAUSES_CHARTED = 3


class DeadLetterQueue(Check):
    """Digest of the dead letter queue: each cause of dropped events with its count, first and last seen,
    teams, hourly trend, masked examples and advice; plus the DLQ's share of the last 24 hours' events. Knows
    which generation it reads: the `events_dead_letter_queue` table, or (PostHog 2025+, which dead-letters to
    the Kafka topic `events_plugin_ingestion_dlq`) the `pipeline_step_dlq` ingestion warnings."""

    id = "clickhouse.dead_letter_queue"
    title = "Dead letter queue: events that returned 200 but never showed up"
    needs = ("clickhouse",)
    uses = dead_letter_signals.COMPONENTS  # facts other checks publish (plugin server /_metrics, the Kafka topic)
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
            10_000_000,
            "digest (normalise the messages of) at most this many DLQ rows, about 10 s on one core; a context "
            "period holding more (a flood) is counted exactly, and its newest rows are digested",
        ),
        "max_bytes_to_read": Option(5_000_000_000, "read budget of the DLQ scans, in bytes"),
        "events_max_rows_to_read": Option(300_000_000, "read budget of the scan of recent events (DLQ share)"),
        "quiet_days": Option(
            14.0, "a DLQ table unwritten this long while events flow hints at a PostHog that dead-letters to Kafka"
        ),
    }
    queries = (*reading.QUERIES, *PROFILE_QUERIES)

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        window = parse_window(o["window"], f"{self.id}.window")
        context = max(parse_window(o["context"], f"{self.id}.context"), window)
        present = tables(ctx)
        has_table, has_warnings = DLQ_TABLE in present, WARNINGS_TABLE in present
        if not has_table and not has_warnings:
            raise Skip(
                f"this PostHog has no {DLQ_TABLE} table in database {ctx.clickhouse.database!r} and no "
                f"{WARNINGS_TABLE} (a PostHog older than the DLQ, or the wrong database): nothing to digest"
            )
        max_causes = int(o["max_causes"])
        params = {
            "window_seconds": window,
            "context_seconds": context,
            "scan_seconds": context + HOUR,  # Kafka time trails the error time by seconds; an hour is safe
            "max_rows": max(max_causes, reading.MAX_DIGEST_ROWS),
        }
        budget = {"max_rows_to_read": o["max_rows_to_read"], "max_bytes_to_read": o["max_bytes_to_read"]}
        table = reading.table_digest(ctx, params, budget) if has_table else reading.Read()
        warned = reading.warnings_digest(ctx, params, budget, dedupe=has_table) if has_warnings else reading.Read()
        footprint = reading.footprint(ctx) if has_table else None
        facts, fact_notes = dead_letter_signals.gather(ctx)
        totals = table.totals + warned.totals
        share, events_last_day = self._share(ctx, present, totals.day, o["events_max_rows_to_read"])
        gen = decide(
            present,
            table_rows_in_context=table.totals.context,
            kafka_only_warnings=warned.totals.context,
            warnings_also_in_table=sum(c.context for c in warned.causes if c.in_table),
            footprint=footprint,
            facts=facts,
            events_flowing=events_last_day > 0,
            quiet_days=float(o["quiet_days"]),
        )
        every = sorted(
            table.causes + [c for c in warned.causes if not c.in_table],
            key=lambda c: (-c.window, -c.context, c.location, c.message),
        )
        causes = every[:max_causes]
        examples = reading.examples(ctx, causes[:CAUSES_WITH_EXAMPLES])
        now = max(table.server_now, warned.server_now, footprint.server_now if footprint else 0)
        # A read budget that stopped a counting scan makes the totals lower bounds; the digest's own limits (a
        # flood's oldest rows left out, or a scan stopped) leave the totals exact and the causes partial.
        counting = table.results[:1] + warned.results
        cut = partial_note(tuple(counting))
        covered = "; ".join(
            n for n in (table.coverage.note(now) if table.coverage else "", partial_note(tuple(table.results[1:]))) if n
        )
        return self._verdict(
            ctx,
            gen,
            facts,
            fact_notes,
            causes,
            every,
            totals,
            warned.totals,
            share,
            examples,
            window,
            context,
            now,
            Partial(cut, covered),
            table.per_hour,
        )

    @staticmethod
    def _share(ctx: Context, present, dlq_day: int, max_rows: int) -> tuple[dict, int]:
        """The DLQ's share of the last 24 hours, as PostHog's System Status computes it; and the events of that day."""
        if "events" not in present:
            return {"note": "no events table: the DLQ's share of ingestion is unknown"}, 0
        try:
            profile = ingest_profile(ctx, max_rows)
        except ConnectorError as exc:
            return {"note": f"the DLQ's share of ingestion is unknown: {exc}"}, 0
        share = {
            "events": profile.last_day,
            "share": pct(dlq_day, dlq_day + profile.last_day),
            "note": f"events scan partial: {profile.partial_reason}" if profile.partial_reason else "",
        }
        return share, profile.last_day

    def _verdict(
        self,
        ctx: Context,
        gen: Generation,
        facts: list[DeadLetterFact],
        fact_notes: list[str],
        causes: list[CauseRow],
        every: list[CauseRow],
        totals: Totals,
        kafka_only: Totals,
        share: dict,
        examples: dict,
        window: int,
        context: int,
        now: int,
        cuts: Partial,
        table_per_hour: dict[int, int] | None,
    ) -> Outcome:
        o = ctx.options
        in_window = [c for c in causes if c.window]
        span = units.duration(window)
        partial = cuts.note
        at_least = "at least " if cuts.scan else ""  # the totals count every row unless a scan was cut
        some = "at least " if partial else ""
        evidence: list[Evidence] = [
            report.overview(totals, kafka_only, share, len(in_window), window, context, partial, gen),
            report.generation_table(gen, fact_notes),
        ]
        if in_window:
            evidence.append(report.cause_table(in_window, totals.window, span))
            if table_per_hour is None:
                evidence.append(report.hourly(every, now, context, "All causes"))
            else:  # every table row counted, whether digested or not; plus the warnings' own events
                others = [c for c in every if c.source != TABLE_SOURCE]
                evidence.append(report.hourly(others, now, context, "All causes", table_per_hour))
            evidence += [
                report.hourly([c], now, context, f"Cause {i}: {c.message[:80]}")
                for i, c in enumerate(in_window[:CAUSES_CHARTED], 1)
            ]
            shown = in_window[:CAUSES_WITH_EXAMPLES]
            if examples or any(c.warning_examples for c in shown):
                evidence.append(report.example_table(shown, examples, ctx.include_payloads))
        earlier = [c for c in causes if not c.window]
        if earlier:
            evidence.append(report.earlier_table(earlier, context))
        cut = f" (partial: {partial})" if partial else ""
        live = [c for c in in_window if c.still_happening]
        metrics = {
            "dlq_events": totals.window,
            "dlq_share_pct": share.get("share"),
            "dlq_causes": len(in_window),
            "dlq_causes_still_happening": len(live),
        }
        where = _where(gen)
        if not in_window:
            if gen.writes_kafka and WARNINGS_TABLE not in tables(ctx):
                return undetermined(
                    f"{where}, and this ClickHouse has no {WARNINGS_TABLE} table, so nothing here can show "
                    "dead-lettered events",
                    evidence=evidence,
                    advice=[report.kafka_advice()],
                    metrics=metrics,
                )
            counted = [f for f in facts if f.kafka_topic and f.events]
            if counted:  # the topic itself holds them, though ClickHouse has no trace of them (yet)
                said = "; ".join(f"{f.source}: {f.events:,} {f.detail}" for f in counted)
                return warn(
                    f"{where}; ClickHouse has no pipeline_step_dlq warning for the last {span}, but {said}",
                    evidence=evidence,
                    advice=[report.kafka_advice()],
                    partial=bool(partial),
                    metrics=metrics,
                )
            before = f"; {at_least}{totals.context:,} in the {units.duration(context)} before" if totals.context else ""
            return ok(
                _quiet_summary(gen, where, span) + before + cut,
                evidence=evidence,
                advice=[report.kafka_advice()] if gen.writes_kafka or gen.hint else [],
                partial=bool(partial),
                metrics=metrics,
            )
        high_share = share.get("share", 0.0) >= o["fail_share_pct"]
        plural = "s" if len(in_window) != 1 else ""
        if gen.writes_kafka:
            summary = (
                f"{where}: {at_least}{totals.window:,} events dead-lettered in the last {span} "
                f"({some}{len(in_window)} cause{plural})"
            )
        else:
            summary = (
                f"{at_least}{totals.window:,} events went to the dead letter queue in the last {span} "
                f"({some}{len(in_window)} cause{plural})"
            )
        if live:
            summary += f'; {len(live)} still happening, e.g. "{live[0].message[:90]}" ({live[0].window:,})'
        if "share" in share:
            summary += f"; {share['share']:g}% of the last 24 h's events"
        verdict = fail if live or high_share else warn
        return verdict(
            summary + cut,
            evidence=evidence,
            advice=report.advice(in_window, share, o["fail_share_pct"], gen),
            partial=bool(partial),
            metrics=metrics,
        )


@dataclass(frozen=True)
class Partial:
    """What the report leaves out: a counting scan a read budget stopped (the totals are lower bounds), and rows
    counted but not digested (a flood's oldest, or a digest the budget stopped: the causes cover the rest)."""

    scan: str = ""
    coverage: str = ""

    @property
    def note(self) -> str:
        return "; ".join(n for n in (self.coverage, self.scan) if n)


def _where(gen: Generation) -> str:
    """The opening words when failed events go to Kafka: an empty table proves nothing there (the deciding signal
    is in the evidence)."""
    if not gen.writes_kafka:
        return ""
    also = " (some also to the table)" if gen.kind == "both" else ""
    return f"this PostHog dead-letters to {TOPIC}{also}; an empty events_dead_letter_queue proves nothing"


def _quiet_summary(gen: Generation, where: str, span: str) -> str:
    if gen.writes_kafka:
        return f"{where}, and no pipeline_step_dlq warning (one per dead-lettered event) arrived in the last {span}"
    text = f"no events went to the dead letter queue in the last {span}"
    if gen.kind == "unknown":
        text += ", neither in the table nor as pipeline_step_dlq warnings"
        if gen.hint:
            text += (
                f"; this current-schema PostHog ({gen.hint}) most likely dead-letters to {TOPIC}, where an empty "
                "table proves nothing"
            )
        else:
            text += f" (a 2025+ PostHog dead-letters to {TOPIC}; the warnings are its record)"
    return text
