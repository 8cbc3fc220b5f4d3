"""The Kafka connector against a real Kafka-protocol broker (tansu): it reads, it stops on time, it says
what went wrong, and it changes nothing.

tansu stands in for Apache Kafka; where it behaves differently the test says so and tests what the
connector returns there (tests/kafka_support.py lists the differences).
"""

from __future__ import annotations

import base64
import importlib
import inspect
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from posthog_doctor.connectors.base import ConnectorError, Deadline, MissingObject
from posthog_doctor.connectors.kafka import (
    Kafka,
    KafkaTarget,
    KafkaUrlError,
    kafka_env_url,
    parse_bootstrap,
    probe_kafka,
)
from posthog_doctor.connectors.kafka.client import _ReadOnlyAdmin, client_factory
from posthog_doctor.connectors.kafka.connector import assigned_partitions
from posthog_doctor.connectors.kafka.tail import _ReadOnlyConsumer
from posthog_doctor.endpoints import Endpoint
from tests import kafka_support
from tests.http_server import FakeServer, SilentServer, closed_port
from tests.kafka_support import Seeder, snapshot
from tests.servers import self_signed_certificate

DLQ = "events_plugin_ingestion_dlq"
INGEST = "events_plugin_ingestion"
SASL_PASSWORD = "kafka-doctor-Secret-3d9c"


@pytest.fixture(scope="module")
def seeded(kafka_server):
    """Topics, messages with headers and known timestamps, and groups with committed offsets (no members)."""
    seeder = Seeder(kafka_server.admin_url)
    seeder.create_topics({DLQ: 3, INGEST: 4, "quiet": 1, "stamps": 1})
    sent = []
    for i in range(12):
        partition = i % 3
        headers = [
            ("dlq_reason", f"reason {i % 2}".encode()),
            ("dlq_step", b"populateTeamDataStep"),
            ("bin", b"\xff\xfe"),
        ]
        value = b'{"event":"$pageview","n":%d}' % i + b"x" * (50 * i)
        offset = seeder.produce(
            DLQ, partition, value, key=b"k%d" % i, headers=headers, timestamp_ms=1_700_000_000_000 + i * 1000
        )
        sent.append((partition, offset, value))
    for p in range(4):
        for _ in range(p + 1):
            seeder.produce(INGEST, p, b"e")
    # Offsets by time: two waves with create time = send time, a gap between them (see the test).
    wave_a = [seeder.produce("stamps", 0, b"a", timestamp_ms=int(time.time() * 1000)) for _ in range(3)]
    time.sleep(0.05)
    between = int(time.time() * 1000)
    time.sleep(0.05)
    wave_b = [seeder.produce("stamps", 0, b"b", timestamp_ms=int(time.time() * 1000)) for _ in range(2)]
    seeder.set_group_offsets("clickhouse-ingestion", {(INGEST, 0): 1, (INGEST, 1): 1, (INGEST, 2): 0})
    seeder.set_group_offsets("group1", {(INGEST, 3): 4})
    seeder.close()
    return {"url": kafka_server.url, "sent": sent, "wave_a": wave_a, "wave_b": wave_b, "between": between}


def kafka(url: str, seconds: float = 10.0) -> Kafka:
    return Kafka(url, Deadline(seconds))


def doctor_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if "posthog-doctor" in t.name]


def no_doctor_threads(seconds: float = 3.0) -> bool:
    stop_at = time.monotonic() + seconds
    while doctor_threads() and time.monotonic() < stop_at:
        time.sleep(0.05)
    return not doctor_threads()


# --- where Kafka is: URLs and PostHog's environment --------------------------------------------------


