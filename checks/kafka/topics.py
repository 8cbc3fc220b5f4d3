"""Are PostHog's Kafka topics there, served, kept long enough, and is Kafka's disk holding up?

The event path needs `events_plugin_ingestion` and `clickhouse_events_json` (with KAFKA_PREFIX): on an
external cluster with topic auto-creation off, a topic nobody created means every event is refused or
lost. A partition without a leader cannot be written or read. Retention shorter than the consumers' lag
deletes events before they are read (`kafka.expired_unread` counts those already gone); a full disk stops
the broker.
"""

from __future__ import annotations

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    Evidence,
    Finding,
    Item,
    Kafka,
    Option,
    Outcome,
    Query,
    Table,
    Undetermined,
    Values,
    conclude,
    units,
)

from ..common import docs
from ..common.kafka_catalogue import TopicInfo
from ._offsets import Partition, Snapshot, estimate, ladder_bracket, refine, say_ago, snapshot

REQUESTS = (
    Query("kafka", "topics", "Metadata for every topic (auto-creation off): partitions, leaders, in-sync replicas"),
    Query("kafka", "offsets", "ListOffsets earliest, latest and by timestamp (1 min to 7 d) for PostHog's topics"),
    Query("kafka", "configs", "DescribeConfigs of PostHog's topics (retention.ms, retention.bytes, cleanup.policy)"),
    Query("kafka", "log_dirs", "DescribeLogDirs: bytes per partition and each log directory's disk, where offered"),
)

CREATE_ADVICE = Advice(
    "Create the missing topic with the partitions your ingestion workers need (PostHog's charts use 64 for "
    "events_plugin_ingestion), or turn on auto.create.topics.enable. Topic names carry KAFKA_PREFIX when "
    "PostHog runs with one: the doctor must be given the same prefix (kafka://HOST:9092?prefix=..., or KAFKA_PREFIX).",
    commands=[
        "kafka-topics.sh --bootstrap-server KAFKA:9092 --create --topic events_plugin_ingestion --partitions 64 "
        "--replication-factor 1",
        "kafka-topics.sh --bootstrap-server KAFKA:9092 --list",
    ],
    links=[docs.KAFKA_RUNBOOK, docs.ENV_VARS],
)
LEADER_ADVICE = Advice(
    "Partitions without a leader cannot be written or read: a broker holding their only replica is down. "
    "Bring the broker back (its pod, disk and logs), then check that every partition has a leader again.",
    commands=[
        "kubectl -n posthog get pods | grep kafka",
        "kafka-topics.sh --bootstrap-server KAFKA:9092 --describe --unavailable-partitions",
    ],
    links=[docs.KAFKA_RUNBOOK],
)
REPLICA_ADVICE = Advice(
    "Some replicas are not in sync: a broker is down or too slow to copy. Kafka still serves the partitions, "
    "but one more failure would take them offline.",
    commands=["kafka-topics.sh --bootstrap-server KAFKA:9092 --describe --under-replicated-partitions"],
    links=[docs.KAFKA_RUNBOOK],
)
RETENTION_ADVICE = Advice(
    "Retention shorter than the time a consumer is behind deletes events before they are read. Raise the "
    "topic's retention.ms (and the disk with it), and bring the consumer back up to speed (kafka.consumer_lag).",
    commands=[
        "kafka-configs.sh --bootstrap-server KAFKA:9092 --alter --entity-type topics --entity-name "
        "events_plugin_ingestion --add-config retention.ms=604800000",
    ],
    links=[docs.KAFKA_RETENTION, docs.KAFKA_RESIZE_DISK],
)
DISK_ADVICE = Advice(
    "Kafka's disk is filling: a broker that runs out of disk stops, and ingestion with it. Grow the volume "
    "or shorten retention (after checking no consumer is behind).",
    links=[docs.KAFKA_RESIZE_DISK, docs.KAFKA_RETENTION],
)


