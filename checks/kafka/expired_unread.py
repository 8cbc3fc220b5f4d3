"""Events lost in Kafka: messages deleted by retention before their consumer group read them.

A group's committed offset below a partition's earliest offset means Kafka deleted the messages in
between (retention by time or size) while the group had not read them. For the ingestion workers these
are events that never reached ClickHouse nor the dead letter queue: arrivals look normal, nothing says
they are gone. The count is exact: earliest offset minus committed offset, per partition.
"""

from __future__ import annotations

from dataclasses import dataclass

from posthog_doctor.check import Advice, Check, Context, Finding, Outcome, Query, Table, conclude

from ..common import docs
from ._offsets import Snapshot, snapshot

REQUESTS = (
    Query("kafka", "groups", "ListGroups; DescribeGroups; OffsetFetch per group (shared with kafka.consumer_lag)"),
    Query("kafka", "offsets", "ListOffsets earliest and latest for the partitions those groups read"),
)
MAX_ROWS = 100

RETENTION_ADVICE = Advice(
    "Kafka deleted these messages before the group read them: they are lost, not delayed, and nothing "
    "reprocesses them. Make retention longer than the longest outage you must survive (retention.ms on the "
    "topic, log.retention.hours on the brokers; PostHog's charts keep a few days) and give the disk the room "
    "it needs, then fix why the consumer fell so far behind (see kafka.consumer_lag).",
    commands=[
        "kafka-configs.sh --bootstrap-server KAFKA:9092 --entity-type topics --entity-name events_plugin_ingestion "
        "--describe",
    ],
    links=[docs.KAFKA_RETENTION, docs.KAFKA_RESIZE_DISK, docs.INGESTION_LAG],
)


@dataclass(frozen=True)
class Expired:
    group: str
    topic: str
    partition: int
    committed: int
    earliest: int

    @property
    def lost(self) -> int:
        return self.earliest - self.committed


def expired_unread(snap: Snapshot) -> list[Expired]:
    """Every (group, partition) whose committed offset is below the partition's earliest offset."""
    found = []
    for group in snap.groups.values():
        for (topic, p), committed in sorted(group.committed.items()):
            part = snap.partitions.get((topic, p))
            if part is not None and committed < part.earliest:
                found.append(Expired(group.id, topic, p, committed, part.earliest))
    return found


def judge(snap: Snapshot) -> Outcome:
    """The verdict on a snapshot's offsets: pure, so it can be proven on offsets a broker cannot produce."""
    expired = expired_unread(snap)
    findings = []
    per_group: dict[str, list[Expired]] = {}
    for e in expired:
        per_group.setdefault(e.group, []).append(e)
    for group, rows in per_group.items():
        lost = sum(e.lost for e in rows)
        topics = ", ".join(dict.fromkeys(e.topic for e in rows))
        info = snap.groups[group].info
        who = f" ({info.who})" if info else ""
        findings.append(
            Finding.fail(
                f"{lost:,} messages expired unread: group {group}{who} had not read them on {topics} "
                f"({len(rows)} partition{'s' if len(rows) != 1 else ''}) when Kafka deleted them",
                RETENTION_ADVICE,
                key=f"expired:{group}",
            )
        )
    evidence = []
    if expired:
        evidence.append(
            Table(
                "Messages deleted before they were read",
                ["Group", "Topic", "Partition", "Committed offset", "Earliest offset", "Messages lost"],
                [[e.group, e.topic, e.partition, e.committed, e.earliest, e.lost] for e in expired[:MAX_ROWS]],
                truncated=len(expired) > MAX_ROWS,
                total_rows=len(expired),
            )
        )
    read = sum(len(g.committed) for g in snap.groups.values())
    metrics = {"expired_unread_messages": sum(e.lost for e in expired)}
    return conclude(
        findings,
        f"no message expired unread: every committed offset ({read} group partitions) is within what Kafka keeps",
        evidence=evidence,
        metrics=metrics,
    )


class ExpiredUnread(Check):
    """Messages Kafka deleted before a consumer group read them (committed offset below the earliest kept):
    events lost without a trace, with the count per group and the retention-versus-lag advice."""

    id = "kafka.expired_unread"
    title = "Kafka: events deleted before they were read"
    needs = ("kafka",)
    tags = ("kafka", "ingestion", "data-loss")
    category = "Data integrity"
    timeout = 20.0
    queries = REQUESTS

    def run(self, ctx: Context) -> Outcome:
        return judge(snapshot(ctx))
