"""Consumer lag the way the Kafka checks read it: `python -m benchmarks.kafka_lag`.

Starts a tansu broker (tests/kafka_support.py; or uses POSTHOG_DOCTOR_TEST_KAFKA_URL), creates 3 topics of
64 partitions with a few messages in each partition and 3 consumer groups with committed offsets on every
partition, then times two things end to end, from nothing (connect, preflight and bootstrap included):

- the connector: metadata of the 3 topics, earliest and latest offsets of all 192 partitions, and the 3
  groups' committed offsets;
- what `kafka.consumer_lag` reads before its second reading: the shared snapshot (groups, every topic,
  earliest, latest and 8 by-time offsets of every partition, committed offsets, group descriptions), the
  time-behind bisection of every lagging partition, and the lag per group.

It prints each figure (median and worst of several runs) and the requests sent by type: ListOffsets must be
batched (one request per partition leader and spec), not one per partition. Exits 1 when a median is 1 s or
more.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time

from posthog_doctor.connectors.base import Deadline
from posthog_doctor.connectors.kafka import Kafka

TOPICS = ("events_plugin_ingestion", "clickhouse_events_json", "events_plugin_ingestion_dlq")
GROUPS = ("clickhouse-ingestion", "group1", "events-ingestion-consumer")
PARTITIONS = 64
LIMIT_SECONDS = 1.0


def seed(url: str, messages: int) -> None:
    from tests.kafka_support import Seeder

    seeder = Seeder(url)
    try:
        seeder.create_topics({t: PARTITIONS for t in TOPICS})
        for topic in TOPICS:
            for p in range(PARTITIONS):
                for _ in range(messages):
                    seeder.producer.send(topic, value=b"e", partition=p).get(timeout=10)
        for n, group in enumerate(GROUPS):
            seeder.set_group_offsets(group, {(t, p): max(0, messages - n) for t in TOPICS for p in range(PARTITIONS)})
    finally:
        seeder.close()


def count_requests() -> collections.Counter:
    """Count every request kafka-python sends, by type (a benchmark-only wrapper around its send())."""
    from kafka.net.manager import KafkaConnectionManager

    counts: collections.Counter = collections.Counter()
    original = KafkaConnectionManager.send

    def send(self, request, *args, **kwargs):
        counts[type(request).__name__.removesuffix("Request")] += 1
        return original(self, request, *args, **kwargs)

    KafkaConnectionManager.send = send
    return counts


def measure(url: str) -> dict:
    started = time.perf_counter()
    kafka = Kafka(url, Deadline(10))
    try:
        kafka.cluster()
        topics = kafka.topics(TOPICS)
        tps = [(t.name, p.id) for t in topics for p in t.partitions]
        earliest = kafka.offsets(tps, "earliest")
        latest = kafka.offsets(tps, "latest")
        lag = {}
        for group in GROUPS:
            committed = kafka.group_offsets(group, TOPICS)
            lag[group] = sum(latest[tp].offset - committed.get(tp, earliest[tp].offset) for tp in tps)
    finally:
        kafka.close()
    return {"seconds": time.perf_counter() - started, "partitions": len(tps), "lag": lag}


def measure_check(url: str) -> dict:
    """kafka.consumer_lag's first reading, as the check does it (without the wait for its second one)."""
    from posthog_doctor.checks.kafka._lag import group_lags, unread_offsets
    from posthog_doctor.checks.kafka._offsets import ladder_bracket, read_snapshot, refine

    started = time.perf_counter()
    kafka = Kafka(url, Deadline(10))
    try:
        snap = read_snapshot(kafka)
        first = group_lags(snap, {})
        targets = {k: ladder_bracket(snap.partitions[(k[0], k[1])], k[2]) for k in unread_offsets(first)}
        lags = group_lags(snap, refine(kafka, snap, {k: b for k, b in targets.items() if b is not None}))
    finally:
        kafka.close()
    return {
        "seconds": time.perf_counter() - started,
        "partitions": len(snap.partitions),
        "lag": {g.id: g.lag for g in lags if g.id in GROUPS},
        "behind": {g.id: round(g.behind_seconds, 1) for g in lags if g.id in GROUPS},
    }


def _report(name: str, runs: list[dict], requests: dict[str, int]) -> float:
    times = [r["seconds"] for r in runs]
    median = statistics.median(times)
    print(f"{name}: median {median * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms ({len(runs)} runs)")
    print("  requests per run:", ", ".join(f"{k} {v}" for k, v in sorted(requests.items())))
    return median


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=3, help="messages per partition")
    args = parser.parse_args(argv)

    from tests.kafka_support import provide_kafka

    server = provide_kafka()
    try:
        t0 = time.perf_counter()
        seed(server.admin_url, args.messages)
        print(
            f"seeded {len(TOPICS)} topics x {PARTITIONS} partitions x {args.messages} messages and "
            f"{len(GROUPS)} groups in {time.perf_counter() - t0:.1f} s ({server.origin} broker)"
        )
        counts = count_requests()
        runs, check_runs = [], []
        for _ in range(max(1, args.runs)):
            counts.clear()
            runs.append(measure(server.url))
        per_run = dict(counts)  # requests of the last run
        for _ in range(max(1, args.runs)):
            counts.clear()
            check_runs.append(measure_check(server.url))
        per_check_run = dict(counts)
    finally:
        server.stop()
    partitions = runs[-1]["partitions"]
    print(f"{len(GROUPS)} groups over {len(TOPICS)} topics of {PARTITIONS} partitions ({partitions} partitions):")
    connector = _report("connector: connect + metadata + earliest/latest offsets + committed offsets", runs, per_run)
    print(
        f"  ListOffsets requests: {per_run.get('ListOffsets', 0)} (2 specs x 1 partition leader; unbatched it "
        f"would be {2 * partitions})"
    )
    print("  lag per group (messages):", runs[-1]["lag"])
    check = _report(
        "kafka.consumer_lag's first reading: snapshot + time behind + lag per group", check_runs, per_check_run
    )
    print(
        f"  ListOffsets requests: {per_check_run.get('ListOffsets', 0)} (earliest, latest, 8 ages and the "
        "bisection rounds, each one request for every partition)"
    )
    print("  lag per group (messages):", check_runs[-1]["lag"], "oldest unread (s):", check_runs[-1]["behind"])
    slow = [name for name, median in (("connector", connector), ("check", check)) if median >= LIMIT_SECONDS]
    if slow:
        print(f"FAIL: the {' and the '.join(slow)} median is not under {LIMIT_SECONDS:.0f} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
