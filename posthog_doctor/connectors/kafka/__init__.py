"""Kafka, read-only by construction: metadata, offsets, consumer groups, configs, log dirs, and the newest
messages of a topic read by assigned partitions (no group, no commit).

Built on kafka-python (see the README's development notes for why not confluent-kafka). The modules:
- `target`: where Kafka is (a kafka:// URL, PostHog's KAFKA_* environment, the engine's Endpoint);
- `preflight`: a raw ApiVersions request that tells a refused, silent, TLS or non-Kafka port apart;
- `client`: the read-only admin client behind a deadline watchdog, errors in plain words;
- `tail`: the one bounded read of messages (assigned partitions, no group id, no commit);
- `connector`: `Kafka`, what checks call, and `probe_kafka`;
- `results`: the dataclasses it all returns.

No producer is ever imported; topic auto-creation is switched off inside the client.
"""

from __future__ import annotations

from .connector import OWN_QUERIES, Kafka, probe_kafka
from .results import (
    KafkaBroker,
    KafkaCluster,
    KafkaGroup,
    KafkaGroupDescription,
    KafkaLogDir,
    KafkaLogDirs,
    KafkaMessage,
    KafkaOffset,
    KafkaPartition,
    KafkaTail,
    KafkaTopic,
)
from .tail import MAX_TAIL_BYTES, MAX_TAIL_MESSAGES, VALUE_HEAD_BYTES
from .target import DEFAULT_PORT, KafkaTarget, KafkaUrlError, kafka_env_url, parse_bootstrap

__all__ = [
    "DEFAULT_PORT",
    "MAX_TAIL_BYTES",
    "MAX_TAIL_MESSAGES",
    "OWN_QUERIES",
    "VALUE_HEAD_BYTES",
    "Kafka",
    "KafkaBroker",
    "KafkaCluster",
    "KafkaGroup",
    "KafkaGroupDescription",
    "KafkaLogDir",
    "KafkaLogDirs",
    "KafkaMessage",
    "KafkaOffset",
    "KafkaPartition",
    "KafkaTail",
    "KafkaTarget",
    "KafkaTopic",
    "KafkaUrlError",
    "kafka_env_url",
    "parse_bootstrap",
    "probe_kafka",
]
