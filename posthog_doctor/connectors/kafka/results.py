"""What the Kafka connector returns: plain dataclasses, no client objects."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class KafkaBroker:
    id: int
    host: str
    port: int
    rack: str | None = None


@dataclass
class KafkaCluster:
    cluster_id: str | None
    controller_id: int | None
    brokers: list[KafkaBroker]
    version: str = ""  # the Apache Kafka release the broker's ApiVersions answer matches, e.g. "3.9"
    api_versions: dict[str, tuple[int, int]] = field(default_factory=dict)  # from the first broker asked


@dataclass
class KafkaPartition:
    id: int
    leader: int | None
    replicas: list[int]
    isr: list[int]
    offline: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


@dataclass
class KafkaTopic:
    name: str
    partitions: list[KafkaPartition]
    internal: bool = False
    error: str | None = None  # e.g. "unknown topic": the topic does not exist


@dataclass
class KafkaOffset:
    offset: int | None  # None: no message at or after the timestamp asked for
    timestamp: int | None = None


@dataclass
class KafkaGroup:
    id: str
    state: str
    protocol_type: str


@dataclass
class KafkaGroupDescription:
    id: str
    state: str
    protocol_type: str
    protocol: str
    members: int
    assigned: list[tuple[str, int]]  # (topic, partition) assigned to any member
    error: str | None = None


@dataclass
class KafkaLogDir:
    """One log directory of one broker, as DescribeLogDirs reports it (v4+ also its disk's size and free space)."""

    broker: int
    path: str
    error: str | None = None
    total_bytes: int | None = None  # None: the broker's answer has no disk figures (before Kafka 3.3)
    usable_bytes: int | None = None


@dataclass
class KafkaLogDirs:
    partition_bytes: dict[tuple[str, int], int]  # bytes on disk per partition (the largest replica)
    dirs: list[KafkaLogDir]


@dataclass
class KafkaMessage:
    partition: int
    offset: int
    timestamp: int | None  # milliseconds since the epoch
    key_size: int
    value_size: int
    headers: list[tuple[str, str]]
    value_head: bytes  # at most the first `value_bytes` of the value: mask it before showing
    value_truncated: bool

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)


@dataclass
class KafkaTail:
    topic: str
    messages: list[KafkaMessage]  # newest first
    partitions_read: int
    partial: bool = False  # stopped by the count, the byte budget or the deadline before the end
    partial_reason: str = ""
    bytes_read: int = 0