class KafkaTopics(Check):
    """PostHog's topics (with `KAFKA_PREFIX`): present, partitions and leaders, retention and size where the
    broker reports them, retention against the consumers' lag, and the free disk of each log directory."""

    id = "kafka.topics"
    title = "Kafka topics: present, served and kept long enough"
    needs = ("kafka",)
    tags = ("kafka", "ingestion")
    category = "Deployments/Setup"
    timeout = 20.0
    options = {
        "min_retention": Option("24h", "warn when an event-path topic keeps messages for less than this"),
        "retention_risk_pct": Option(
            50.0, "warn when a group's oldest unread message is older than this share of the topic's retention"
        ),
        "disk_warn_pct": Option(15.0, "warn when a Kafka log directory's disk has less free space than this (%)"),
        "disk_fail_pct": Option(5.0, "fail when a Kafka log directory's disk has less free space than this (%)"),
    }
    queries = REQUESTS

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        try:
            min_retention = units.parse_duration(o["min_retention"])
        except ValueError as exc:
            raise Undetermined(f"option {self.id}.min_retention: {exc}") from None
        kafka = ctx.kafka
        snap = snapshot(ctx)
        present = [t for t in snap.catalogue.topics if snap.topic_partitions(t.name)]
        configs, config_note = _configs(kafka, [t.name for t in present])
        dirs, dirs_note = _log_dirs(kafka)
        sizes = dirs.partition_bytes if dirs is not None else None
        findings: list[Finding] = []
        findings += self._missing(snap)
        findings += self._leaders(snap)
        behind = oldest_unread(kafka, snap) if any(configs.values()) else {}
        findings += self._retention(snap, configs, min_retention, float(o["retention_risk_pct"]), behind)
        if dirs is not None:
            findings += self._disks(dirs.dirs, float(o["disk_warn_pct"]), float(o["disk_fail_pct"]))
        notes = [n for n in (config_note, dirs_note) if n]
        evidence: list[Evidence] = [
            self._topic_table(snap, configs, sizes),
            Values(
                "Kafka",
                [
                    Item("Topics on the broker", len(snap.broker_topics), "broker_topics"),
                    Item("PostHog topics present", len(present), "posthog_topics"),
                    Item("Topic prefix (KAFKA_PREFIX)", snap.catalogue.prefix or "none", "prefix"),
                    Item("Bytes on disk, PostHog topics", _total(sizes, present), "posthog_topic_bytes"),
                ],
                note="; ".join(notes),
            ),
        ]
        if dirs is not None and dirs.dirs:
            evidence.append(_disk_table(dirs.dirs))
        required = [_carrier(snap, t) for t in snap.catalogue.topics if t.required]
        healthy = (
            f"PostHog's topics are there: {', '.join(required)} and {len(present) - len(required)} "
            f"more, every partition led by a broker"
        )
        metrics = {"posthog_topics": len(present), "posthog_topic_bytes": _total(sizes, present)}
        return conclude(findings, healthy, evidence=evidence, metrics=metrics)

    # -- judging --

    @staticmethod
    def _missing(snap: Snapshot) -> list[Finding]:
        out = []
        for t in snap.catalogue.topics:
            if not t.required or snap.topic_partitions(_carrier(snap, t)):
                continue
            hint = _prefix_hint(snap, t.name)
            out.append(
                Finding.fail(
                    f"topic {t.name} is missing ({t.what}){hint}",
                    CREATE_ADVICE,
                    key=f"missing:{snap.catalogue.unprefixed(t.name)}",
                )
            )
        return out

    @staticmethod
    def _leaders(snap: Snapshot) -> list[Finding]:
        out = []
        for topic in snap.topics:
            parts = snap.topic_partitions(topic)
            leaderless = [p.id for p in parts if p.leader is None]
            behind = [p.id for p in parts if p.in_sync < p.replicas]
            if leaderless:
                out.append(
                    Finding.fail(
                        f"{len(leaderless)} of {len(parts)} partitions of {topic} have no leader (offline): "
                        f"{_ids(leaderless)}",
                        LEADER_ADVICE,
                        key=f"leaderless:{topic}",
                    )
                )
            elif behind:
                out.append(
                    Finding.warn(
                        f"{len(behind)} of {len(parts)} partitions of {topic} are under-replicated: {_ids(behind)}",
                        REPLICA_ADVICE,
                        key=f"under_replicated:{topic}",
                    )
                )
        return out

    @staticmethod
    def _retention(
        snap: Snapshot,
        configs: dict[str, dict[str, str]],
        floor: int,
        risk_pct: float,
        behind: dict[str, tuple[str, float]],
    ) -> list[Finding]:
        out = []
        for t in snap.catalogue.topics:
            retention = _retention_seconds(configs.get(t.name, {}))
            if not retention:  # not reported, or unlimited (retention.ms = -1)
                continue
            if t.required and retention < floor:
                out.append(
                    Finding.warn(
                        f"{t.name} keeps messages for only {units.duration(retention)} (less than "
                        f"{units.duration(floor)}): a consumer outage longer than that loses events",
                        RETENTION_ADVICE,
                        key=f"short_retention:{snap.catalogue.unprefixed(t.name)}",
                    )
                )
            worst = behind.get(t.name)
            if worst is not None and worst[1] >= retention * risk_pct / 100:
                group, seconds = worst
                out.append(
                    Finding.warn(
                        f"{group} is at least {units.duration(seconds)} behind on {t.name}, "
                        f"{100 * seconds / retention:.0f}% "
                        f"of its retention ({units.duration(retention)}): unread events will soon be deleted",
                        RETENTION_ADVICE,
                        key=f"retention_risk:{snap.catalogue.unprefixed(t.name)}",
                    )
                )
        return out

    @staticmethod
    def _disks(dirs, warn_pct: float, fail_pct: float) -> list[Finding]:
        out = []
        for d in dirs:
            if d.total_bytes is None or d.usable_bytes is None or d.total_bytes <= 0:
                continue
            free = 100.0 * d.usable_bytes / d.total_bytes
            said = (
                f"broker {d.broker}'s log directory {d.path} has {units.size(d.usable_bytes)} free of "
                f"{units.size(d.total_bytes)} ({free:.1f}%)"
            )
            if free < fail_pct:
                out.append(Finding.fail(said, DISK_ADVICE, key=f"disk:{d.broker}:{d.path}"))
            elif free < warn_pct:
                out.append(Finding.warn(said, DISK_ADVICE, key=f"disk:{d.broker}:{d.path}"))
        return out

    # -- reporting --

    @staticmethod
    def _topic_table(snap: Snapshot, configs: dict[str, dict[str, str]], sizes) -> Table:
        rows: list[list] = []
        for t in snap.catalogue.topics:
            parts = snap.topic_partitions(t.name)
            if not parts:
                carrier = _carrier(snap, t)
                state = f"missing ({carrier} instead)" if carrier != t.name else "missing"
                rows.append([t.name, "yes" if t.required else "no", t.what, state, None, None, "—", "—", "—", None])
                continue
            conf = configs.get(t.name, {})
            retention = _retention_seconds(conf)
            oldest = _oldest(parts)
            rows.append(
                [
                    t.name,
                    "yes" if t.required else "no",
                    t.what,
                    "present",
                    len(parts),
                    sum(p.messages for p in parts),
                    say_ago(oldest) if sum(p.messages for p in parts) else "—",
                    "unlimited" if retention == 0 else (units.duration(retention) if retention else "not reported"),
                    _hourly(parts),
                    None if sizes is None else sum(sizes.get((p.topic, p.id), 0) for p in parts),
                ]
            )
        return Table(
            "PostHog's topics",
            [
                "Topic",
                "Event path",
                "Carries",
                "State",
                "Partitions",
                "Messages kept",
                "Oldest message written",
                "Retention",
                "Written in the last hour",
                "Bytes on disk",
            ],
            rows,
        )