def test_bootstrap_url_with_hosts_credentials_and_settings():
    t = parse_bootstrap(
        "kafka://doctor:p%40ss@k1:9093,k2,[::1]:9094?prefix=acme_&security_protocol=sasl_ssl"
        "&sasl_mechanism=scram-sha-512&ssl_cafile=/etc/ca.pem&ssl_verify=false"
    )
    assert t.hosts == (("k1", 9093), ("k2", 9092), ("::1", 9094))
    assert (t.user, t.password, t.prefix) == ("doctor", "p@ss", "acme_")
    assert (t.security_protocol, t.sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert t.ssl_cafile == "/etc/ca.pem" and t.ssl_verify is False and t.uses_tls and t.uses_sasl
    assert t.bootstrap == "k1:9093,k2:9092,[::1]:9094"
    assert t.prefixed(DLQ) == "acme_" + DLQ
    # The password never shows, however the target is printed.
    for shown in (str(t), repr(t), t.url(), repr(Kafka(t, Deadline(1)))):
        assert "p@ss" not in shown and "p%40ss" not in shown
    assert parse_bootstrap(t.url(redact=False)) == t


def test_bootstrap_url_defaults_and_inference():
    assert parse_bootstrap("kafka://kafka").hosts == (("kafka", 9092),)
    plain = parse_bootstrap("kafka://kafka:9092")
    assert (plain.security_protocol, plain.sasl_mechanism, plain.uses_tls) == ("PLAINTEXT", "", False)
    # Credentials without a protocol can only mean SASL; SASL without a mechanism is Kafka's PLAIN.
    sasl = parse_bootstrap("kafka://u:pw@kafka:9092")
    assert (sasl.security_protocol, sasl.sasl_mechanism) == ("SASL_PLAINTEXT", "PLAIN")


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://kafka:9092", "kafka://"),
        ("kafka://", "no host"),
        ("kafka://kafka:nine", "not a number"),
        ("kafka://kafka:9092?retention=1", "unknown Kafka URL parameter 'retention'"),
        ("kafka://kafka:9092?security_protocol=TLS", "security_protocol must be one of"),
        ("kafka://u:pw@kafka:9092?sasl_mechanism=GSSAPI", "sasl_mechanism must be one of"),
        ("kafka://kafka:9092?security_protocol=SASL_SSL", "needs a user name"),
        ("kafka://u:topsecret@kafka:9092?ssl_verify=maybe", "ssl_verify must be true or false"),
    ],
)
def test_bad_bootstrap_urls_are_named_without_the_password(url, words):
    with pytest.raises(KafkaUrlError) as caught:
        parse_bootstrap(url)
    assert words in str(caught.value) and "topsecret" not in str(caught.value)


def test_posthog_environment_hosts_prefix_and_sasl():
    assert kafka_env_url({}) is None
    assert kafka_env_url({"KAFKA_HOSTS": "kafka://k1:9092,kafka://k2:9093"}) == (
        "kafka://k1:9092,k2:9093",
        "env:KAFKA_HOSTS",
    )
    # KAFKA_URL is the older spelling; KAFKA_HOSTS wins; the newest Django's KAFKA_DEFAULT_HOSTS wins over both.
    assert kafka_env_url({"KAFKA_URL": "kafka://kafka"})[0] == "kafka://kafka:9092"
    assert kafka_env_url({"KAFKA_URL": "kafka://old", "KAFKA_HOSTS": "new:9092"})[0] == "kafka://new:9092"
    assert kafka_env_url({"KAFKA_DEFAULT_HOSTS": "newest:1", "KAFKA_HOSTS": "new:9092"})[0] == "kafka://newest:1"
    url, source = kafka_env_url(
        {
            "KAFKA_HOSTS": "b1:9092",
            "KAFKA_PREFIX": "heroku_",
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "scram-sha-512",
            "KAFKA_SASL_USER": "ph",
            "KAFKA_SASL_PASSWORD": "s3cr3t/+=",
        }
    )
    names = "KAFKA_HOSTS/KAFKA_PREFIX/KAFKA_SECURITY_PROTOCOL/KAFKA_SASL_MECHANISM/KAFKA_SASL_USER/KAFKA_SASL_PASSWORD"
    assert source == "env:" + names
    t = parse_bootstrap(url)
    assert (t.hosts, t.prefix, t.security_protocol, t.sasl_mechanism, t.user, t.password) == (
        (("b1", 9092),),
        "heroku_",
        "SASL_SSL",
        "SCRAM-SHA-512",
        "ph",
        "s3cr3t/+=",
    )
    assert t.prefixed(DLQ) == "heroku_events_plugin_ingestion_dlq"
    # Only a prefix (or only a protocol) still counts: the hosts fall back to PostHog's own default.
    assert parse_bootstrap(kafka_env_url({"KAFKA_PREFIX": "p_"})[0]).hosts == (("kafka", 9092),)
    # SASL settings without a SASL protocol are ignored, as PostHog ignores them.
    plain = parse_bootstrap(
        kafka_env_url({"KAFKA_HOSTS": "k:1", "KAFKA_SASL_USER": "u", "KAFKA_SASL_PASSWORD": "x"})[0]
    )
    assert (plain.security_protocol, plain.user, plain.password) == ("PLAINTEXT", "", "")


