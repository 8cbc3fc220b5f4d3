"""PostHog's topics, the Kafka dead letter topic, KAFKA_PREFIX, and a Kafka that is down, silent or refuses the
login, on a real Kafka-protocol broker (tansu). Each scenario keeps to a topic prefix of its own."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import COMPONENT_FLAGS, target
from tests.http_server import SilentServer, closed_port
from tests.kafka_support import Deployment, kafka_checks, start_tansu

FAST = ("--option", "kafka.consumer_lag.sample_seconds=0")
SASL_PASSWORD = "kafka-doctor-Secret-71c2"


def run(doctor, url: str, *extra: str):
    result = doctor("run", *target(kafka=url), "--only", "kafka", "--quiet", *FAST, *extra)
    return result, kafka_checks(result.report["checks"])


def every_output(result) -> str:
    return "".join(p.read_text(errors="replace") for p in Path(result.output).iterdir() if p.is_file())


def table(check: dict, title_start: str) -> list[dict]:
    found = next(e for e in check["evidence"] if e["title"].startswith(title_start))
    return [dict(zip(found["columns"], row, strict=True)) for row in found["rows"]]


def values(check: dict, title: str) -> dict:
    found = next(e for e in check["evidence"] if e["title"] == title)
    return {i["key"]: i["value"] for i in found["items"]}


# --- topics ---------------------------------------------------------------------------------------------


def test_a_missing_topic_and_a_topic_nothing_consumes(doctor, kafka_server):
    dep = Deployment(kafka_server, "missing_")
    dep.topic("events_plugin_ingestion", 2, 3)  # no clickhouse_events_json; no group reads this one
    dep.close()

    result, checks = run(doctor, dep.url)

    topics = checks["kafka.topics"]
    assert topics["status"] == "fail" and result.code == 2
    missing = next(f for f in topics["findings"] if f["key"] == "missing:clickhouse_events_json")
    assert missing["text"].startswith(
        "topic missing_clickhouse_events_json is missing (ingestion workers -> ClickHouse's kafka_events_json"
    )
    assert topics["advice"][0]["text"].startswith("Create the missing topic")
    rows = {r["Topic"]: r for r in table(topics, "PostHog's topics")}
    assert rows["missing_events_plugin_ingestion"]["State"] == "present"
    assert rows["missing_events_plugin_ingestion"]["Partitions"] == 2
    assert rows["missing_events_plugin_ingestion"]["Messages kept"] == 6
    assert rows["missing_events_plugin_ingestion"]["Written in the last hour"] == 6
    assert rows["missing_clickhouse_events_json"]["State"] == "missing"
    # tansu reports no topic configs and has no DescribeLogDirs: the report says so instead of guessing.
    assert rows["missing_events_plugin_ingestion"]["Retention"] == "not reported"
    note = next(e for e in topics["evidence"] if e["title"] == "Kafka")["note"]
    assert "no topic configs" in note and "does not offer DescribeLogDirs" in note
    lag = checks["kafka.consumer_lag"]
    assert lag["status"] == "fail"
    assert lag["summary"].startswith(
        "nothing consumes missing_events_plugin_ingestion: no consumer group has committed an offset there "
        "(events-ingestion-consumer, clickhouse-ingestion expected), and it holds 6 messages"
    )


def test_the_prefix_hint_names_the_prefix_the_broker_uses(doctor, own_kafka):
    """On a broker whose topics carry a prefix the doctor was not given, the missing topic says which."""
    dep = Deployment(own_kafka, "acme_")
    dep.topic("events_plugin_ingestion", 1, 1)
    dep.topic("clickhouse_events_json", 1, 1)
    dep.close()
    _, checks = run(doctor, own_kafka.url)  # no prefix given
    text = next(f for f in checks["kafka.topics"]["findings"] if f["key"] == "missing:events_plugin_ingestion")["text"]
    assert text.endswith(
        "; the broker has acme_events_plugin_ingestion: PostHog runs with KAFKA_PREFIX='acme_' (give the doctor "
        "prefix=acme_)"
    )


def test_kafka_prefix_from_posthogs_own_environment(doctor, kafka_server, monkeypatch):
    dep = Deployment(kafka_server, "envprefix_")
    dep.topic("events_plugin_ingestion", 2, 2)
    dep.topic("clickhouse_events_json", 1, 2)
    dep.commit("events-ingestion-consumer", {("events_plugin_ingestion", p): 2 for p in (0, 1)})
    dep.commit("group1", {("clickhouse_events_json", 0): 2})
    dep.close()
    monkeypatch.setenv("KAFKA_HOSTS", f"kafka://127.0.0.1:{kafka_server.port}")
    monkeypatch.setenv("KAFKA_PREFIX", "envprefix_")
    flags = [f for flag in COMPONENT_FLAGS.values() if flag != "--kafka-url" for f in (flag, "off")]  # Kafka from env

    result = doctor("run", *flags, "--only", "kafka", "--quiet", *FAST)
    checks = kafka_checks(result.report["checks"])

    assert result.report["target"]["component_sources"]["kafka"] == "env:KAFKA_HOSTS/KAFKA_PREFIX"
    assert result.report["target"]["components"]["kafka"] == f"kafka://127.0.0.1:{kafka_server.port}?prefix=envprefix_"
    assert checks["kafka.topics"]["status"] == "ok"
    assert checks["kafka.consumer_lag"]["summary"].startswith("2 consumer groups keeping up")
    assert values(checks["kafka.consumer_lag"], "Consumer groups")["prefix"] == "envprefix_"


# --- the dead letter topic ------------------------------------------------------------------------------


def capture_message(n: int) -> bytes:
    """A capture message as PostHog's capture writes it to events_plugin_ingestion (and the DLQ copies it)."""
    data = {"event": "$pageview", "distinct_id": "alice@example.com", "properties": {"plan": "pro", "n": n}}
    return json.dumps(
        {
            "uuid": f"0190-{n}",
            "distinct_id": "alice@example.com",
            "ip": "203.0.113.7",
            "team_id": 42,
            "token": "phc_TestProjectToken0123456789abcdef",
            "now": "2025-06-01T00:00:00Z",
            "data": json.dumps(data),
        }
    ).encode()