def _configs(kafka: Kafka, topics: list[str]) -> tuple[dict[str, dict[str, str]], str]:
    if not topics:
        return {}, ""
    try:
        found = kafka.topic_configs(topics)
    except ConnectorError as exc:
        return {}, f"topic configs not read: {exc}"
    if not any(found.values()):
        return found, "the broker reported no topic configs (retention unknown)"
    return found, ""


def _log_dirs(kafka: Kafka):
    try:
        found = kafka.log_dirs()
    except ConnectorError as exc:
        return None, f"log dirs not read: {exc}"
    if found is None:
        return None, "the broker does not offer DescribeLogDirs: sizes on disk unknown"
    return found, ""


def _retention_seconds(conf: dict[str, str]) -> int | None:
    """retention.ms in seconds; 0 for unlimited (-1); None when not reported."""
    raw = conf.get("retention.ms")
    try:
        value = int(raw) if raw not in (None, "") else None
    except ValueError:
        return None
    if value is None:
        return None
    return 0 if value < 0 else value // 1000


def oldest_unread(kafka: Kafka, snap: Snapshot) -> dict[str, tuple[str, float]]:
    """Per topic, the group furthest behind and how long ago at least its oldest unread message was written
    (the lower end of its bracket, narrowed by bisection: a retention warning must not rest on a guess)."""
    targets: dict[tuple[str, int, int], list[str]] = {}
    for group in snap.groups.values():
        for (t, p), committed in group.committed.items():
            part = snap.partitions[(t, p)]
            if committed < part.end:
                targets.setdefault((t, p, max(committed, part.earliest)), []).append(group.id)
    brackets = {k: ladder_bracket(snap.partitions[(k[0], k[1])], k[2]) for k in targets}
    found = refine(kafka, snap, {k: b for k, b in brackets.items() if b is not None})
    worst: dict[str, tuple[str, float]] = {}
    for key, (low, _) in found.items():
        if low > worst.get(key[0], ("", -1.0))[1]:
            worst[key[0]] = (targets[key][0], low)
    return worst