def test_posthog_environment_base64_certificates():
    ca = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"
    cert = "-----BEGIN CERTIFICATE-----\nME\n-----END CERTIFICATE-----\n"
    key = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n"

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    # Some PostHog versions pass the two client variables to the library swapped: go by the content.
    url, _ = kafka_env_url(
        {
            "KAFKA_HOSTS": "k:9096",
            "KAFKA_SECURITY_PROTOCOL": "SSL",
            "KAFKA_TRUSTED_CERT_B64": b64(ca),
            "KAFKA_CLIENT_CERT_B64": b64(key),
            "KAFKA_CLIENT_CERT_KEY_B64": b64(cert),
        }
    )
    t = parse_bootstrap(url)
    assert (t.ssl_cadata, t.ssl_cert_pem, t.ssl_key_pem) == (ca, cert, key)
    assert t.ssl_check_hostname is False  # PostHog connects with these without checking the host name
    assert "KEY" not in t.url() and "KEY" not in repr(t)


def test_endpoint_round_trip_and_host_fallback():
    t = parse_bootstrap("kafka://u:pw@kafka:9092,kafka2:9092?prefix=p_&security_protocol=SASL_PLAINTEXT")
    ep = t.to_endpoint(source="env:KAFKA_HOSTS", fallback_hosts=("localhost",))
    assert isinstance(ep, Endpoint) and (ep.kind, ep.host, ep.port, ep.param("hosts")) == (
        "kafka",
        "kafka",
        9092,
        "kafka:9092,kafka2:9092",
    )
    assert "pw" not in ep.url() and ep.secrets == ["pw"]
    assert KafkaTarget.from_endpoint(ep) == t
    # The engine's default-host fallback swaps the first host; the others stay.
    moved = KafkaTarget.from_endpoint(ep.with_host("localhost"))
    assert moved.hosts == (("localhost", 9092), ("kafka2", 9092)) and moved.prefix == "p_"


# --- metadata, offsets, groups -------------------------------------------------------------------------


def test_cluster_and_topics(seeded):
    k = kafka(seeded["url"])
    try:
        cluster = k.cluster()
        assert len(cluster.brokers) == 1 and cluster.brokers[0].port > 0
        assert cluster.controller_id == cluster.brokers[0].id
        assert cluster.cluster_id  # tansu: the --cluster-id it was started with
        assert cluster.version and cluster.api_versions["Metadata"][1] >= 1 and "ListOffsets" in cluster.api_versions
        topics = {t.name: t for t in k.topics()}
        assert {DLQ, INGEST, "quiet", "stamps"} <= set(topics)
        dlq = topics[DLQ]
        assert [p.id for p in dlq.partitions] == [0, 1, 2] and dlq.error is None
        leader = cluster.brokers[0].id
        assert all(
            p.leader == leader and p.replicas == [leader] and p.isr == [leader] and not p.under_replicated
            for p in dlq.partitions
        )
        assert k.partitions(INGEST) == [0, 1, 2, 3]
        named = k.topics([DLQ, "no_such_topic"])
        assert [(t.name, t.error) for t in named] == [(DLQ, None), ("no_such_topic", "unknown topic")]
        with pytest.raises(MissingObject):
            k.partitions("no_such_topic")
    finally:
        k.close()