def dead_letter(dep: Deployment, n: int, step: str, reason: str) -> None:
    headers = [
        ("token", b"phc_TestProjectToken0123456789abcdef"),
        ("distinct_id", b"alice@example.com"),
        ("event", b"$pageview"),
        ("team_id", b"42"),
        ("dlq_reason", reason.encode()),
        ("dlq_step", step.encode()),
        ("dlq_timestamp", time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()).encode()),
        ("dlq_topic", dep.t("events_plugin_ingestion").encode()),
        ("dlq_partition", b"0"),
        ("dlq_offset", str(n).encode()),
    ]
    dep.seeder.produce(dep.t("events_plugin_ingestion_dlq"), n % 2, capture_message(n), headers=headers)


@pytest.fixture(scope="module")
def dlq_deployment(kafka_server):
    dep = Deployment(kafka_server, "dlq_")
    dep.topic("events_plugin_ingestion_dlq", 2)
    for n in range(4):
        dead_letter(dep, n, "parseMessageStep", f"Unexpected token u in JSON at position {10 + n}")
    for n in range(4, 7):
        dead_letter(dep, n, "eventPipelineRunnerV1Step", f"Merge limit exceeded for team 42 ({n * 1000} distinct ids)")
    dep.close()
    return dep


def test_dead_lettered_events_are_counted_digested_and_masked(doctor, dlq_deployment):
    result, checks = run(doctor, dlq_deployment.url)

    dlq = checks["kafka.dead_letter_topic"]
    assert dlq["status"] == "fail" and result.code == 2
    assert dlq["summary"].startswith(
        "7 events were dead-lettered to Kafka (dlq_events_plugin_ingestion_dlq) in the last 24 h (7 in the last hour, "
        "7 in 7 days): the ingestion pipeline gave up on them and they will not reach ClickHouse; newest cause: "
    )
    assert dlq["metrics"] == {
        "dlq_topic_last_hour": 7,
        "dlq_topic_last_day": 7,
        "dlq_topic_last_week": 7,
        "dlq_topic_retained": 7,
        "dlq_topic_causes": 2,
    }
    causes = {r["Step (dlq_step)"]: r for r in table(dlq, "Causes among the 7 newest")}
    assert causes["parseMessageStep"]["Reason (dlq_reason)"] == "Unexpected token u in JSON at position <n>"
    assert causes["parseMessageStep"]["Messages"] == 4
    assert causes["parseMessageStep"]["Known cause"] == "The ingestion workers could not read the message capture wrote"
    assert causes["eventPipelineRunnerV1Step"]["Known cause"] == "A person merge went over PostHog's limit"
    assert causes["eventPipelineRunnerV1Step"]["From topic"] == "dlq_events_plugin_ingestion"
    assert causes["eventPipelineRunnerV1Step"]["Top events"] == "$pageview"
    assert causes["eventPipelineRunnerV1Step"]["Teams"] == 1
    texts = [a["text"] for a in dlq["advice"]]
    assert texts[0].startswith("The ingestion workers could not read the message capture wrote (4 of the newest")
    assert (
        texts[-1].startswith("This PostHog dead-letters to Kafka")
        and "an empty ClickHouse DLQ proves nothing" in texts[-1]
    )
    examples = table(dlq, "Recent examples")
    assert len(examples) == 4 and {e["Event"] for e in examples} == {"$pageview"}
    assert all(e["Distinct id"] == "<masked, 17 chars>" for e in examples)
    assert '"properties": {"plan": "<str>", "n": "<num>"}' in examples[0]["Event data"]
    assert '"ip": "<str>", "team_id": "<num>", "token": ' in examples[0]["Message"]  # keys kept, values masked
    everything = every_output(result)
    for secret in ("alice@example.com", "phc_TestProjectToken0123456789abcdef", "203.0.113.7", '"pro"'):
        assert secret not in everything, secret
    # The ticket's first lines: the dead-lettering is one of the causes the diagnosis names, with its check.
    head = result.text("md")[:1500]
    assert (
        "**The ingestion pipeline dead-letters events (to the Kafka topic)** (explains `kafka.dead_letter_topic`)"
        in head
    )


