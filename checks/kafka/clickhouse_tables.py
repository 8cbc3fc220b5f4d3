"""ClickHouse's side of the hand-over: do its Kafka tables read topics and groups the broker actually has?

Processed events reach ClickHouse through Kafka-engine tables (`kafka_events_json` and its twins) and the
materialized views that read them. Each table's definition names a broker list (or a named collection), a
topic, a consumer group and a format; a topic the broker does not have, a view that is missing, or a
broker list pointing elsewhere means nothing arrives. The definitions come from `system.tables` (reading a
Kafka table itself would consume its messages: never done), the consumer state from
`system.kafka_consumers` where ClickHouse has it (23.8+).
"""

from __future__ import annotations

import time

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    Finding,
    Outcome,
    Query,
    Skip,
    Table,
    conclude,
    units,
)

from ..common import docs
from ..common.kafka_consumers import CONSUMERS, clickhouse_kafka_consumers
from ._engine import KafkaTable, parse_kafka_engine
from ._offsets import Snapshot, snapshot

TABLES = Query.from_file(__file__, "kafka_tables.sql", "clickhouse", "kafka_tables")
SYSTEM_TABLES = Query.from_file(__file__, "kafka_system_tables.sql", "clickhouse", "kafka_system_tables")
COLLECTIONS = Query.from_file(__file__, "kafka_collections.sql", "clickhouse", "kafka_collections")
EVENTS_TOPIC = "clickhouse_events_json"  # the table that carries events (without KAFKA_PREFIX)
RECENT_EXCEPTION_SECONDS = 3600
HIDDEN = ("", "[HIDDEN]")

VIEW_ADVICE = Advice(
    "A Kafka table consumes only while a materialized view reads it. Recreate the missing view with "
    "PostHog's migration (or from a saved definition); the Kafka-engine runbook shows the order. Never "
    "SELECT from the Kafka table itself: it consumes the messages.",
    commands=[
        "SHOW CREATE TABLE kafka_events_json",
        "SELECT name, dependencies_table FROM system.tables WHERE engine = 'Kafka'",
    ],
    links=[docs.KAFKA_ENGINE],
)
TOPIC_ADVICE = Advice(
    "ClickHouse reads a topic the broker does not have: check the topic name in the table's definition "
    "against the broker (KAFKA_PREFIX included), and that ClickHouse's broker list (or its named collection, "
    "`msk_cluster` on newer PostHog, filled from the ClickHouse container's KAFKA_HOSTS) points at this Kafka.",
    links=[docs.KAFKA_ENGINE, docs.ENV_VARS],
)
GROUP_ADVICE = Advice(
    "The group ClickHouse consumes as has never committed on this broker: ClickHouse is not consuming from "
    "it. Look for Kafka errors in the ClickHouse log or system.kafka_consumers, and check that the broker "
    "list ClickHouse uses resolves from the ClickHouse container.",
    links=[docs.KAFKA_ENGINE, docs.INGESTION_LAG],
)
EXCEPTION_ADVICE = Advice(
    "ClickHouse's Kafka consumer reported an error within the last hour: read it below and in the ClickHouse "
    "log (a broker it cannot reach, a message it cannot parse, or a full disk are the usual ones).",
    links=[docs.KAFKA_ENGINE],
)