def test_offsets_earliest_latest_and_batched(seeded):
    k = kafka(seeded["url"])
    try:
        tps = [(INGEST, p) for p in range(4)] + [(DLQ, p) for p in range(3)]
        latest = k.offsets(tps, "latest")
        earliest = k.offsets(tps, "earliest")
        assert {tp: o.offset for tp, o in latest.items()} == {
            (INGEST, 0): 1,
            (INGEST, 1): 2,
            (INGEST, 2): 3,
            (INGEST, 3): 4,
            (DLQ, 0): 4,
            (DLQ, 1): 4,
            (DLQ, 2): 4,
        }
        assert all(o.offset == 0 for o in earliest.values())
        assert k.topic_offsets([INGEST], "latest") == {tp: o for tp, o in latest.items() if tp[0] == INGEST}
        with pytest.raises(MissingObject):
            k.topic_offsets(["no_such_topic"])
        with pytest.raises(ValueError):
            k.offsets(tps, "newest")
    finally:
        k.close()


def test_offset_for_a_timestamp(seeded):
    """The first offset at or after a time. tansu answers from the time it appended each record (like a
    LogAppendTime topic), Kafka by default from the record's create time: the seeded records were
    created at the moment they were sent, so both readings give the same offsets."""
    k = kafka(seeded["url"])
    try:
        at = k.offsets([("stamps", 0)], seeded["between"])[("stamps", 0)]
        assert at.offset == seeded["wave_b"][0] == 3 and at.timestamp >= seeded["between"]
        before = k.offsets([("stamps", 0)], seeded["between"] - 3_600_000)[("stamps", 0)]
        assert before.offset == 0
        # Nothing at or after a time in the future: no offset (Kafka says -1; tansu 0 with timestamp -1).
        assert k.offsets([("stamps", 0)], int(time.time() * 1000) + 3_600_000)[("stamps", 0)].offset is None
    finally:
        k.close()


def test_groups_and_committed_offsets_without_members(seeded):
    k = kafka(seeded["url"])
    try:
        groups = {g.id: g for g in k.groups()}
        assert {"clickhouse-ingestion", "group1"} <= set(groups)
        # Without `topics`, every topic the group committed on (other tests' deployments share the broker).
        everything = k.group_offsets("clickhouse-ingestion")
        assert {tp: o for tp, o in everything.items() if tp[0] == INGEST} == {
            (INGEST, 0): 1,
            (INGEST, 1): 1,
            (INGEST, 2): 0,
        }
        assert k.group_offsets("clickhouse-ingestion", topics=[INGEST]) == {
            (INGEST, 0): 1,
            (INGEST, 1): 1,
            (INGEST, 2): 0,
        }
        assert k.group_offsets("group1", topics=[INGEST]) == {(INGEST, 3): 4}
        assert k.group_offsets("group1", topics=[DLQ]) == {}
        assert k.group_offsets("never-committed") == {}
        described = k.describe_groups(["clickhouse-ingestion", "group1"])
        assert described["clickhouse-ingestion"].members == 0 and described["clickhouse-ingestion"].assigned == []
        assert described["clickhouse-ingestion"].state == "Empty"
        # Lag, as a check will compute it: end offset minus committed offset, per partition.
        ends = k.topic_offsets([INGEST], "latest")
        committed = k.group_offsets("clickhouse-ingestion", topics=[INGEST])
        lag = {tp: ends[tp].offset - off for tp, off in committed.items()}
        assert lag == {(INGEST, 0): 0, (INGEST, 1): 1, (INGEST, 2): 3}
    finally:
        k.close()