def test_payloads_are_shown_only_when_asked(doctor, dlq_deployment):
    result, checks = run(doctor, dlq_deployment.url, "--include-payloads")
    examples = table(checks["kafka.dead_letter_topic"], "Recent examples")
    assert '"plan": "pro"' in examples[0]["Event data"]
    assert "alice@example.com" not in every_output(result)  # personal data is still pseudonymised


def test_another_check_reads_the_dead_letter_counts_as_a_shared_fact(doctor, dlq_deployment, tmp_path):
    """The ClickHouse DLQ check can tell the same story: any check reads the counts with dead_letter_topic(ctx)."""
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "dlq_story.py").write_text(
        "from posthog_doctor.check import Check, ok\n"
        "from posthog_doctor.checks.common.kafka_dlq import dead_letter_topic\n\n"
        "class Story(Check):\n"
        "    id = 'test.dlq_story'\n"
        "    title = 'DLQ story'\n"
        "    uses = ('kafka',)\n\n"
        "    def run(self, ctx):\n"
        "        t = dead_letter_topic(ctx)\n"
        "        return ok(f'{t.topic}: {t.last_hour}/{t.last_day}/{t.last_week}, {t.retained} kept')\n"
    )
    result = doctor(
        "run",
        *target(kafka=dlq_deployment.url),
        "--checks-dir",
        str(tmp_path / "checks"),
        "--only",
        "test.dlq_story,kafka.dead_letter_topic",
        "--quiet",
    )
    story = next(c for c in result.report["checks"] if c["id"] == "test.dlq_story")
    assert story["summary"] == "dlq_events_plugin_ingestion_dlq: 7/7/7, 7 kept"


