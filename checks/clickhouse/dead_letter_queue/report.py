"""What the DLQ check shows: the overview, the causes, hourly charts, masked examples, where failed events go,
and the advice per known cause."""

from __future__ import annotations

from posthog_doctor.check import Advice, Item, Point, Series, Table, Values, units

from ...common.dead_letters import advice_per_cause
from ...common.payload import detail_value, show_details, show_payload, show_value
from .._common import HOUR, as_int, hour_label, pct
from .generation import Generation
from .rows import CauseRow, Totals

WARNING_KEYS_SHOWN = ("step", "error", "event")  # pipeline_step_dlq details that name no person


def overview(
    totals: Totals, kafka_only: Totals, share: dict, causes: int, window: int, context: int, partial: str, gen
) -> Values:
    items = [
        Item(f"Events in the DLQ, last {units.duration(window)}", totals.window, "window_events"),
        Item("Events in the DLQ, last 24 h", totals.day, "day_events"),
        Item("Events in the DLQ, last hour", totals.hour, "hour_events"),
        Item(f"Events in the DLQ, last {units.duration(context)}", totals.context, "context_events"),
        Item(
            f"Of them dead-lettered to Kafka (pipeline_step_dlq warnings only), last {units.duration(window)}",
            kafka_only.window,
            "kafka_window_events",
        ),
        Item(
            "Rows without an error time (PostHog 1.30-1.31 capture), counted by arrival",
            totals.untimed,
            "untimed_events",
        ),
        Item("Causes in the window", causes, "causes"),
        Item("Events ingested, last 24 h", share.get("events"), "events_last_day"),
        Item("DLQ share of the last 24 h (%)", share.get("share"), "dlq_share_pct"),
        Item("Where this PostHog dead-letters", gen.destination, "destination"),
    ]
    notes = [n for n in (share.get("note"), f"partial: {partial}" if partial else "") if n]
    return Values("Dead letter queue", items, note="; ".join(notes))


def generation_table(gen: Generation, notes: list[str]) -> Table:
    return Table(
        "Where failed events go: the signals read",
        ["Signal", "Seen", "Points to"],
        gen.signals,
        note="; ".join(
            [
                "Since 2025 PostHog dead-letters to the Kafka topic events_plugin_ingestion_dlq and ClickHouse keeps "
                "one pipeline_step_dlq ingestion warning per event (none for an event without a team id header)",
                *notes,
            ]
        ),
    )


def cause_table(causes: list[CauseRow], total: int, span: str) -> Table:
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
            c.source + (" (also in the table)" if c.in_table else ""),
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
            "Recorded in",
            "Known cause",
        ],
        rows,
        note="First seen is within the context period read. Warning causes are located as pipeline_step_dlq:<step>.",
        personal=True,
    )


def hourly(causes: list[CauseRow], now: int, context: int, title: str, counted: dict[int, int] | None = None) -> Series:
    """Events per hour of `causes` over the context period, plus `counted` (hour -> events counted elsewhere)."""
    last = now - now % HOUR
    hours = range(last - (context // HOUR) * HOUR, last + 1, HOUR)
    counts = {h: sum(c.per_hour.get(h, 0) for c in causes) + (counted or {}).get(h, 0) for h in hours}
    return Series(
        f"DLQ events per hour: {title}",
        [Point(hour_label(h), counts[h]) for h in hours],
        unit="events",
        note="hours in UTC",
    )


def example_table(causes: list[CauseRow], examples: dict, include_payloads: bool) -> Table:
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
        for w in cause.warning_examples:
            rows.append(
                [
                    number,
                    units.utc(w.at),
                    w.team_id,
                    detail_value(w.details, "event"),
                    show_value(detail_value(w.details, "distinctId"), include_payloads),
                    detail_value(w.details, "error")[:300],
                    show_details(w.details, WARNING_KEYS_SHOWN, include_payloads),
                    "in the Kafka topic events_plugin_ingestion_dlq (not in ClickHouse)",
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
        note=note + "; for warning causes, Properties shows the warning's details",
        personal=True,
    )  # customer data: IPs and personal values pseudonymised


def earlier_table(causes: list[CauseRow], context: int) -> Table:
    return Table(
        f"Causes seen earlier in the last {units.duration(context)}, not in the window",
        ["Error location", "Error", "Events", "First seen", "Last seen"],
        [[c.location, c.message[:300], c.context, units.utc(c.first_seen), units.utc(c.last_seen)] for c in causes],
        personal=True,
    )


def advice(causes: list[CauseRow], share: dict, fail_share_pct: float, gen: Generation) -> list[Advice]:
    given = advice_per_cause(
        ((c.known, c.window, c.location) for c in causes), lambda n, where: f"{n:,} events; {where}"
    )
    if share.get("share", 0.0) >= fail_share_pct:
        given.insert(
            0,
            Advice(
                f"The DLQ holds {share['share']:g}% of the last 24 hours' events; PostHog's "
                f"System Status page turns red at {fail_share_pct:g}%. Fix the largest "
                "cause first."
            ),
        )
    if gen.writes_kafka:
        given.append(kafka_advice())
    given.append(
        Advice(
            "Events in the dead letter queue are not ingested again by PostHog: once the cause "
            "is fixed, only new events arrive."
        )
    )
    return given


def kafka_advice() -> Advice:
    return Advice(
        "This PostHog dead-letters to the Kafka topic events_plugin_ingestion_dlq: the events themselves are "
        "there (raw, with the reason in the dlq_reason and dlq_step headers), for as long as the topic keeps them. "
        "ClickHouse only counts them through pipeline_step_dlq ingestion warnings, which are not written for "
        "events without a team id.",
        links=["https://posthog.com/docs/runbook/services/plugin-server"],
    )