def test_describe_a_group_with_a_live_member(seeded):
    """A real member (a test consumer) is counted. tansu lets it join but never hands it an assignment,
    so assigned partitions are empty here; the decoding of an assignment is tested on its own below."""
    member = kafka_support.join_group(seeded["url"], "live-group", INGEST)
    k = kafka(seeded["url"])
    try:
        live = k.describe_groups(["live-group"])["live-group"]
        assert live.members == 1 and live.protocol_type == "consumer"
        assert live.assigned == []
    finally:
        k.close()
        kafka_support.leave_group(member)


def test_assignment_decoding():
    from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment

    blob = ConsumerProtocolAssignment(
        assigned_partitions=[ConsumerProtocolAssignment.TopicPartition(topic=INGEST, partitions=[0, 2])], user_data=b""
    ).encode(version=0)
    assert assigned_partitions(blob) == [(INGEST, 0), (INGEST, 2)]
    assert assigned_partitions(ConsumerProtocolAssignment.decode(blob)) == [(INGEST, 0), (INGEST, 2)]
    assert assigned_partitions(b"\x00garbage") == [] and assigned_partitions(b"") == []


def test_configs_and_log_dirs_where_tansu_has_none(seeded):
    """tansu answers DescribeConfigs with no entries (Kafka: retention.ms, cleanup.policy, ...) and does not
    offer DescribeLogDirs at all: the connector says "nothing reported" and "unsupported" (None)."""
    k = kafka(seeded["url"])
    try:
        assert k.topic_configs([DLQ, INGEST]) == {DLQ: {}, INGEST: {}}
        brokers = k.broker_configs()
        assert list(brokers) == [str(b.id) for b in k.cluster().brokers] and all(v == {} for v in brokers.values())
        assert "DescribeLogDirs" not in k.cluster().api_versions
        assert k.log_dir_sizes() is None and k.log_dirs() is None
        assert k.topic_configs([]) == {}
    finally:
        k.close()


# --- the newest messages ------------------------------------------------------------------------------


def test_tail_returns_the_newest_messages_with_headers_and_sizes(seeded):
    k = kafka(seeded["url"])
    try:
        tail = k.tail(DLQ, max_messages=5)
        assert [m.offset for m in tail.messages] == [3, 3, 3, 2, 2]
        stamps = [m.timestamp for m in tail.messages]
        assert stamps == sorted(stamps, reverse=True) and stamps[0] == 1_700_000_000_000 + 11_000
        newest = tail.messages[0]
        assert (newest.partition, newest.key_size) == (2, 3)
        value = {(p, o): v for p, o, v in seeded["sent"]}[(newest.partition, newest.offset)]
        assert newest.value_size == len(value) and newest.value_head == value[:256] and newest.value_truncated
        assert newest.header("dlq_reason") == "reason 1" and newest.header("dlq_step") == "populateTeamDataStep"
        assert newest.header("bin") == "\ufffd\ufffd"  # undecodable bytes are replaced, never raised on
        assert tail.partitions_read == 3 and tail.partial  # 12 messages, 5 kept
    finally:
        k.close()


def test_tail_is_bounded_by_count_bytes_and_partition(seeded):
    k = kafka(seeded["url"])
    try:
        per = k.tail(DLQ, max_messages=12, per_partition=1)
        assert sorted((m.partition, m.offset) for m in per.messages) == [(0, 3), (1, 3), (2, 3)]
        everything = k.tail(DLQ, max_messages=100)
        assert len(everything.messages) == 12 and not everything.partial
        small = k.tail(DLQ, max_messages=100, max_bytes=1_500)
        assert small.partial and "byte budget" in small.partial_reason
        assert 1 <= len(small.messages) < 12 and small.bytes_read <= 1_500 + 700
        tiny = k.tail(DLQ, max_messages=3, value_bytes=4)
        assert all(len(m.value_head) <= 4 for m in tiny.messages) and len(tiny.messages) == 3
        assert k.tail("quiet", max_messages=5).messages == []  # an empty topic: nothing, and no wait
        assert k.tail(DLQ, max_messages=0).messages == []
        with pytest.raises(MissingObject):
            k.tail("no_such_dlq", max_messages=5)
    finally:
        k.close()


