"""`Kafka`: read-only Kafka access for one check (metadata, offsets, groups, configs, log dirs, the newest
messages of a topic), and `probe_kafka` for the engine's probe table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...endpoints import Endpoint
from ..base import ConnectorError, Deadline, ErrorKind, MissingObject
from ..results import Query
from .client import Session
from .results import (
    KafkaBroker,
    KafkaCluster,
    KafkaGroup,
    KafkaGroupDescription,
    KafkaLogDir,
    KafkaLogDirs,
    KafkaOffset,
    KafkaPartition,
    KafkaTail,
    KafkaTopic,
)
from .tail import VALUE_HEAD_BYTES, read_tail
from .target import KafkaTarget, parse_bootstrap

DESCRIBE_LOG_DIRS = 35
_API_NAMES = {
    0: "Produce",
    1: "Fetch",
    2: "ListOffsets",
    3: "Metadata",
    8: "OffsetCommit",
    9: "OffsetFetch",
    10: "FindCoordinator",
    11: "JoinGroup",
    15: "DescribeGroups",
    16: "ListGroups",
    17: "SaslHandshake",
    18: "ApiVersions",
    19: "CreateTopics",
    32: "DescribeConfigs",
    35: "DescribeLogDirs",
    36: "SaslAuthenticate",
    60: "DescribeCluster",
}

# What the connector sends on its own, for `posthog-doctor explain` (Kafka speaks requests, not SQL).
OWN_QUERIES = (
    Query("kafka", "preflight", "ApiVersions on a plain socket to the first bootstrap host that answers"),
    Query("kafka", "probe", "Metadata (all topics, auto-creation off) and DescribeCluster; ApiVersions per broker"),
)


class Kafka:
    """Read-only Kafka access for one check. Not thread-safe; the engine gives each check its own."""

    def __init__(self, target: KafkaTarget | Endpoint | str, deadline: Deadline):
        if isinstance(target, str):
            target = parse_bootstrap(target)
        elif isinstance(target, Endpoint):
            target = KafkaTarget.from_endpoint(target)
        self.target = target
        self.deadline = deadline
        self.where = target.where
        self._session = Session(target, deadline)

    def __repr__(self) -> str:
        return f"Kafka({self.target.url()})"

    @property
    def prefix(self) -> str:
        return self.target.prefix

    @property
    def api_versions(self) -> dict[int, tuple[int, int]]:
        """The broker's API version ranges, as its ApiVersions answer gave them (empty before connecting)."""
        return self._session.api_versions

    def prefixed(self, topic: str) -> str:
        return self.target.prefixed(topic)

    # -- metadata --

    def cluster(self) -> KafkaCluster:
        """Brokers (id, host, port, rack), the controller, the cluster id and the broker's version."""
        admin = self._session.admin()
        raw = self._session.call("describe the cluster", admin.describe_cluster)
        brokers = [
            KafkaBroker(int(b["broker_id"]), str(b["host"]), int(b["port"]), b.get("rack"))
            for b in raw.get("brokers") or []
        ]
        controller = raw.get("controller_id")
        version = ""
        if brokers:
            try:
                data = self._session.call("read the broker version", admin.broker_version, brokers[0].id)
                version = ".".join(str(p) for p in data) if data else ""
            except ConnectorError:
                version = ""  # the version is a nicety; the metadata above is what matters
        apis = {_api_name(k): v for k, v in sorted(self.api_versions.items())}
        return KafkaCluster(
            raw.get("cluster_id"),
            None if controller in (None, -1) else int(controller),
            sorted(brokers, key=lambda b: b.id),
            version,
            apis,
        )

    def topics(self, names: Iterable[str] | None = None, *, internal: bool = False) -> list[KafkaTopic]:
        """Topics with their partitions, leaders, replicas and in-sync replicas; all topics when `names` is
        None (internal ones such as __consumer_offsets only with `internal`). A name that does not exist
        comes back with error "unknown topic" (and is not created)."""
        admin = self._session.admin()
        wanted = None if names is None else list(dict.fromkeys(names))
        if wanted == []:
            return []
        raw = self._session.call("read topic metadata", admin.describe_topics, wanted)
        out = []
        for t in raw:
            if names is None and t.get("is_internal") and not internal:
                continue
            parts = [_partition(p) for p in t.get("partitions") or []]
            out.append(
                KafkaTopic(
                    str(t["name"]),
                    sorted(parts, key=lambda p: p.id),
                    bool(t.get("is_internal")),
                    _error_text(t.get("error_code", 0)),
                )
            )
        return sorted(out, key=lambda t: t.name)

    def partitions(self, topic: str) -> list[int]:
        """The partition numbers of one topic; MissingObject when it does not exist."""
        found = self.topics([topic])
        if not found or found[0].error == "unknown topic":
            raise MissingObject(f"{self.where} has no topic {topic!r}")
        if found[0].error:
            raise ConnectorError(f"{self.where} could not describe topic {topic!r}: {found[0].error}")
        return [p.id for p in found[0].partitions]

    # -- offsets --

    def offsets(
        self, topic_partitions: Iterable[tuple[str, int]], spec: str | int = "latest"
    ) -> dict[tuple[str, int], KafkaOffset]:
        """Offsets of many partitions at once: "earliest", "latest", or the first offset whose timestamp
        is at or after `spec` milliseconds. One ListOffsets request per partition leader."""
        if spec not in ("earliest", "latest") and not (isinstance(spec, int) and not isinstance(spec, bool)):
            raise ValueError(f"offset spec must be 'earliest', 'latest' or a timestamp in ms, not {spec!r}")
        return self._list_offsets({(str(t), int(p)): spec for t, p in topic_partitions})

    def offsets_for_times(self, stamps: dict[tuple[str, int], int]) -> dict[tuple[str, int], KafkaOffset]:
        """For each partition, the first offset whose timestamp is at or after its own time (ms); offset None
        when every message is older. One ListOffsets request per partition leader, whatever the times."""
        return self._list_offsets({(str(t), int(p)): int(ms) for (t, p), ms in stamps.items()})

    def _list_offsets(self, specs: dict[tuple[str, int], str | int]) -> dict[tuple[str, int], KafkaOffset]:
        from kafka.admin import OffsetSpec
        from kafka.structs import TopicPartition

        if not specs:
            return {}
        request = {}
        for (t, p), spec in specs.items():
            if spec == "earliest":
                request[TopicPartition(t, p)] = OffsetSpec.EARLIEST
            elif spec == "latest":
                request[TopicPartition(t, p)] = OffsetSpec.LATEST
            elif isinstance(spec, int) and spec >= 0:
                request[TopicPartition(t, p)] = spec
            else:
                raise ValueError(f"offset spec must be 'earliest', 'latest' or a timestamp in ms, not {spec!r}")
        admin = self._session.admin()
        raw = self._session.call("list offsets", admin.list_partition_offsets, request)
        out = {}
        for tp, found in raw.items():
            offset, stamp = found.offset, found.timestamp
            by_time = isinstance(specs.get((tp.topic, tp.partition)), int)
            if by_time and (offset is None or offset < 0 or stamp is None or stamp < 0):
                out[(tp.topic, tp.partition)] = KafkaOffset(None, None)  # everything is older than that
            else:
                out[(tp.topic, tp.partition)] = KafkaOffset(
                    int(offset), None if stamp is None or stamp < 0 else int(stamp)
                )
        return out

    def topic_offsets(self, topics: Iterable[str], spec: str | int = "latest") -> dict[tuple[str, int], KafkaOffset]:
        """`offsets` for every partition of the named topics (one metadata request, then batched)."""
        found = self.topics(list(topics))
        missing = [t.name for t in found if t.error == "unknown topic"]
        if missing:
            raise MissingObject(f"{self.where} has no topic {missing[0]!r}")
        return self.offsets([(t.name, p.id) for t in found for p in t.partitions], spec)

    # -- consumer groups --

    def groups(self) -> list[KafkaGroup]:
        """Every consumer group the brokers know, with its state and protocol type."""
        admin = self._session.admin()
        raw = self._session.call("list consumer groups", admin.list_groups)
        out = [
            KafkaGroup(str(g["group_id"]), str(g.get("group_state") or "Unknown"), str(g.get("protocol_type") or ""))
            for g in raw
        ]
        return sorted(out, key=lambda g: g.id)

    def describe_groups(self, ids: Iterable[str]) -> dict[str, KafkaGroupDescription]:
        """State, member count and assigned partitions of each group."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        admin = self._session.admin()
        raw = self._session.call("describe consumer groups", admin.describe_groups, wanted)
        return {gid: _group_description(gid, raw.get(gid) or {}) for gid in wanted}

    def group_offsets(self, group_id: str, topics: Iterable[str] | None = None) -> dict[tuple[str, int], int]:
        """The committed offset of each partition the group has committed (optionally only `topics`)."""
        admin = self._session.admin()
        raw = self._session.call("read committed offsets", admin.list_group_offsets, {group_id: None})
        wanted = None if topics is None else set(topics)
        out = {}
        for tp, meta in (raw.get(group_id) or {}).items():
            if wanted is not None and tp.topic not in wanted:
                continue
            if meta is not None and meta.offset is not None and meta.offset >= 0:
                out[(tp.topic, tp.partition)] = int(meta.offset)
        return dict(sorted(out.items()))

    # -- configs and disks --

    def topic_configs(self, topics: Iterable[str]) -> dict[str, dict[str, str]]:
        """Every config the broker reports per topic (retention.ms, retention.bytes, cleanup.policy,
        max.message.bytes, ...). A broker that reports none gives empty dicts."""
        return self._configs("topic", list(dict.fromkeys(topics)))

    def broker_configs(self, broker_ids: Iterable[int] | None = None) -> dict[str, dict[str, str]]:
        """Every config each broker reports (log.retention.hours, num.partitions, ...), keyed by broker id."""
        ids = list(broker_ids) if broker_ids is not None else [b.id for b in self.cluster().brokers]
        return self._configs("broker", [str(i) for i in ids])

    def log_dirs(self) -> KafkaLogDirs | None:
        """Bytes on disk per partition (the largest replica) and each log directory's disk (total and usable
        bytes, Kafka 3.3+), or None when the broker has no DescribeLogDirs."""
        admin = self._session.admin()
        if self.api_versions and DESCRIBE_LOG_DIRS not in self.api_versions:
            return None
        try:
            raw = self._session.call("describe log dirs", admin.describe_log_dirs)
        except ConnectorError as exc:
            if exc.kind == ErrorKind.UNSUPPORTED:
                return None
            raise
        sizes: dict[tuple[str, int], int] = {}
        dirs = []
        for broker in raw:
            for log_dir in broker.get("log_dirs") or []:
                total, usable = log_dir.get("total_bytes"), log_dir.get("usable_bytes")
                dirs.append(
                    KafkaLogDir(
                        int(broker.get("broker", -1)),
                        str(log_dir.get("log_dir") or ""),
                        _error_text(log_dir.get("error_code", 0)),
                        int(total) if isinstance(total, int) and total >= 0 else None,
                        int(usable) if isinstance(usable, int) and usable >= 0 else None,
                    )
                )
                if log_dir.get("error_code"):
                    continue
                for topic in log_dir.get("topics") or []:
                    for part in topic.get("partitions") or []:
                        if part.get("is_future_key"):
                            continue
                        key = (str(topic["name"]), int(part["partition_index"]))
                        sizes[key] = max(sizes.get(key, 0), int(part.get("partition_size") or 0))
        return KafkaLogDirs(dict(sorted(sizes.items())), dirs)

    def log_dir_sizes(self) -> dict[tuple[str, int], int] | None:
        """Bytes on disk per partition (the largest replica), or None when the broker has no DescribeLogDirs."""
        found = self.log_dirs()
        return None if found is None else found.partition_bytes

    # -- messages --

    def tail(
        self,
        topic: str,
        max_messages: int = 20,
        max_bytes: int = 1_000_000,
        *,
        per_partition: int | None = None,
        value_bytes: int = VALUE_HEAD_BYTES,
    ) -> KafkaTail:
        """The newest messages of `topic`, newest first, read by assigned partitions from end minus N.

        No group id (so nothing can be joined or committed), auto-commit off. At most `max_messages`
        messages overall (`per_partition` caps each partition, default the same N) and about
        `max_bytes` of keys, values and headers fetched; only the first `value_bytes` of each value is
        kept. Cut short by the count, the bytes or the deadline, the result is marked partial."""
        parts = self.partitions(topic)  # also proves the topic exists: the consumer must not create it
        ends = self.offsets([(topic, p) for p in parts], "latest")
        starts = self.offsets([(topic, p) for p in parts], "earliest")
        span = {p: (starts[(topic, p)].offset or 0, ends[(topic, p)].offset or 0) for p in parts}
        return read_tail(
            self._session,
            topic,
            span,
            max_messages=max_messages,
            max_bytes=max_bytes,
            per_partition=per_partition,
            value_bytes=value_bytes,
        )

    def close(self) -> None:
        self._session.close()

    # -- plumbing --

    def _configs(self, kind: str, names: list[str]) -> dict[str, dict[str, str]]:
        from kafka.admin import ConfigResource, ConfigResourceType

        if not names:
            return {}
        admin = self._session.admin()
        rtype = ConfigResourceType.TOPIC if kind == "topic" else ConfigResourceType.BROKER
        raw = self._session.call(
            f"describe {kind} configs", admin.describe_configs, [ConfigResource(rtype, name) for name in names]
        )
        found = raw.get(kind) or {}
        out = {}
        for name in names:
            entries = found.get(name) or {}
            out[name] = {
                str(k): ("" if v.get("value") is None else str(v.get("value")))
                for k, v in entries.items()
                if isinstance(v, dict) and not v.get("is_sensitive")
            }
        return out


def _api_name(key: int) -> str:
    from kafka.protocol.api_key import ApiKey

    try:
        return ApiKey(key).name
    except ValueError:
        return _API_NAMES.get(key, f"api{key}")


def _error_text(code: int | None) -> str | None:
    if not code:
        return None
    if code == 3:
        return "unknown topic"
    from kafka import errors

    return errors.for_code(code).__name__


def _partition(p: dict[str, Any]) -> KafkaPartition:
    leader = p.get("leader_id", -1)
    return KafkaPartition(
        int(p["partition_index"]),
        None if leader is None or leader < 0 else int(leader),
        list(p.get("replica_nodes") or []),
        list(p.get("isr_nodes") or []),
        list(p.get("offline_replicas") or []),
        _error_text(p.get("error_code", 0)),
    )


def _group_description(group_id: str, raw: dict[str, Any]) -> KafkaGroupDescription:
    members = raw.get("members") or []
    assigned: set[tuple[str, int]] = set()
    for member in members:
        assigned.update(assigned_partitions(member.get("member_assignment")))
    error = raw.get("error")
    return KafkaGroupDescription(
        group_id,
        str(raw.get("group_state") or "Unknown"),
        str(raw.get("protocol_type") or ""),
        str(raw.get("protocol_data") or ""),
        len(members),
        sorted(assigned),
        None if not error else str(error),
    )


def assigned_partitions(assignment: Any) -> list[tuple[str, int]]:
    """(topic, partition) pairs of a member's assignment, decoded or still raw bytes."""
    if not assignment:
        return []
    if isinstance(assignment, (bytes, bytearray)):
        try:
            from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment

            assignment = ConsumerProtocolAssignment.decode(bytes(assignment))
        except Exception:  # noqa: BLE001 - a non-consumer protocol's blob: nothing we can read
            return []
    topics = getattr(assignment, "assigned_partitions", None)
    if topics is None and isinstance(assignment, dict):
        topics = assignment.get("assigned_partitions")
    out: list[tuple[str, int]] = []
    for entry in topics or []:
        topic = getattr(entry, "topic", None) if not isinstance(entry, dict) else entry.get("topic")
        parts = getattr(entry, "partitions", None) if not isinstance(entry, dict) else entry.get("partitions")
        out.extend((str(topic), int(p)) for p in parts or [])
    return out


def probe_kafka(endpoint: Endpoint | KafkaTarget | str, deadline: Deadline) -> tuple[str, dict[str, Any]]:
    """For the engine's probe table: the broker version and a few facts, or a ConnectorError."""
    kafka = Kafka(endpoint, deadline)
    try:
        cluster = kafka.cluster()
        topics = kafka.topics()
    finally:
        kafka.close()
    brokers = ", ".join(f"{b.id} ({b.host}:{b.port})" for b in cluster.brokers[:20])
    return cluster.version, {
        "brokers": len(cluster.brokers),
        "broker_list": brokers,
        "controller_id": cluster.controller_id,
        "cluster_id": cluster.cluster_id,
        "topics": len(topics),
        "prefix": kafka.prefix,
    }