class ClickHouseKafkaTables(Check):
    """ClickHouse's side of the hand-over: each Kafka-engine table's broker list, topic, group and format read
    from its definition (never from the table), checked against the broker's topics and groups, with the
    consumer state ClickHouse reports where it has one."""

    id = "kafka.clickhouse_tables"
    title = "Kafka -> ClickHouse: the Kafka tables' topics and groups"
    needs = ("clickhouse",)
    uses = ("kafka",)
    tags = ("kafka", "ingestion")  # not "clickhouse": `--only clickhouse` runs the ClickHouse-only checks
    category = "Data integrity"
    timeout = 20.0
    queries = (TABLES, SYSTEM_TABLES, CONSUMERS, COLLECTIONS)

    def run(self, ctx: Context) -> Outcome:
        ch = ctx.clickhouse
        rows = ch.query(TABLES, {"database": ch.database}).dicts()
        if not rows:
            raise Skip(f"no Kafka-engine table in database {ch.database!r}: ClickHouse does not read from Kafka here")
        tables = [parse_kafka_engine(str(r["name"]), str(r["engine_full"]), [str(v) for v in r["views"]]) for r in rows]
        system = {str(r["name"]) for r in ch.query(SYSTEM_TABLES).dicts()}
        collections, collection_note = self._collections(ctx, tables, system)
        consumers, consumer_note = self._consumers(ctx, system)
        snap, kafka_note = self._broker(ctx)
        prefix = snap.catalogue.prefix if snap else ""
        findings = self._judge(tables, snap, consumers, prefix + EVENTS_TOPIC)  # PostHog's DDL names it with the prefix
        evidence = [self._table(tables, collections, snap)]
        if consumers:
            evidence.append(self._consumer_table(consumers))
        notes = [n for n in (kafka_note, collection_note, consumer_note) if n]
        if notes:
            evidence[0].note = "; ".join(notes)
        reading = [t for t in tables if t.views]
        healthy = (
            f"{len(tables)} Kafka table{'s' if len(tables) != 1 else ''}, {len(reading)} read by a materialized view"
            + (", every topic and group found on the broker" if snap else f" (broker not compared: {kafka_note})")
        )
        return conclude(findings, healthy, evidence=evidence, metrics={"kafka_tables": len(tables)})

    # -- reading --

    @staticmethod
    def _broker(ctx: Context) -> tuple[Snapshot | None, str]:
        if not ctx.available("kafka"):
            return None, f"Kafka not compared: {ctx.probe('kafka').summary}"
        try:
            return snapshot(ctx), ""
        except ConnectorError as exc:
            return None, f"Kafka not compared: {exc}"

    @staticmethod
    def _collections(ctx: Context, tables: list[KafkaTable], system: set[str]) -> tuple[dict[str, str], str]:
        names = tuple(sorted({t.collection for t in tables if t.collection}))
        if not names:
            return {}, ""
        if "named_collections" not in system:
            return {}, "this ClickHouse has no system.named_collections: the collections' broker lists are unknown"
        try:
            rows = ctx.clickhouse.query(COLLECTIONS, {"names": names}).dicts()
        except ConnectorError as exc:
            return {}, f"named collections not read: {exc}"
        found = {str(r["name"]): str(r["brokers"] or "") for r in rows}
        hidden = [n for n in names if found.get(n, "") in HIDDEN]
        note = f"broker list of {', '.join(hidden)} not shown to this user" if hidden else ""
        return {n: b for n, b in found.items() if b not in HIDDEN}, note

    @staticmethod
    def _consumers(ctx: Context, system: set[str]) -> tuple[list[dict], str]:
        if "kafka_consumers" not in system:
            version = ctx.probe("clickhouse").version
            return [], f"consumer state needs system.kafka_consumers (ClickHouse 23.8+; this is {version})"
        try:
            return clickhouse_kafka_consumers(ctx), ""
        except ConnectorError as exc:
            return [], f"consumer state not read: {exc}"

    # -- judging --

    @staticmethod
    def _judge(
        tables: list[KafkaTable], snap: Snapshot | None, consumers: list[dict], events_topic: str
    ) -> list[Finding]:
        findings: list[Finding] = []
        for t in tables:
            carries_events = events_topic in t.topics
            if t.unreadable:
                findings.append(Finding.warn(f"{t.name}: {t.unreadable}", key=f"unreadable:{t.name}"))
                continue
            if not t.views:
                build = Finding.fail if carries_events else Finding.warn
                findings.append(
                    build(
                        f"{t.name} has no materialized view reading it: it consumes nothing from {', '.join(t.topics)}",
                        VIEW_ADVICE,
                        key=f"no_view:{t.name}",
                    )
                )
            if snap is None:
                continue
            for topic in t.topics:
                if topic not in snap.broker_topics:
                    build = Finding.fail if carries_events else Finding.warn
                    findings.append(
                        build(
                            f"{t.name} reads topic {topic}, which the broker does not have",
                            TOPIC_ADVICE,
                            key=f"topic_missing:{t.name}:{topic}",
                        )
                    )
                    continue
                waiting = sum(p.messages for p in snap.topic_partitions(topic))
                group = snap.groups.get(t.group)
                committed = bool(group and any(tp[0] == topic for tp in group.committed))
                if t.views and waiting and not committed:
                    findings.append(
                        Finding.warn(
                            f"{t.name} consumes {topic} as group {t.group}, which has never committed an offset "
                            f"there ({waiting:,} messages on the topic)",
                            GROUP_ADVICE,
                            key=f"group_missing:{t.name}",
                        )
                    )
        now = time.time()
        for c in consumers:
            at = int(c.get("last_exception_at") or 0)
            if c.get("exceptions") and now - at < RECENT_EXCEPTION_SECONDS:
                findings.append(
                    Finding.warn(
                        f"{c['table']}'s Kafka consumer reported an error {units.duration(now - at)} ago: "
                        f"{str(c.get('last_exception') or '')[:200]}",
                        EXCEPTION_ADVICE,
                        key=f"consumer_exception:{c['table']}",
                    )
                )
        return findings

    # -- reporting --

    @staticmethod
    def _table(tables: list[KafkaTable], collections: dict[str, str], snap: Snapshot | None) -> Table:
        rows = []
        for t in tables:
            brokers = ", ".join(t.brokers) or (
                f"{t.collection}: {collections[t.collection]}"
                if t.collection in collections
                else f"named collection {t.collection}"
                if t.collection
                else "—"
            )
            on_broker, behind = "not compared", None
            if snap is not None:
                on_broker = ", ".join("yes" if topic in snap.broker_topics else "no" for topic in t.topics) or "—"
                group = snap.groups.get(t.group)
                if group is not None:
                    behind = sum(
                        max(0, snap.partitions[tp].end - max(c, snap.partitions[tp].earliest))
                        for tp, c in group.committed.items()
                        if tp[0] in t.topics and tp in snap.partitions
                    )
            rows.append(
                [
                    t.name,
                    brokers,
                    ", ".join(t.topics),
                    t.group,
                    t.format,
                    ", ".join(t.views) or "none",
                    on_broker,
                    "—" if snap is None else ("yes" if t.group in snap.groups else "no"),
                    behind,
                ]
            )
        return Table(
            "ClickHouse's Kafka tables (from their definitions)",
            [
                "Table",
                "Brokers",
                "Topics",
                "Group",
                "Format",
                "Read by",
                "Topic on the broker",
                "Group on the broker",
                "Messages behind",
            ],
            rows,
        )

    @staticmethod
    def _consumer_table(consumers: list[dict]) -> Table:
        return Table(
            "ClickHouse's Kafka consumers (system.kafka_consumers)",
            [
                "Table",
                "Consumer",
                "Partitions assigned",
                "Last poll",
                "Last commit",
                "Messages read",
                "In use",
                "Exceptions",
                "Last exception",
            ],
            [
                [
                    c["table"],
                    c["consumer_id"],
                    c["assigned_partitions"],
                    units.utc(c["last_poll"]),
                    units.utc(c["last_commit"]),
                    c["messages_read"],
                    "yes" if c["in_use"] else "no",
                    c["exceptions"],
                    str(c.get("last_exception") or "")[:300],
                ]
                for c in consumers
            ],
        )
