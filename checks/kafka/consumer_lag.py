"""Are the ingestion workers and ClickHouse keeping up with Kafka? Consumer lag of every PostHog group.

Every event travels capture -> `events_plugin_ingestion` -> the ingestion workers (group
`events-ingestion-consumer`, or `clickhouse-ingestion` before 2025 and in combined mode) ->
`clickhouse_events_json` -> ClickHouse's Kafka tables (groups `group1`, `group1_recent`) -> `events`. A
group behind is events accepted but not yet queryable; a group that stopped is events piling up until
retention deletes them. The check reads the offsets twice, `sample_seconds` apart, so it can tell a
consumer that is behind but moving (and when it would catch up) from one that has stalled; when every group has
read every message, there is nothing to tell apart, and it does not wait.
"""

from __future__ import annotations

import time

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    Evidence,
    Finding,
    Item,
    Kafka,
    Option,
    Outcome,
    Point,
    Query,
    Series,
    Table,
    Undetermined,
    Values,
    conclude,
    units,
)

from ..common import docs
from ._lag import GroupLag, Sample, Thresholds, apply_sample, group_lags, unread_offsets, verdict
from ._offsets import LADDER, Snapshot, ladder_bracket, refine, say_ago, snapshot

REQUESTS = (
    Query("kafka", "groups", "ListGroups; DescribeGroups; OffsetFetch per group (PostHog's first, at most 50)"),
    Query("kafka", "offsets", "Metadata; ListOffsets earliest and latest, one request per broker for all partitions"),
    Query(
        "kafka", "offsets_by_time", f"ListOffsets by timestamp: {len(LADDER)} ages from 1 min to 7 d, then bisection"
    ),
    Query("kafka", "second_reading", "after sample_seconds: ListOffsets latest and OffsetFetch per group again"),
)
CHARTED_GROUPS = 8
PARTITION_ROWS = 60
# Roles whose lag delays events on their way into ClickHouse; other groups (webhooks, async handlers,
# groups PostHog's source does not name) are reported but never fail the check.
PIPELINE_ROLES = ("ingestion", "ingestion overflow", "ingestion historical", "clickhouse", "clickhouse recent")

INGESTION_ADVICE = Advice(
    "The ingestion workers (plugin server) are behind on events_plugin_ingestion: events accepted by "
    "capture wait in Kafka before they reach ClickHouse. Check that the ingestion pods run and are not "
    "restarting, read their logs, and add replicas (at most one per partition) if they are healthy but slow.",
    commands=[
        "docker compose ps plugins && docker compose logs --tail 200 plugins",
        "kubectl -n posthog get pods -l role=ingestion-events",
        "kubectl -n posthog logs --tail 200 deploy/posthog-plugins",
    ],
    links=[docs.INGESTION_LAG, docs.PLUGIN_SERVER],
)
CLICKHOUSE_ADVICE = Advice(
    "ClickHouse's Kafka tables are behind on clickhouse_events_json: processed events wait in Kafka. Look "
    "for exceptions in system.kafka_consumers (ClickHouse 23.8+) or the ClickHouse log, check that the "
    "materialized view is attached and ClickHouse is not overloaded; the Kafka-engine runbook shows how to "
    "recreate the Kafka table and its view. Never SELECT from a Kafka table: it consumes the messages.",
    commands=["SELECT table, last_exception FROM system.kafka_consumers"],
    links=[docs.KAFKA_ENGINE, docs.INGESTION_LAG],
)
OTHER_ADVICE = Advice(
    "A consumer group beside the event path is behind: it delays what that service does (webhooks, apps, "
    "property definitions), not the events themselves. Check the service that consumes as this group.",
    links=[docs.KAFKA_RUNBOOK],
)
MISSING_ADVICE = Advice(
    "Nothing has ever committed an offset on this topic, so nothing reads it: start the service that should "
    "(the ingestion workers for events_plugin_ingestion, ClickHouse's kafka_events_json table and its "
    "materialized view for clickhouse_events_json), and check that it uses this Kafka and topic prefix.",
    links=[docs.INGESTION_LAG, docs.KAFKA_ENGINE],
)