def test_no_dead_letter_topic_is_not_a_problem(doctor, kafka_server):
    dep = Deployment(kafka_server, "nodlq_")
    dep.topic("events_plugin_ingestion", 1)
    dep.close()
    _, checks = run(doctor, dep.url)
    dlq = checks["kafka.dead_letter_topic"]
    assert dlq["status"] == "ok" and dlq["summary"].startswith(
        "no dead letter topic nodlq_events_plugin_ingestion_dlq on the broker: nothing has been dead-lettered to Kafka"
    )


# --- a Kafka that does not answer --------------------------------------------------------------------------


def test_kafka_down_fails_the_connection_and_skips_the_rest(doctor):
    started = time.monotonic()
    result, checks = run(doctor, f"kafka://127.0.0.1:{closed_port()}")
    assert time.monotonic() - started < 10
    connection = checks["kafka.connection"]
    assert connection["status"] == "fail" and "connection refused" in connection["summary"]
    assert connection["advice"][0]["text"].startswith("Check that Kafka is running (hobby service 'kafka'")
    for check_id in ("kafka.consumer_lag", "kafka.topics", "kafka.dead_letter_topic", "kafka.expired_unread"):
        assert checks[check_id]["status"] == "skipped" and "Kafka" in checks[check_id]["summary"], check_id


def test_a_silent_port_costs_one_probe_deadline(doctor):
    server = SilentServer()
    try:
        started = time.monotonic()
        result, checks = run(doctor, f"kafka://127.0.0.1:{server.port}")
        elapsed = time.monotonic() - started
    finally:
        server.close()
    connection = checks["kafka.connection"]
    assert connection["status"] == "fail" and "no answer from Kafka at 127.0.0.1" in connection["summary"]
    assert "did not answer a Kafka ApiVersions request" in connection["summary"]
    assert elapsed < 12 and checks["kafka.consumer_lag"]["status"] == "skipped"


@pytest.fixture(scope="module")
def auth_broker():
    """tansu with --authentication: its memory storage cannot hold users, so every login is a wrong login."""
    from tests.kafka_support import server_or_skip

    server = server_or_skip(lambda: start_tansu(authentication=True))
    yield server
    server.stop()


def test_wrong_credentials_fail_plainly_and_the_password_never_shows(doctor, auth_broker):
    url = f"kafka://doctor:{SASL_PASSWORD}@127.0.0.1:{auth_broker.port}?sasl_mechanism=SCRAM-SHA-512"
    result, checks = run(doctor, url)
    connection = checks["kafka.connection"]
    assert (
        connection["status"] == "fail"
        and "rejected the login" in connection["summary"]
        or ("login as 'doctor' did not succeed" in connection["summary"])
    )
    assert connection["advice"][0]["text"].startswith("Use the SASL user, password and mechanism PostHog itself uses")
    assert SASL_PASSWORD not in every_output(result) and SASL_PASSWORD not in result.stdout + result.stderr
    assert "kafka://doctor:***@127.0.0.1" in result.report["target"]["components"]["kafka"]


