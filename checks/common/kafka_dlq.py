"""The Kafka dead letter topic's counts, read once per run and shared by every check that tells the DLQ story.

Since 2025 PostHog's ingestion sends the events it gives up on to the Kafka topic
`events_plugin_ingestion_dlq` (with KAFKA_PREFIX), not to ClickHouse's `events_dead_letter_queue`
(nodejs/src/ingestion/pipelines/result-handling-pipeline.ts @ b4ed316, sendMessageToDLQ in
nodejs/src/worker/ingestion/pipeline-helpers.ts @ b3cd2b3). No ClickHouse table consumes that topic.

Any check may read the counts: declare `uses = ("kafka",)` (or needs), and when `ctx.available("kafka")`,
call `dead_letter_topic(ctx)`. The first caller reads them (ListOffsets earliest, latest and by time: no
message is read), every later one gets the same `DeadLetterTopic`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from posthog_doctor.check import Context, Kafka, units

from .kafka_catalogue import catalogue

SHARED_KEY = "kafka.dlq_topic"
WINDOWS = {"last_hour": units.HOUR, "last_day": units.DAY, "last_week": units.WEEK}


@dataclass(frozen=True)
class DeadLetterTopic:
    """Messages on the dead letter topic: retained now, and written in the last hour, 24 h and 7 days."""

    topic: str
    exists: bool
    partitions: int = 0
    retained: int = 0  # messages on the topic now (end minus earliest offset, summed over partitions)
    last_hour: int = 0
    last_day: int = 0
    last_week: int = 0
    read_at: float = 0.0  # Unix time of the reading (the doctor's clock)

    @property
    def any_recent(self) -> bool:
        return self.last_week > 0


def dead_letter_topic(ctx: Context) -> DeadLetterTopic:
    """The dead letter topic's counts for this run (computed by the first check that asks)."""
    kafka = ctx.kafka
    return ctx.shared(SHARED_KEY, lambda: read_dead_letter_topic(kafka))


def read_dead_letter_topic(kafka: Kafka, now: float | None = None) -> DeadLetterTopic:
    """Count the dead letter topic's messages by offsets: earliest, latest, and the first offset at or after
    an hour, a day and a week ago, for every partition in one batched request each."""
    topic = catalogue(kafka.prefix).dead_letter_topic
    now = time.time() if now is None else now
    found = kafka.topics([topic])
    if not found or found[0].error == "unknown topic":
        return DeadLetterTopic(topic, False, read_at=now)
    tps = [(topic, p.id) for p in found[0].partitions]
    earliest = kafka.offsets(tps, "earliest")
    latest = kafka.offsets(tps, "latest")
    ends = {tp: latest[tp].offset or 0 for tp in tps}
    starts = {tp: min(earliest[tp].offset or 0, ends[tp]) for tp in tps}
    counts = {}
    for name, seconds in WINDOWS.items():
        since = kafka.offsets(tps, int((now - seconds) * 1000))
        counts[name] = sum(max(0, ends[tp] - max(starts[tp], _or(since[tp].offset, ends[tp]))) for tp in tps)
    return DeadLetterTopic(
        topic,
        True,
        len(tps),
        sum(ends[tp] - starts[tp] for tp in tps),
        counts["last_hour"],
        counts["last_day"],
        counts["last_week"],
        now,
    )


def _or(offset: int | None, default: int) -> int:
    return default if offset is None else offset