# --- read-only, by construction and in fact -------------------------------------------------------------


def test_read_only_by_construction():
    import pkgutil

    import posthog_doctor.connectors.kafka as package

    for info in pkgutil.iter_modules(package.__path__):  # every module of the connector package
        source = inspect.getsource(importlib.import_module(f"{package.__name__}.{info.name}"))
        assert "KafkaProducer" not in source and "Producer(" not in source, info.name
        for forbidden in (
            ".commit(",
            ".subscribe(",
            ".create_topics(",
            ".delete_",
            ".alter_",
            ".create_partitions(",
            ".send(",
            ".produce(",
        ):
            assert forbidden not in source, (info.name, forbidden)
    public = {name for name in dir(_ReadOnlyAdmin) if not name.startswith("_")}
    assert public == {
        "describe_cluster",
        "broker_version",
        "describe_topics",
        "list_partition_offsets",
        "list_groups",
        "describe_groups",
        "list_group_offsets",
        "describe_configs",
        "describe_log_dirs",
        "close",
    }
    assert {name for name in dir(_ReadOnlyConsumer) if not name.startswith("_")} == {"read", "close"}
    consumer_source = inspect.getsource(_ReadOnlyConsumer)
    assert "group_id=None" in consumer_source and "enable_auto_commit=False" in consumer_source
    assert "allow_auto_create_topics" in inspect.getsource(client_factory)


def test_looking_up_a_missing_topic_does_not_create_it(seeded):
    """tansu creates a topic on a Metadata request that allows it, as Kafka does with
    auto.create.topics.enable=true (its default); kafka-python allows it unless told not to."""
    k = kafka(seeded["url"])
    try:
        k.topics(["ghost_topic"])
        with pytest.raises(MissingObject):
            k.offsets([("ghost_offsets", 0)], "latest")
        with pytest.raises(MissingObject):
            k.tail("ghost_tail", 5)
        assert k.group_offsets("clickhouse-ingestion", topics=["ghost_group"]) == {}
        names = {t.name for t in k.topics()}
    finally:
        k.close()
    assert not {n for n in names if n.startswith("ghost")}


def test_every_method_leaves_the_broker_as_it_was(seeded):
    before = snapshot(seeded["url"])
    k = kafka(seeded["url"])
    try:
        k.cluster()
        k.topics()
        ends = k.topic_offsets([DLQ, INGEST, "stamps"], "latest")
        k.offsets(list(ends), "earliest")
        k.offsets(list(ends), seeded["between"])
        for group in k.groups():
            k.group_offsets(group.id)
        k.describe_groups([g.id for g in k.groups()])
        k.topic_configs([DLQ])
        k.broker_configs()
        k.log_dir_sizes()
        k.tail(DLQ, 100)
        k.tail(INGEST, 3, per_partition=1)
    finally:
        k.close()
    probe_kafka(seeded["url"], Deadline(5))
    assert snapshot(seeded["url"]) == before


# --- failures: each ends within the deadline and says which it is ----------------------------------------


def test_refused_port():
    started = time.monotonic()
    with pytest.raises(ConnectorError) as caught:
        kafka(f"kafka://127.0.0.1:{closed_port()}", seconds=3).cluster()
    assert caught.value.kind == "refused" and time.monotonic() - started < 1.0
    assert no_doctor_threads()


def test_unresolvable_host():
    with pytest.raises(ConnectorError) as caught:
        kafka("kafka://no-such-kafka.invalid:9092", seconds=3).cluster()
    assert caught.value.kind == "dns"