def _oldest(parts: list[Partition]):
    brackets = [ladder_bracket(p, p.earliest) for p in parts if p.messages]
    known = [b for b in brackets if b is not None]
    return max(known, key=lambda b: estimate(b) or 0.0, default=None)


def _hourly(parts: list[Partition]) -> int | None:
    counts = [p.written_within(units.HOUR) for p in parts]
    return None if any(c is None for c in counts) else sum(c or 0 for c in counts)


def _total(sizes, present) -> int | None:
    if sizes is None:
        return None
    names = {t.name for t in present}
    return sum(size for (topic, _), size in sizes.items() if topic in names)


def _prefix_hint(snap: Snapshot, name: str) -> str:
    bare = snap.catalogue.unprefixed(name)
    others = [t for t in snap.broker_topics if t.endswith(bare) and t != name]
    if not others:
        return ""
    found = others[0]
    prefix = found[: -len(bare)]
    if prefix:
        return f"; the broker has {found}: PostHog runs with KAFKA_PREFIX={prefix!r} (give the doctor prefix={prefix})"
    return f"; the broker has {found} without the prefix {snap.catalogue.prefix!r}: check KAFKA_PREFIX"


def _ids(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:10])
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


def _disk_table(dirs) -> Table:
    return Table(
        "Kafka log directories",
        ["Broker", "Directory", "Disk size", "Free", "Free %", "Error"],
        [
            [
                d.broker,
                d.path,
                units.size(d.total_bytes) if d.total_bytes is not None else "not reported",
                units.size(d.usable_bytes) if d.usable_bytes is not None else "not reported",
                round(100.0 * d.usable_bytes / d.total_bytes, 1)
                if d.total_bytes and d.usable_bytes is not None
                else None,
                d.error or "",
            ]
            for d in dirs
        ],
    )


def _carrier(snap: Snapshot, topic: TopicInfo) -> str:
    """The topic that carries `topic`'s events here: itself, or the one an older PostHog used instead."""
    if snap.topic_partitions(topic.name):
        return topic.name
    return next((i for i in topic.instead if snap.topic_partitions(i)), topic.name)
