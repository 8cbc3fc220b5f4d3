"""Where did the events go, on a PostHog that dead-letters to Kafka? The dead letter topic, counted and digested.

Since 2025 PostHog's ingestion sends the events it gives up on to `events_plugin_ingestion_dlq` (with
KAFKA_PREFIX) instead of ClickHouse's `events_dead_letter_queue`, and nothing reads that topic back into
ClickHouse: the client got its 200, the event is gone unless someone replays the topic. The check counts
the messages of the last hour, 24 h and 7 days from offsets (no scan), reads the newest few (assigned
partitions, no group, no commit, bounded) and digests them by `dlq_step` and `dlq_reason` with the same
cause catalogue as the ClickHouse DLQ check; payloads are masked like its examples.
"""

from __future__ import annotations

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    Evidence,
    Item,
    Option,
    Outcome,
    Query,
    Table,
    Values,
    fail,
    ok,
    units,
    warn,
)

from ..common import docs
from ..common.dead_letters import advice_per_cause, show_payload, show_value
from ..common.kafka_dlq import DeadLetterTopic, dead_letter_topic
from ._digest import DeadLetterCause, dead_lettered_at, digest, event_data

REQUESTS = (
    Query(
        "kafka",
        "dlq_counts",
        "Metadata of the dead letter topic; ListOffsets earliest, latest, and at 1 h, 24 h, 7 d ago",
    ),
    Query(
        "kafka",
        "dlq_newest",
        "Fetch the newest max_messages messages by assigned partitions (no group id, no commit), at most max_bytes",
    ),
)
MAX_CAUSES_SHOWN = 50
CAUSES_WITH_EXAMPLES = 5

STORY = Advice(
    "This PostHog dead-letters to Kafka: the events above returned 200 to the client, failed in the "
    "ingestion pipeline, and were written to the dead letter topic instead of ClickHouse. Nothing ingests "
    "them again. ClickHouse's events_dead_letter_queue stays empty on these versions, so an empty ClickHouse "
    "DLQ proves nothing here: this topic is where they are.",
    links=[docs.INGESTION_LAG, docs.TROUBLESHOOTING],
)


class DeadLetterTopicCheck(Check):
    """The Kafka dead letter topic (`events_plugin_ingestion_dlq`, 2025+): messages in the last hour, 24 h and
    7 days from offsets, and a digest of the newest ones by `dlq_step` and `dlq_reason` with counts, masked
    examples and advice from the same cause catalogue as the ClickHouse DLQ."""

    id = "kafka.dead_letter_topic"
    title = "Kafka dead letter topic: events the ingestion pipeline gave up on"
    needs = ("kafka",)
    tags = ("kafka", "ingestion", "dlq", "data-loss")
    category = "Data integrity"
    timeout = 30.0
    options = {
        "max_messages": Option(200, "digest at most this many of the newest messages"),
        "max_bytes": Option(4_000_000, "read at most about this many bytes of messages"),
        "value_bytes": Option(8_000, "keep at most this many bytes of each message for the masked examples"),
    }
    queries = REQUESTS

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        counts = dead_letter_topic(ctx)
        metrics = {
            "dlq_topic_last_hour": counts.last_hour,
            "dlq_topic_last_day": counts.last_day,
            "dlq_topic_last_week": counts.last_week,
            "dlq_topic_retained": counts.retained,
        }
        if not counts.exists:
            return ok(
                f"no dead letter topic {counts.topic} on the broker: nothing has been dead-lettered to Kafka "
                "(PostHog creates the topic with the first one), or this PostHog still dead-letters to "
                "ClickHouse (before 2025)",
                evidence=[_overview(counts, 0, "")],
                metrics=metrics,
            )
        tail = ctx.kafka.tail(
            counts.topic, int(o["max_messages"]), int(o["max_bytes"]), value_bytes=int(o["value_bytes"])
        )
        causes = digest(tail.messages)
        metrics["dlq_topic_causes"] = len(causes)
        partial = tail.partial_reason if tail.partial and len(tail.messages) < counts.retained else ""
        evidence: list[Evidence] = [_overview(counts, len(tail.messages), partial)]
        if causes:
            evidence.append(_cause_table(causes, len(tail.messages)))
            evidence.append(_example_table(causes[:CAUSES_WITH_EXAMPLES], ctx.include_payloads))
        if counts.last_day == 0:
            week = f"; {counts.last_week:,} in the last 7 days" if counts.last_week else ""
            kept = f", {counts.retained:,} older messages kept" if counts.retained and not counts.last_week else ""
            return ok(
                f"no event was dead-lettered to Kafka ({counts.topic}) in the last 24 h{week}{kept}",
                evidence=evidence,
                metrics=metrics,
                advice=[STORY] if counts.last_week else [],
            )
        top = causes[0] if causes else None
        summary = (
            f"{counts.last_day:,} events were dead-lettered to Kafka ({counts.topic}) in the last 24 h "
            f"({counts.last_hour:,} in the last hour, {counts.last_week:,} in 7 days): the ingestion pipeline gave "
            "up on them and they will not reach ClickHouse"
        )
        if top is not None:
            summary += (
                f'; newest cause: step {top.step}, "{top.reason[:80]}" ({top.count} of the {len(tail.messages)} newest)'
            )
        verdict = fail if counts.last_hour else warn
        return verdict(summary, evidence=evidence, advice=_advice(causes), metrics=metrics, partial=bool(partial))