def test_silent_port_ends_within_the_deadline():
    server = SilentServer()
    try:
        started = time.monotonic()
        with pytest.raises(ConnectorError) as caught:
            kafka(f"kafka://127.0.0.1:{server.port}", seconds=1.5).topics()
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert caught.value.kind == "timeout" and elapsed < 2.5
    assert "ApiVersions" in str(caught.value)


def test_a_broker_that_hangs_mid_session_costs_one_deadline():
    """A broker that stops answering after the connection is made (SIGSTOP): each call ends by the deadline."""
    server = kafka_support.server_or_skip(kafka_support.start_tansu)
    pid = server.details["pid"]
    try:
        seeder = Seeder(server.url)
        seeder.create_topics({"t": 2})
        seeder.close()
        k = kafka(server.url, seconds=2.0)
        try:
            assert k.partitions("t") == [0, 1]
            stop_process(pid)
            try:
                started = time.monotonic()
                with pytest.raises(ConnectorError) as caught:
                    k.offsets([("t", 0), ("t", 1)], "latest")
                assert caught.value.kind == "timeout" and time.monotonic() - started < 2.5
                with pytest.raises(ConnectorError) as again:  # the deadline is spent: later calls stop at once
                    k.groups()
                assert again.value.kind == "timeout"
            finally:
                os.kill(pid, signal.SIGCONT)
        finally:
            k.close()  # also when an assertion failed: a thread left behind would fail the tests after this one
        assert no_doctor_threads()
    finally:
        server.stop()


def stop_process(pid: int) -> None:
    """SIGSTOP, then wait until the kernel shows the process stopped: a signal is only queued when kill returns,
    and on a busy machine a broker thread may still answer one more request before it is delivered."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        states = {t.read_text().rsplit(")", 1)[1].split()[0] for t in Path(f"/proc/{pid}/task").glob("*/stat")}
        if states == {"T"}:  # every thread of it
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not stop within 5 s")


def test_a_port_that_does_not_speak_kafka():
    """Something else listens there and talks first (an SSH daemon), or hangs up on us."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def serve() -> None:
        greeting = b"SSH-2.0-OpenSSH_9.2\r\n"  # to the first caller; every later one is hung up on
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if greeting:
                conn.sendall(greeting)
                greeting = b""
                time.sleep(0.3)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        with pytest.raises(ConnectorError) as banner:
            kafka(f"kafka://127.0.0.1:{port}", seconds=3).cluster()
        assert banner.value.kind == "protocol" and "not Kafka" in str(banner.value)
        with pytest.raises(ConnectorError) as hangup:
            kafka(f"kafka://127.0.0.1:{port}", seconds=3).cluster()
        assert hangup.value.kind == "protocol" and "closed the connection" in str(hangup.value)
    finally:
        listener.close()


def test_tls_mismatches(seeded, tmp_path):
    """tansu 0.6 has no working TLS listener, so a local HTTPS server (a real TLS endpoint) stands in for a
    TLS-only broker: the connector must tell "this port speaks TLS" and "certificate not trusted" apart."""
    cert, key = self_signed_certificate(tmp_path)
    tls = FakeServer(tls_certificate=(cert, key))
    try:
        with pytest.raises(ConnectorError) as plain_to_tls:
            kafka(f"kafka://127.0.0.1:{tls.port}", seconds=3).cluster()
        assert plain_to_tls.value.kind == "tls" and "speaks TLS" in str(plain_to_tls.value)
        with pytest.raises(ConnectorError) as untrusted:
            kafka(f"kafka://127.0.0.1:{tls.port}?security_protocol=SSL", seconds=3).cluster()
        assert untrusted.value.kind == "tls" and "certificate" in str(untrusted.value)
    finally:
        tls.close()
    # TLS spoken to a plaintext broker: tansu waits for the rest of what it takes for a huge request
    # (Kafka hangs up at once); either way the answer is "tls", within the deadline.
    started = time.monotonic()
    with pytest.raises(ConnectorError) as tls_to_plain:
        kafka(f"{seeded['url']}?security_protocol=SSL&ssl_verify=false", seconds=1.5).cluster()
    assert tls_to_plain.value.kind == "tls" and time.monotonic() - started < 2.5