def test_retention_against_the_lag_and_a_filling_disk(kafka_server):
    """tansu reports no topic configs and has no DescribeLogDirs, so these verdicts are proven on offsets read
    from the broker, with the retention.ms and log-dir figures Apache Kafka would report beside them."""
    from posthog_doctor.checks.kafka._offsets import read_snapshot
    from posthog_doctor.checks.kafka.topics import KafkaTopics, oldest_unread
    from posthog_doctor.connectors.base import Deadline
    from posthog_doctor.connectors.kafka import Kafka, KafkaLogDir

    dep = Deployment(kafka_server, "retention_")
    dep.topic("events_plugin_ingestion", 1, 4)
    dep.commit("events-ingestion-consumer", {("events_plugin_ingestion", 0): 1})
    dep.close()
    time.sleep(2.1)
    kafka = Kafka(dep.url, Deadline(10))
    try:
        snap = read_snapshot(kafka)
        behind = oldest_unread(kafka, snap)
    finally:
        kafka.close()
    ingest = dep.t("events_plugin_ingestion")
    group, seconds = behind[ingest]
    assert group == "events-ingestion-consumer" and 1.5 <= seconds <= 2.5  # written 2.1 s ago, bracketed to ~1 s
    found = KafkaTopics._retention(snap, {ingest: {"retention.ms": "100000"}}, 86400, 50.0, behind)
    assert [f.key for f in found] == ["short_retention:events_plugin_ingestion"]  # a few seconds behind: no risk
    found = KafkaTopics._retention(snap, {ingest: {"retention.ms": "3000"}}, 1, 50.0, behind)
    assert [f.key for f in found] == ["retention_risk:events_plugin_ingestion"]
    assert found[0].text.startswith("events-ingestion-consumer is at least 1 s behind on retention_events_plugin") or (
        found[0].text.startswith("events-ingestion-consumer is at least 2 s behind on retention_events_plugin")
    )
    assert "of its retention (3 s): unread events will soon be deleted" in found[0].text
    assert KafkaTopics._retention(snap, {ingest: {"retention.ms": "-1"}}, 86400, 50.0, behind) == []  # unlimited

    disks = [
        KafkaLogDir(1, "/bitnami/kafka/data", None, 100 * 2**30, 3 * 2**30),
        KafkaLogDir(2, "/data", None, 100 * 2**30, 10 * 2**30),
        KafkaLogDir(3, "/old", None),
    ]
    verdicts = KafkaTopics._disks(disks, 15.0, 5.0)
    assert [(f.status.value, f.text) for f in verdicts] == [
        ("fail", "broker 1's log directory /bitnami/kafka/data has 3.0 GiB free of 100.0 GiB (3.0%)"),
        ("warn", "broker 2's log directory /data has 10.0 GiB free of 100.0 GiB (10.0%)"),
    ]


def test_the_clickhouse_dead_letter_queue_check_hears_the_topic(doctor, dlq_deployment, clickhouse_server, tmp_path):
    """The two dead letter checks tell one story: on a 2025+ PostHog whose ClickHouse holds no trace yet, the
    ClickHouse check names the Kafka topic and its count instead of calling an empty table healthy."""
    from tests import clickhouse_generations as gens
    from tests.clickhouse_support import server_deployment

    dep = server_deployment(clickhouse_server, "phd_dlq_topic_2025")
    gens.create(dep, "2025")
    gens.plant_healthy_traffic(dep, "2025")
    result = doctor(
        "run",
        *target(clickhouse=dep.url, kafka=dlq_deployment.url),
        *("--only", "clickhouse.dead_letter_queue", "--only", "kafka.dead_letter_topic"),
    )
    clickhouse = result.check("clickhouse.dead_letter_queue")
    assert clickhouse["status"] == "warn", clickhouse["summary"]
    assert clickhouse["summary"].startswith("this PostHog dead-letters to the Kafka topic events_plugin_ingestion_dlq")
    assert "Kafka topic dlq_events_plugin_ingestion_dlq: 7 in the last 24 h" in clickhouse["summary"]
    signals = {r["Signal"]: r for r in table(clickhouse, "Where failed events go")}
    topic = signals["Kafka topic dlq_events_plugin_ingestion_dlq"]
    assert topic["Seen"].startswith("7 dead-lettered; in the last 24 h") and topic["Points to"] == "kafka"
    assert result.check("kafka.dead_letter_topic")["status"] == "fail"