def _overview(counts: DeadLetterTopic, read: int, partial: str) -> Values:
    return Values(
        "Dead letter topic",
        [
            Item("Topic", counts.topic, "topic"),
            Item("Partitions", counts.partitions, "partitions"),
            Item("Messages dead-lettered, last hour", counts.last_hour, "last_hour"),
            Item("Messages dead-lettered, last 24 h", counts.last_day, "last_day"),
            Item("Messages dead-lettered, last 7 days", counts.last_week, "last_week"),
            Item("Messages kept on the topic", counts.retained, "retained"),
            Item("Newest messages digested", read, "digested"),
        ],
        note="counts from offsets (earliest, latest, first offset after each time); "
        + (f"digest partial: {partial}" if partial else "the digest reads the newest messages only"),
    )


def _cause_table(causes: list[DeadLetterCause], total: int) -> Table:
    rows = [
        [
            c.step,
            c.reason[:300],
            c.count,
            round(100.0 * c.count / total, 1) if total else 0.0,
            units.utc(c.first_seen),
            units.utc(c.last_seen),
            ", ".join(t for t, _ in c.sources.most_common(3)),
            ", ".join(e for e, _ in c.events.most_common(3)),
            len(c.teams),
            c.known.title,
        ]
        for c in causes[:MAX_CAUSES_SHOWN]
    ]
    return Table(
        f"Causes among the {total} newest dead-lettered messages (ids, numbers and quoted values replaced)",
        [
            "Step (dlq_step)",
            "Reason (dlq_reason)",
            "Messages",
            "Share %",
            "First seen",
            "Last seen",
            "From topic",
            "Top events",
            "Teams",
            "Known cause",
        ],
        rows,
        truncated=len(causes) > MAX_CAUSES_SHOWN,
        total_rows=len(causes),
        personal=True,
    )


def _example_table(causes: list[DeadLetterCause], include_payloads: bool) -> Table:
    rows = []
    for number, cause in enumerate(causes, 1):
        for m in cause.examples:
            data = event_data(m.value_head)
            rows.append(
                [
                    number,
                    units.utc(dead_lettered_at(m)),
                    f"{m.partition}/{m.offset}",
                    m.header("event") or "",
                    show_value(m.header("distinct_id") or "", include_payloads),
                    (m.header("dlq_reason") or "")[:300],
                    show_payload(data, len(data.encode()), include_payloads) if data else "",
                    show_payload(m.value_head.decode("utf-8", errors="replace"), m.value_size, include_payloads),
                ]
            )
    note = (
        "payloads as sent (--include-payloads)"
        if include_payloads
        else "values masked, keys kept; rerun with --include-payloads to see them"
    )
    return Table(
        "Recent examples (cause number as in the table's order)",
        ["Cause", "Dead-lettered", "Partition/offset", "Event", "Distinct id", "Reason", "Event data", "Message"],
        rows,
        note=note,
        personal=True,
    )


def _advice(causes: list[DeadLetterCause]) -> list[Advice]:
    advice = advice_per_cause(
        ((c.known, c.count, c.step) for c in causes), lambda n, steps: f"{n:,} of the newest messages; step {steps}"
    )
    return [*advice, STORY]