@pytest.fixture(scope="module")
def auth_broker():
    """tansu with --authentication. Its memory storage cannot hold users in this build (the request that
    would create one is refused once authentication is on), so every login is a wrong login."""
    server = kafka_support.server_or_skip(lambda: kafka_support.start_tansu(authentication=True))
    yield server
    server.stop()


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"])
def test_wrong_credentials(auth_broker, capfd, mechanism):
    url = f"kafka://doctor:{SASL_PASSWORD}@127.0.0.1:{auth_broker.port}?sasl_mechanism={mechanism}"
    started = time.monotonic()
    with pytest.raises(ConnectorError) as caught:
        kafka(url, seconds=2).cluster()
    assert caught.value.kind == "auth" and time.monotonic() - started < 3.0
    assert SASL_PASSWORD not in str(caught.value) and "doctor" in str(caught.value)
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # kafka-python's retry logging is silenced
    assert no_doctor_threads()


def test_no_login_where_one_is_required(auth_broker):
    with pytest.raises(ConnectorError) as caught:
        kafka(f"kafka://127.0.0.1:{auth_broker.port}", seconds=2).cluster()
    assert caught.value.kind == "auth" and "login" in str(caught.value)


# --- the probe -----------------------------------------------------------------------------------------


def test_probe(seeded, capfd):
    version, details = probe_kafka(parse_bootstrap(seeded["url"]).to_endpoint(), Deadline(5))
    assert version and details["brokers"] == 1 and details["controller_id"] is not None
    assert details["cluster_id"] and details["topics"] >= 4
    with pytest.raises(ConnectorError) as caught:
        probe_kafka(f"kafka://127.0.0.1:{closed_port()}", Deadline(2))
    assert caught.value.kind == "refused"
    assert capfd.readouterr() == ("", "")
    assert no_doctor_threads()


# --- the engine's settings --------------------------------------------------------------------------------


def test_settings_find_kafka_like_every_other_component():
    from posthog_doctor.config import ConfigError, load_settings

    default = load_settings({}, {}).endpoints["kafka"]
    assert (default.url(), default.source, default.fallback_hosts) == ("kafka://kafka:9092", "default", ("localhost",))
    env = {"KAFKA_HOSTS": "kafka://k1:9092,k2:9093", "KAFKA_PREFIX": "p_"}
    from_env = load_settings({}, env).endpoints["kafka"]
    assert (from_env.url(), from_env.source) == ("kafka://k1:9092,k2:9093?prefix=p_", "env:KAFKA_HOSTS/KAFKA_PREFIX")
    flagged = load_settings({"kafka_url": f"kafka://u:{SASL_PASSWORD}@k3:9092"}, env).endpoints["kafka"]
    assert flagged.url() == "kafka://u:***@k3:9092?security_protocol=SASL_PLAINTEXT&sasl_mechanism=PLAIN"
    assert SASL_PASSWORD in load_settings({"kafka_url": f"kafka://u:{SASL_PASSWORD}@k3:9092"}, {}).secrets
    assert load_settings({}, {"POSTHOG_DOCTOR_KAFKA_URL": "off", **env}).endpoints["kafka"] is None
    with pytest.raises(ConfigError, match="PostHog's environment: bad Kafka host 'k:port'"):
        load_settings({}, {"KAFKA_HOSTS": "k:port"})
    # A bad PostHog variable does not matter once the doctor is told where Kafka is.
    assert load_settings({"kafka_url": "kafka://k4"}, {"KAFKA_HOSTS": "k:port"}).endpoints["kafka"].host == "k4"