class ConsumerLag(Check):
    """Consumer lag of every PostHog group on its topics: messages and time behind per partition, growing or
    shrinking across two readings, lag versus stall, and when it would catch up at the current rate."""

    id = "kafka.consumer_lag"
    title = "Kafka consumer lag: are ingestion and ClickHouse keeping up?"
    needs = ("kafka",)
    tags = ("kafka", "ingestion")
    category = "Data integrity"
    timeout = 30.0
    options = {
        "sample_seconds": Option(5.0, "read the offsets again after this many seconds, to see progress and arrivals"),
        "warn_behind": Option("5m", "warn when a group's oldest unread message is older than this"),
        "fail_behind": Option("1h", "fail when a group's oldest unread message is older than this"),
        "stall_behind": Option(
            "1m",
            "a group with no commit between the readings is stalled only once its oldest unread message is "
            "older than this (consumers commit every few seconds)",
        ),
    }
    queries = REQUESTS

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        thresholds = Thresholds(
            *(_duration(o[k], f"{self.id}.{k}") for k in ("warn_behind", "fail_behind", "stall_behind"))
        )
        kafka = ctx.kafka
        snap = snapshot(ctx)
        lags = group_lags(snap, {})
        targets = {k: ladder_bracket(snap.partitions[(k[0], k[1])], k[2]) for k in unread_offsets(lags)}
        brackets = refine(kafka, snap, {k: b for k, b in targets.items() if b is not None})
        lags = group_lags(snap, brackets)
        note = self._second_reading(kafka, snap, lags, float(o["sample_seconds"]))
        findings = self._judge(snap, lags, thresholds)
        evidence: list[Evidence] = [self._overview(snap, lags, note), self._groups_table(lags, thresholds)]
        evidence += self._charts(lags)
        rows = self._partition_table(lags)
        if rows is not None:
            evidence.append(rows)
        metrics: dict[str, float | None] = {}
        for g in lags:
            if g.group.info is not None or g.lag:
                metrics[f"lag_messages.{g.id}"] = g.lag
                metrics[f"lag_seconds.{g.id}"] = round(g.behind_seconds)
        metrics["groups_behind"] = sum(1 for f in findings if f.bad)
        healthy = self._healthy(lags)
        return conclude(findings, healthy, evidence=evidence, metrics=metrics)

    # -- reading --

    @staticmethod
    def _second_reading(kafka: Kafka, snap: Snapshot, lags: list[GroupLag], seconds: float) -> str:
        """Read ends and committed offsets again once `seconds` have passed since the snapshot."""
        if not lags or seconds <= 0:
            return "one reading only (sample_seconds is 0)" if lags else ""
        if not any(g.lag for g in lags):  # nothing unread: no progress to measure, no verdict to change
            return "one reading only: every group had read every message"
        wait = seconds - (time.time() - snap.at)
        room = kafka.deadline.remaining() - 3.0  # leave time for the second reading itself
        if wait > room:
            wait = max(0.0, room)
        if wait > 0:
            time.sleep(wait)
        tps = sorted({(p.topic, p.partition) for g in lags for p in g.partitions})
        ends = {tp: o.offset or 0 for tp, o in kafka.offsets(tps, "latest").items()}
        committed = {g.id: kafka.group_offsets(g.id, g.group.topics) for g in lags}
        interval = time.time() - snap.at
        apply_sample(lags, Sample(interval, ends, committed), snap)
        return f"second reading {interval:.1f} s after the first"

    # -- judging --

    def _judge(self, snap: Snapshot, lags: list[GroupLag], t: Thresholds) -> list[Finding]:
        findings: list[Finding] = []
        for topic in self._unconsumed(snap, lags):
            waiting = sum(p.messages for p in snap.topic_partitions(topic))
            roles = [r for r, tp in snap.catalogue.required_roles.items() if tp == topic]
            names = ", ".join(g.id for g in snap.catalogue.groups if g.role in roles)
            findings.append(
                Finding.fail(
                    f"nothing consumes {topic}: no consumer group has committed an offset there ({names} "
                    f"expected), and it holds {waiting:,} messages",
                    MISSING_ADVICE,
                    key=f"unconsumed:{snap.catalogue.unprefixed(topic)}",
                )
            )
        for g in lags:
            status, said = verdict(g, t)
            pipeline = g.group.info is not None and g.group.info.role in PIPELINE_ROLES
            if status == "fail" and not pipeline:
                status = "warn"
            text = f"{g.id}: {said}"
            if status == "ok":
                findings.append(Finding.ok(text, key=f"group:{g.id}"))
            else:
                build = Finding.fail if status == "fail" else Finding.warn
                findings.append(build(text, _advice_for(g), key=f"group:{g.id}"))
        return findings

    @staticmethod
    def _unconsumed(snap: Snapshot, lags: list[GroupLag]) -> list[str]:
        """Required topics holding messages that no group has committed on."""
        read = {p.topic for g in lags for p in g.partitions}
        out = []
        for topic in dict.fromkeys(snap.catalogue.required_roles.values()):
            parts = snap.topic_partitions(topic)
            if parts and sum(p.messages for p in parts) and topic not in read:
                out.append(topic)
        return out

    @staticmethod
    def _healthy(lags: list[GroupLag]) -> str:
        if not lags:
            return "no consumer group has committed offsets on PostHog's topics yet, and nothing waits to be read"
        parts = [f"{g.id} {g.lag:,} behind" + (f" ({say_ago(g.worst.behind)})" if g.worst else "") for g in lags[:6]]
        more = f" and {len(lags) - 6} more" if len(lags) > 6 else ""
        return f"{len(lags)} consumer group{'s' if len(lags) != 1 else ''} keeping up: {', '.join(parts)}{more}"

    # -- reporting --

    @staticmethod
    def _overview(snap: Snapshot, lags: list[GroupLag], note: str) -> Values:
        return Values(
            "Consumer groups",
            [
                Item("Groups read", len(snap.groups), "groups_read"),
                Item("Groups not read (past the limit)", snap.groups_not_read, "groups_not_read"),
                Item("Groups with offsets on PostHog's topics", len(lags), "groups_with_offsets"),
                Item("Partitions read", len(snap.partitions), "partitions"),
                Item("Topic prefix (KAFKA_PREFIX)", snap.catalogue.prefix or "none", "prefix"),
            ],
            note=note,
        )

    @staticmethod
    def _groups_table(lags: list[GroupLag], t: Thresholds) -> Table:
        rows = []
        for g in lags:
            status, said = verdict(g, t)
            eta = g.catch_up_seconds
            rows.append(
                [
                    g.id,
                    g.group.info.who if g.group.info else "not a group PostHog names",
                    g.group.state,
                    g.group.members,
                    ", ".join(g.group.topics),
                    len(g.partitions),
                    g.lag,
                    say_ago(g.worst.behind) if g.worst else "—",
                    g.trend,
                    None if g.consume_rate is None else round(g.consume_rate, 1),
                    None if g.produce_rate is None else round(g.produce_rate, 1),
                    "—" if eta is None else units.duration(eta),
                    len(g.uncommitted),
                    said.split(":")[0],
                ]
            )
        return Table(
            "Lag per consumer group",
            [
                "Group",
                "Who consumes",
                "State",
                "Members",
                "Topics",
                "Partitions",
                "Messages behind",
                "Oldest unread written",
                "Trend",
                "Read/s",
                "Arriving/s",
                "Catch-up",
                "Partitions never committed",
                "Verdict",
            ],
            rows,
            note="Read/s and Arriving/s are measured between the two readings; Catch-up at those rates.",
        )

    @staticmethod
    def _charts(lags: list[GroupLag]) -> list[Series]:
        ranked = sorted(lags, key=lambda g: (g.group.info is None, -g.lag, g.id))[:CHARTED_GROUPS]
        return [
            Series(f"Lag per partition: {g.id}", [Point(p.label, p.lag) for p in g.partitions], unit="messages")
            for g in ranked
            if g.partitions
        ]

    @staticmethod
    def _partition_table(lags: list[GroupLag]) -> Table | None:
        rows = sorted(
            ((g, p) for g in lags for p in g.partitions if p.lag), key=lambda gp: (-(gp[1].lag), gp[0].id, gp[1].label)
        )
        if not rows:
            return None
        return Table(
            "Partitions behind (most behind first)",
            ["Group", "Topic", "Partition", "Committed", "End", "Messages behind", "Oldest unread written"],
            [
                [g.id, p.topic, p.partition, p.committed, p.end, p.lag, say_ago(p.behind)]
                for g, p in rows[:PARTITION_ROWS]
            ],
            truncated=len(rows) > PARTITION_ROWS,
            total_rows=len(rows),
        )


def _advice_for(g: GroupLag) -> Advice:
    role = g.group.info.role if g.group.info else ""
    if role.startswith("ingestion"):
        return INGESTION_ADVICE
    if role.startswith("clickhouse"):
        return CLICKHOUSE_ADVICE
    return OTHER_ADVICE


def _duration(text: str, option: str) -> int:
    try:
        return units.parse_duration(text)
    except ValueError as exc:
        raise Undetermined(f"option {option}: {exc}") from None
