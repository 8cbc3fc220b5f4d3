"""Consumer lag and events lost in Kafka, on a real Kafka-protocol broker (tansu): a healthy deployment, a
group lagging and catching up, a group stalled with a growing backlog, offsets expired unread, and the proof
from the broker's side that a whole run changed nothing.

Each scenario has a topic prefix of its own (KAFKA_PREFIX) on the session's broker; the healthy one and the
read-only proof get a broker of their own, so they see no other test's topics. Where tansu differs from Kafka
(tests/kafka_support.py lists how), the test says which behaviour stands in for which.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace

import pytest

from posthog_doctor.checks.kafka._offsets import read_snapshot
from posthog_doctor.checks.kafka.expired_unread import ExpiredUnread, judge
from posthog_doctor.connectors.base import Deadline
from posthog_doctor.connectors.kafka import Kafka
from tests.conftest import target
from tests.kafka_support import Deployment, after_first_reading, in_background, kafka_checks, snapshot

ONE_SECOND_SAMPLE = ("--option", "kafka.consumer_lag.sample_seconds=1")


def run(doctor, url: str, *extra: str):
    result = doctor("run", *target(kafka=url), "--only", "kafka", "--quiet", *extra)
    return result, kafka_checks(result.report["checks"])


def finding(check: dict, key: str) -> dict:
    return next(f for f in check["findings"] if f["key"] == key)


def test_a_healthy_deployment_says_kafka_is_fine_and_draws_the_lag(doctor, own_kafka):
    dep = Deployment(own_kafka)
    ingest = dep.topic("events_plugin_ingestion", 4, 5)
    events = dep.topic("clickhouse_events_json", 2, 3)
    dep.topic("events_plugin_ingestion_dlq", 2)
    dep.commit("events-ingestion-consumer", {("events_plugin_ingestion", p): 5 for p in range(4)})
    dep.commit("group1", {("clickhouse_events_json", p): 3 for p in range(2)})
    dep.commit("group1_recent", {("clickhouse_events_json", p): 3 for p in range(2)})
    dep.close()

    result, checks = run(doctor, dep.url, *ONE_SECOND_SAMPLE)

    assert result.code == 0, {c: (r["status"], r["summary"]) for c, r in checks.items()}
    assert result.text("md").startswith("## ✅ posthog-doctor: OK")
    lag = checks["kafka.consumer_lag"]
    assert lag["summary"].startswith("3 consumer groups keeping up: events-ingestion-consumer 0 behind")
    assert lag["metrics"]["lag_messages.events-ingestion-consumer"] == 0
    assert lag["metrics"]["lag_messages.group1"] == 0 and lag["metrics"]["groups_behind"] == 0
    charts = {e["title"]: e for e in lag["evidence"] if e["type"] == "series"}
    assert [p["label"] for p in charts["Lag per partition: events-ingestion-consumer"]["points"]] == [
        f"{ingest}[{p}]" for p in range(4)
    ]
    assert f"{events}[1]" in [p["label"] for p in charts["Lag per partition: group1"]["points"]]
    assert "<svg" in result.text("html") and "Lag per partition: group1_recent" in result.text("html")
    assert checks["kafka.topics"]["summary"].startswith(
        "PostHog's topics are there: events_plugin_ingestion, clickhouse_events_json and 1 more"
    )
    assert checks["kafka.expired_unread"]["status"] == "ok"
    assert checks["kafka.dead_letter_topic"]["summary"] == (
        "no event was dead-lettered to Kafka (events_plugin_ingestion_dlq) in the last 24 h"
    )
    assert re.match(r"Kafka \d+\.\d+ answered in \d+ ms$", checks["kafka.connection"]["summary"])  # tansu: "3.9"


def test_a_group_lagging_and_catching_up(doctor, kafka_server, monkeypatch):
    dep = Deployment(kafka_server, "lagging_")
    dep.topic("events_plugin_ingestion", 2, 40)
    dep.topic("clickhouse_events_json", 1, 3)
    dep.commit("events-ingestion-consumer", {("events_plugin_ingestion", 0): 10, ("events_plugin_ingestion", 1): 10})
    dep.commit("group1", {("clickhouse_events_json", 0): 3})
    time.sleep(1.2)  # the oldest unread message is now more than a second old
    first_read = after_first_reading(monkeypatch)

    def ingestion_workers_catch_up() -> None:  # a live consumer: commits move between the doctor's readings
        first_read.wait(10)
        for offset in range(12, 32, 2):
            dep.commit("events-ingestion-consumer", {("events_plugin_ingestion", p): offset for p in (0, 1)})
            time.sleep(0.08)

    worker = in_background(ingestion_workers_catch_up)
    result, checks = run(
        doctor,
        dep.url,
        "--option",
        "kafka.consumer_lag.sample_seconds=2",
        "--option",
        "kafka.consumer_lag.warn_behind=1s",
    )
    worker.join(5)
    dep.close()

    lag = checks["kafka.consumer_lag"]
    assert lag["status"] == "warn"
    said = finding(lag, "group:events-ingestion-consumer")["text"]
    # 60 unread at the first reading (30 per partition); written more than a second before it.
    assert said.startswith("events-ingestion-consumer: lagging: 60 messages behind, the oldest unread written about ")
    assert re.search(r"catching up: at the current rate in about \d+ s \(reading \d+\.\d/s, 0\.0/s arriving\)", said)
    assert lag["summary"].startswith("events-ingestion-consumer: lagging: 60 messages behind")
    row = next(r for r in lag["evidence"] if r["title"] == "Lag per consumer group")
    cells = dict(zip(row["columns"], next(r for r in row["rows"] if r[0] == "events-ingestion-consumer"), strict=True))
    assert cells["Trend"] == "shrinking" and cells["Read/s"] > 0 and cells["Arriving/s"] == 0
    assert lag["metrics"]["lag_messages.events-ingestion-consumer"] == 60
    assert lag["metrics"]["lag_seconds.events-ingestion-consumer"] >= 1
    assert finding(lag, "group:group1")["status"] == "ok"  # group1 caught up on its topic
    # The report's first lines say so, with the numbers.
    head = result.text("md").splitlines()[:5]
    assert head[2].startswith(
        "**Events arrive, but late at Ingestion workers (plugin server): "
        "the ingestion workers lag on events\\_plugin\\_ingestion "
        "(events-ingestion-consumer: lagging: 60 messages behind"
    )

    # After a fix: the workers caught up, and `diff` shows the lag's move.
    dep = Deployment(kafka_server, "lagging_")
    dep.commit("events-ingestion-consumer", {("events_plugin_ingestion", p): 40 for p in (0, 1)})
    dep.close()
    after = doctor(
        "run",
        *target(kafka=dep.url),
        "--only",
        "kafka.consumer_lag",
        "--quiet",
        *ONE_SECOND_SAMPLE,
        output=result.output.parent / "after",
    )
    assert after.check("kafka.consumer_lag")["status"] == "ok"
    moved = doctor("diff", str(result.output / "report.json"), str(after.output / "report.json"), "--format", "json")
    moves = {m["metric"]: (m["old"], m["new"]) for m in json.loads(moved.stdout)["metrics"]}
    assert moves["lag_messages.events-ingestion-consumer"] == (60, 0)


def test_a_group_stalled_with_a_growing_backlog(doctor, kafka_server, monkeypatch):
    dep = Deployment(kafka_server, "stalled_")
    ingest = dep.topic("events_plugin_ingestion", 2, 20)
    dep.topic("clickhouse_events_json", 1, 8)
    dep.commit("events-ingestion-consumer", {("events_plugin_ingestion", p): 5 for p in (0, 1)})
    dep.commit("group1", {("clickhouse_events_json", 0): 2})  # behind, no member, nothing new arriving
    time.sleep(1.2)
    first_read = after_first_reading(monkeypatch)

    def capture_keeps_sending() -> None:  # events keep arriving while no offset moves
        first_read.wait(10)
        for i in range(10):
            dep.seeder.produce(ingest, i % 2, b"e")
            time.sleep(0.03)

    producer = in_background(capture_keeps_sending)
    result, checks = run(
        doctor,
        dep.url,
        "--option",
        "kafka.consumer_lag.sample_seconds=2",
        "--option",
        "kafka.consumer_lag.stall_behind=1s",
    )
    producer.join(5)
    dep.close()

    lag = checks["kafka.consumer_lag"]
    assert lag["status"] == "fail" and result.code == 2
    said = finding(lag, "group:events-ingestion-consumer")["text"]
    assert re.fullmatch(
        r"events-ingestion-consumer: stalled: no offset committed in \d s while 10 new messages arrived; "
        r"30 messages behind, the oldest unread written about \d+ s ago",
        said,
    ), said
    assert finding(lag, "group:group1")["text"].startswith(
        "group1: stalled: no consumer is running in this group (Empty); 6 messages behind"
    )
    row = next(r for r in lag["evidence"] if r["title"] == "Lag per consumer group")
    trend = {r[0]: r[row["columns"].index("Trend")] for r in row["rows"]}
    assert trend == {"events-ingestion-consumer": "growing", "group1": "steady"}
    assert lag["advice"][0]["text"].startswith("The ingestion workers (plugin server) are behind")
    head = result.text("md").splitlines()[:5]
    assert head[2].startswith(
        "**Ingestion breaks at Ingestion workers (plugin server): The ingestion workers stopped consuming from Kafka"
    )
    assert head[3].startswith(
        "Root cause: nothing commits on events\\_plugin\\_ingestion while the backlog grows "
        "(events-ingestion-consumer: stalled: no offset committed"
    )


def test_offsets_expired_unread_are_events_lost(doctor, kafka_server):
    """tansu cannot delete records (DeleteRecords is not implemented and retention does not run on its memory
    storage), so no partition's earliest offset ever rises above 0 and no committed offset can fall below it.
    The verdict is proven on what the real connector returned, with the earliest offsets raised as retention
    would have raised them; the full run on the untouched broker shows the healthy side."""
    dep = Deployment(kafka_server, "expired_")
    dep.topic("events_plugin_ingestion", 2, 10)
    dep.commit("events-ingestion-consumer", {("events_plugin_ingestion", 0): 2, ("events_plugin_ingestion", 1): 10})
    dep.close()

    kafka = Kafka(dep.url, Deadline(10))
    try:
        read = read_snapshot(kafka)
    finally:
        kafka.close()
    assert judge(read).status == "ok"
    # Retention deletes the 6 oldest messages of each partition: the earliest offset moves from 0 to 6.
    retained = {
        tp: replace(p, earliest=6) if tp[0] == dep.t("events_plugin_ingestion") else p
        for tp, p in read.partitions.items()
    }
    outcome = judge(replace(read, partitions=retained))
    assert outcome.status == "fail"
    assert outcome.summary == (
        "4 messages expired unread: group events-ingestion-consumer (the ingestion workers (plugin server / Node "
        "ingestion, 2025+ default)) had not read them on expired_events_plugin_ingestion (1 partition) when Kafka "
        "deleted them"
    )
    assert outcome.metrics == {"expired_unread_messages": 4}
    table = outcome.evidence[0]
    assert table.rows == [["events-ingestion-consumer", "expired_events_plugin_ingestion", 0, 2, 6, 4]]
    assert outcome.advice[0].text.startswith("Kafka deleted these messages before the group read them")
    assert "data-loss" in ExpiredUnread.tags  # a failure makes the ticket urgent

    _, checks = run(doctor, dep.url, *ONE_SECOND_SAMPLE)
    assert checks["kafka.expired_unread"]["status"] == "ok"
    assert checks["kafka.expired_unread"]["metrics"] == {"expired_unread_messages": 0}


def test_a_whole_run_changes_nothing_on_the_broker(doctor, own_kafka):
    """Read-only, from the broker's side: after every Kafka check ran (the dead letter topic's newest messages
    read included), no consumer group is new, and every group's committed offsets and every topic's end
    offsets are what they were."""
    dep = Deployment(own_kafka)
    dep.topic("events_plugin_ingestion", 3, 6)
    dep.topic("clickhouse_events_json", 2, 4)
    dlq = dep.topic("events_plugin_ingestion_dlq", 2)
    for i in range(5):
        dep.seeder.produce(
            dlq,
            i % 2,
            b'{"event": "$pageview"}',
            headers=[("dlq_step", b"resolveTeamStep"), ("dlq_reason", b"no_token_in_header")],
        )
    dep.commit("events-ingestion-consumer", {("events_plugin_ingestion", p): 2 for p in range(3)})
    dep.commit("group1", {("clickhouse_events_json", 0): 4})
    dep.close()
    before = snapshot(own_kafka.url)

    result, checks = run(doctor, dep.url, *ONE_SECOND_SAMPLE)

    assert snapshot(own_kafka.url) == before
    assert checks["kafka.dead_letter_topic"]["status"] == "fail"  # the tail did read messages
    assert values(checks["kafka.dead_letter_topic"])["digested"] == 5
    assert {c["status"] for c in checks.values()} <= {"ok", "warn", "fail", "skipped"}


def values(check: dict, title: str = "Dead letter topic") -> dict:
    found = next(e for e in check["evidence"] if e["title"] == title)
    return {i["key"]: i["value"] for i in found["items"]}


@pytest.mark.parametrize("option", ["kafka.consumer_lag.warn_behind=soon", "kafka.topics.min_retention=never"])
def test_a_bad_duration_option_is_said_plainly(doctor, own_kafka, option):
    _, checks = run(doctor, own_kafka.url, "--option", option)
    check = checks[option.rsplit(".", 1)[0]]
    assert check["status"] == "error" and "is not a duration" in check["summary"]


def test_the_lag_benchmark_answers_in_under_a_second(capsys):
    """`python -m benchmarks.kafka_lag`: 3 groups over 3 topics of 64 partitions, read end to end in under a
    second, ListOffsets batched (one request per leader and spec, not one per partition)."""
    from benchmarks import kafka_lag

    code = kafka_lag.main(["--runs", "1", "--messages", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "3 groups over 3 topics of 64 partitions (192 partitions)" in out
    assert "ListOffsets requests: 2 (2 specs x 1 partition leader; unbatched it would be 384)" in out
    check_requests = int(re.search(r"ListOffsets requests: (\d+) \(earliest, latest, 8 ages", out).group(1))
    assert check_requests <= 2 + 8 + 2 * 6  # never per partition: 192 partitions would need hundreds


def test_the_verdict_between_lag_and_stall():
    """The arithmetic behind the verdicts the broker scenarios above reach, for the cases they do not stage:
    a consumer falling further behind, and one between two commits (no commit, but not long enough to stall)."""
    from posthog_doctor.checks.kafka._lag import GroupLag, PartitionLag, Thresholds, verdict
    from posthog_doctor.checks.kafka._offsets import Group

    t = Thresholds(warn_behind=300, fail_behind=3600, stall_behind=60)
    group = Group("events-ingestion-consumer", None, "Stable", 2, {})

    def lag(behind: float, progress: int, arrived: int, after: int) -> GroupLag:
        part = PartitionLag("events_plugin_ingestion", 0, 100, 0, 1100, (behind - 10, behind + 10))
        return GroupLag(group, [part], interval=5.0, progress=progress, arrived=arrived, lag_after=after)

    status, said = verdict(lag(900, progress=50, arrived=100, after=1050), t)
    assert status == "warn" and said.endswith("; falling further behind (reading 10.0/s, 20.0/s arriving)")
    status, said = verdict(lag(7200, progress=200, arrived=100, after=900), t)
    assert status == "fail" and "catching up: at the current rate in about 45 s" in said
    status, said = verdict(lag(20, progress=0, arrived=30, after=1030), t)  # ClickHouse flushes every few seconds
    assert status == "ok" and said.endswith("no offset committed in 5 s while 30 new messages arrived")
    status, said = verdict(lag(120, progress=0, arrived=30, after=1030), t)
    assert status == "fail" and said.startswith("stalled: no offset committed in 5 s while 30 new messages arrived")
