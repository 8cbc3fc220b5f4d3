"""The one read of messages the doctor does: the newest messages of a topic (the dead letter topic), bounded.

Partitions are assigned, never subscribed: the consumer has no group id, so it cannot join a group or
commit, and auto-commit is off anyway. It reads from "end minus N" to the end it saw before starting, at
most N messages per partition, a byte budget overall, and stops at the deadline; only the first bytes of
each value are kept, for the caller to mask.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from .client import CALL_CAP_SECONDS, Session, client_factory, stop_clients
from .results import KafkaMessage, KafkaTail

MAX_TAIL_MESSAGES = 1_000
MAX_TAIL_BYTES = 8_000_000
VALUE_HEAD_BYTES = 256  # the caller masks what it shows; this only bounds what it could show
MAX_VALUE_BYTES = 64_000
MAX_HEADER_VALUE_CHARS = 1_000


def read_tail(
    session: Session,
    topic: str,
    span: dict[int, tuple[int, int]],
    *,
    max_messages: int,
    max_bytes: int,
    per_partition: int | None,
    value_bytes: int,
) -> KafkaTail:
    """The newest messages of `topic`, newest first. `span` is each partition's (earliest, end) offset."""
    max_messages = max(0, min(int(max_messages), MAX_TAIL_MESSAGES))
    max_bytes = max(1, min(int(max_bytes), MAX_TAIL_BYTES))
    per_partition = max_messages if per_partition is None else max(0, min(int(per_partition), max_messages))
    value_bytes = max(0, min(int(value_bytes), MAX_VALUE_BYTES))
    plan = {}
    for p, (start, end) in span.items():
        begin = max(start, end - per_partition)
        if end > begin:
            plan[p] = (begin, end)
    result = KafkaTail(topic, [], len(span))
    if not plan or max_messages == 0:
        return result
    limit = session.deadline.limit(CALL_CAP_SECONDS)
    consumer = _ReadOnlyConsumer(session.client_config(limit), max_bytes)
    try:
        session.call(
            "read the newest messages",
            consumer.read,
            topic,
            plan,
            max_bytes,
            value_bytes,
            time.monotonic() + max(0.1, limit - 0.2),
            result,
            cleanup=consumer.close,
        )
    finally:
        consumer.close()
    result.messages.sort(key=lambda m: (m.timestamp or 0, m.partition, m.offset), reverse=True)
    if len(result.messages) > max_messages:
        result.messages = result.messages[:max_messages]
        result.partial = True
        result.partial_reason = result.partial_reason or f"kept the newest {max_messages} messages"
    return result


class _ReadOnlyConsumer:
    """A consumer with no group id: it can be assigned partitions, seek and fetch, nothing else."""

    def __init__(self, config: dict[str, Any], max_bytes: int):
        self._config = dict(config)
        self._max_bytes = max(1024, max_bytes)
        self._made: list[Any] = []
        self.__client: Any = None
        self._closed = False

    def _open(self) -> Any:
        from kafka import KafkaConsumer

        config = dict(self._config)
        config["kafka_client"] = client_factory(config.pop("setup_ms"), self._made)
        self.__client = KafkaConsumer(
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="none",
            allow_auto_create_topics=False,
            fetch_max_bytes=self._max_bytes,
            max_partition_fetch_bytes=self._max_bytes,
            max_poll_records=500,
            fetch_max_wait_ms=100,
            isolation_level="read_uncommitted",
            **config,
        )
        return self.__client

    def read(
        self,
        topic: str,
        plan: dict[int, tuple[int, int]],
        max_bytes: int,
        value_bytes: int,
        stop_at: float,
        result: KafkaTail,
    ) -> None:
        from kafka.structs import TopicPartition

        client = self._open()
        tps = {p: TopicPartition(topic, p) for p in plan}
        client.assign(list(tps.values()))
        for p, (begin, _end) in plan.items():
            client.seek(tps[p], begin)
        pending = dict(plan)
        while pending:
            if time.monotonic() >= stop_at:
                result.partial, result.partial_reason = True, "stopped at the deadline"
                return
            wait_ms = int(max(10, min(500, (stop_at - time.monotonic()) * 1000)))
            batch = client.poll(timeout_ms=wait_ms, max_records=500)
            for tp, records in batch.items():
                if tp.partition not in pending:
                    continue
                _begin, end = pending[tp.partition]
                for record in records:
                    if record.offset >= end:  # written after we looked: not part of this snapshot
                        break
                    size = _record_size(record)
                    if result.bytes_read + size > max_bytes and result.messages:
                        result.partial = True
                        result.partial_reason = f"stopped at the byte budget ({max_bytes:,} bytes)"
                        return
                    result.bytes_read += size
                    result.messages.append(_message(record, value_bytes))
            for p in list(pending):
                # The position passes transaction markers and compacted gaps too, which no record shows.
                if client.position(tps[p]) >= pending[p][1]:
                    pending.pop(p)
                    client.pause(tps[p])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        client, self.__client = self.__client, None
        if client is not None:
            with contextlib.suppress(Exception):  # closing must not mask the real error
                client.close(autocommit=False)
        stop_clients(self._made)


def _record_size(record: Any) -> int:
    headers = sum(len(k or "") + len(v or b"") for k, v in (record.headers or []))
    return max(0, record.serialized_key_size) + max(0, record.serialized_value_size) + headers


def _message(record: Any, value_bytes: int) -> KafkaMessage:
    value = record.value or b""
    headers = []
    for key, raw in record.headers or []:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, (bytes, bytearray)) else str(raw or "")
        headers.append((str(key), text[:MAX_HEADER_VALUE_CHARS]))
    stamp = record.timestamp if record.timestamp is not None and record.timestamp >= 0 else None
    return KafkaMessage(
        record.partition,
        record.offset,
        stamp,
        max(0, record.serialized_key_size),
        max(0, record.serialized_value_size),
        headers,
        bytes(value[:value_bytes]),
        len(value) > value_bytes,
    )
