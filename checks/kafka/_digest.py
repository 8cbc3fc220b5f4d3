"""The newest messages of the dead letter topic, digested: one row per cause (step + normalised reason).

PostHog's `sendMessageToDLQ` (nodejs/src/worker/ingestion/pipeline-helpers.ts @ b3cd2b3) writes the
original capture message unchanged and adds the headers `dlq_reason` (the error's message), `dlq_step`
(the pipeline step), `dlq_timestamp` (ISO time), `dlq_topic`, `dlq_partition` and `dlq_offset` (where the
message came from); capture's own headers (`token`, `distinct_id`, `event`, `uuid`, ...) are copied along.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from posthog_doctor.check import KafkaMessage, units

from ..common.dead_letters import CAUSES, Cause, cause_of, kafka_location, normalise_reason

EXAMPLES_PER_CAUSE = 2
NO_REASON = "(no dlq_reason header)"


@dataclass
class DeadLetterCause:
    step: str
    reason: str  # normalised
    known: Cause
    count: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    sources: Counter = field(default_factory=Counter)
    events: Counter = field(default_factory=Counter)
    teams: set[str] = field(default_factory=set)
    examples: list[KafkaMessage] = field(default_factory=list)

    @property
    def location(self) -> str:
        return kafka_location(self.step)


def digest(messages: list[KafkaMessage]) -> list[DeadLetterCause]:
    """Group messages (newest first) by step and normalised reason; most frequent cause first."""
    causes: dict[tuple[str, str], DeadLetterCause] = {}
    for m in messages:
        step = (m.header("dlq_step") or "unknown").strip() or "unknown"
        reason = normalise_reason(m.header("dlq_reason") or NO_REASON)
        cause = causes.get((step, reason))
        if cause is None:
            cause = causes[(step, reason)] = DeadLetterCause(
                step, reason, cause_of(kafka_location(step), reason, CAUSES)
            )
        cause.count += 1
        seen = dead_lettered_at(m)
        if seen is not None:
            cause.first_seen = seen if cause.first_seen is None else min(cause.first_seen, seen)
            cause.last_seen = seen if cause.last_seen is None else max(cause.last_seen, seen)
        cause.sources[m.header("dlq_topic") or "unknown"] += 1
        if m.header("event"):
            cause.events[m.header("event")] += 1
        if m.header("team_id"):
            cause.teams.add(str(m.header("team_id")))
        if len(cause.examples) < EXAMPLES_PER_CAUSE:
            cause.examples.append(m)
    return sorted(causes.values(), key=lambda c: (-c.count, c.step, c.reason))


def dead_lettered_at(m: KafkaMessage) -> float | None:
    """When the pipeline dead-lettered the message: its dlq_timestamp header, else the message's time."""
    stamp = units.parse_timestamp(m.header("dlq_timestamp") or "")
    if stamp is not None:
        return stamp.timestamp()
    return None if m.timestamp is None else m.timestamp / 1000


def event_data(value_head: bytes) -> str:
    """The event inside a capture message (its `data` field is itself JSON text), or '' when it is not there
    or the message was cut before it ended."""
    try:
        outer = json.loads(value_head.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return ""
    data = outer.get("data") if isinstance(outer, dict) else None
    return data if isinstance(data, str) else ""
