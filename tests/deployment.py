"""A whole PostHog deployment of one generation on the real test servers, healthy, for a scenario to break.

`build(stack, name, generation)` stands up every component a customer runs, in that generation's exact formats:

- ClickHouse 18.16 (the session's server): the generation's DDL and a week of traffic, one database per deployment
  (tests/clickhouse_generations.py);
- Postgres: the metadata a ClickHouse-era PostHog keeps (teams, Django's migration record, an empty posthog_event,
  async migrations run to completion, the definition of the event its traffic sends), one database per generation
  shared by every deployment that does not break Postgres (tests/postgres_support.py);
- Kafka (the session's tansu broker): the generation's topics under a prefix of the deployment's own (KAFKA_PREFIX),
  each carrying messages, and every consumer group committed at the end of its topic, as healthy consumption
  leaves them (tests/kafka_support.py);
- the web app, the plugin server and the Redis keys PostHog's processes write (tests/generations.py `serve`),
  started just before the doctor runs (heartbeats age), with the environment PostHog sets;
- capture: Django's capture in the web app (2021, 2023), or the hobby proxy in front of the Rust capture service,
  and that service's own health endpoints (2025+) (tests/capture_support.py);
- ZooKeeper: a real Apache ZooKeeper, one per test session (tests/zookeeper_support.py).

A scenario then breaks one thing: its ClickHouse database (drop a table, plant a stall or dead letters), its Kafka
prefix (a backlog, the dead letter topic), the services' state (tests/generations.py STATES) or a route of theirs
(`tweaks`), a flag or a variable of PostHog's env. `run()` runs the whole doctor against every component and
returns the CLI result with its three reports. `host.resources` is left out of every run: it describes the machine
running the tests (its CPUs, memory and disk), not the deployment.

What the test bed cannot have, and what stands in (each scenario says which it uses):
- ClickHouse's Kafka-engine tables are Null tables with the same columns (tests/clickhouse_generations.py):
  ClickHouse never consumes from the test broker, so `kafka.clickhouse_tables` finds no Kafka-engine table and is
  skipped, and the harness commits ClickHouse's groups (group1, group1_recent) as ClickHouse would;
- tansu dates a message by its append time, so a backlog is only ever seconds old: scenarios about Kafka lag read
  the offsets twice 1 s apart with thresholds in seconds where PostHog's are minutes (`KAFKA_SECONDS`);
- ClickHouse 18.16 has no system.disks: a nearly full disk is what PostHog's System Status page says of it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests import clickhouse_generations as chgen
from tests import generations, servers
from tests.capture_support import capture_service, django_capture, rust_capture
from tests.clickhouse_support import Deployment as ClickHouse
from tests.clickhouse_support import server_deployment
from tests.conftest import CliResult, patient, unavailable
from tests.http_server import FakeServer, closed_port
from tests.kafka_support import Deployment as Kafka
from tests.postgres_support import (
    ASYNC_MIGRATION_DDL,
    EVENT_DEFINITION_DDL,
    AsyncMigrationRow,
    insert_async_migration,
)
from tests.postgres_support import Deployment as Postgres
from tests.postgres_support import deployment as postgres_deployment

API_KEY = "phx_WholeDeploymentKey0123456789abcdef"
# The host check judges the machine running the tests (its CPUs, memory and disk), not the deployment.
SKIP_HOST = ("--skip", "host")
# One reading of Kafka's offsets where nothing is behind: a second reading 5 s later would only cost time.
KAFKA_ONE_READING = ("--option", "kafka.consumer_lag.sample_seconds=0")
# A backlog seconds old standing in for one minutes old (tansu dates messages by append time): two readings 0.5 s
# apart, a group behind by 1 s lags, and one committing nothing while 1 s behind has stalled.
KAFKA_SECONDS = (
    "--option",
    "kafka.consumer_lag.sample_seconds=0.5",
    "--option",
    "kafka.consumer_lag.warn_behind=1s",
    "--option",
    "kafka.consumer_lag.stall_behind=1s",
)
MESSAGES = 5  # per partition of each topic events travel through


# --- each generation's Kafka: topics and the groups that read them ---------------------------------------


@dataclass(frozen=True)
class KafkaLayout:
    """The topics a generation's events travel through and the consumer groups that read them."""

    topics: dict[str, int]  # name -> partitions
    groups: dict[str, tuple[str, ...]]  # group -> the topics it reads
    ingestion_group: str  # the ingestion workers (plugin server)
    events_topic: str  # ingestion workers -> ClickHouse

    @property
    def carried(self) -> set[str]:
        """The topics every event passes through (the others are empty on a healthy deployment)."""
        return {topic for topics in self.groups.values() for topic in topics}


# checks/common/kafka_catalogue.yaml cites the sources: 2021 (1.31) ingests as group `clickhouse-ingestion`
# (kafka-queue.ts) and produces Protobuf to clickhouse_events_proto, which ClickHouse's kafka_events reads as
# group1 (ee/kafka_client/topics.py); 2023 produces JSON to clickhouse_events_json and has the ingestion warnings'
# topic; 2025+ ingests as `events-ingestion-consumer` (nodejs config.ts), events_recent reads as group1_recent,
# and failed events go to events_plugin_ingestion_dlq.
KAFKA_LAYOUTS = {
    "2021": KafkaLayout(
        {"events_plugin_ingestion": 2, "clickhouse_events_proto": 1, "events_dead_letter_queue": 1},
        {"clickhouse-ingestion": ("events_plugin_ingestion",), "group1": ("clickhouse_events_proto",)},
        "clickhouse-ingestion",
        "clickhouse_events_proto",
    ),
    "2023": KafkaLayout(
        {
            "events_plugin_ingestion": 2,
            "clickhouse_events_json": 1,
            "events_dead_letter_queue": 1,
            "clickhouse_ingestion_warnings": 1,
        },
        {"clickhouse-ingestion": ("events_plugin_ingestion",), "group1": ("clickhouse_events_json",)},
        "clickhouse-ingestion",
        "clickhouse_events_json",
    ),
    "2025": KafkaLayout(
        {
            "events_plugin_ingestion": 2,
            "clickhouse_events_json": 1,
            "events_plugin_ingestion_dlq": 1,
            "clickhouse_ingestion_warnings": 1,
        },
        {
            "events-ingestion-consumer": ("events_plugin_ingestion",),
            "group1": ("clickhouse_events_json",),
            "group1_recent": ("clickhouse_events_json",),
        },
        "events-ingestion-consumer",
        "clickhouse_events_json",
    ),
}


# --- the servers of the session ---------------------------------------------------------------------------


@dataclass
class Stack:
    """The real servers every deployment lives on; each deployment keeps to a database, a Redis DB or a prefix."""

    clickhouse: servers.Server
    postgres: servers.Server
    redis: servers.Server
    kafka: servers.Server
    zookeeper: servers.Server


_session_servers: dict[str, servers.Server] = {}
_session_lock = threading.Lock()


def session_zookeeper() -> servers.Server:
    """One real ZooKeeper for the whole session (a JVM, started once and stopped when the process ends), whatever
    module asks first."""
    from tests.zookeeper_support import start_zookeeper

    with _session_lock:
        if "zookeeper" not in _session_servers:
            try:
                server = start_zookeeper("srvr,mntr,ruok")
            except servers.Unavailable as exc:
                unavailable("a real ZooKeeper", str(exc))
            atexit.register(server.stop)
            _session_servers["zookeeper"] = server
        return _session_servers["zookeeper"]


@pytest.fixture(scope="module")
def stack(clickhouse_server, postgres_server, redis_server, kafka_server) -> Stack:
    return Stack(clickhouse_server, postgres_server, redis_server, kafka_server, session_zookeeper())


# --- Postgres ---------------------------------------------------------------------------------------------

# Async migrations a 2022+ PostHog has run to completion (posthog/async_migrations/migrations/).
DONE_ASYNC_MIGRATIONS = (
    AsyncMigrationRow("0001_events_sample_by", 2, progress=100, started_hours_ago=900, finished_hours_ago=899),
    AsyncMigrationRow("0002_events_sample_by", 2, progress=100, started_hours_ago=800, finished_hours_ago=799),
)
_metadata: dict[tuple[str, str], Postgres] = {}


def metadata_database(server: servers.Server, generation: str, name: str = "") -> Postgres:
    """Postgres as a ClickHouse-era PostHog of `generation` keeps it, seeded once per session (one database per
    generation unless `name` asks for one of its own): teams, Django's migration record, a posthog_event that holds
    nothing (events live in ClickHouse), async migrations run to completion (2022+: 1.31 predates them) and the
    definition of `$pageview`, the event the traffic sends, last seen an hour ago (its writer runs)."""
    name = name or f"phd_whole_pg_{generation}"
    with _session_lock:
        if (server.url, name) in _metadata:
            return _metadata[server.url, name]
        dep = postgres_deployment(server, name, (), related=False)
        with psycopg.connect(dep.url, autocommit=True) as conn:
            if generation != "2021":
                conn.execute(ASYNC_MIGRATION_DDL["2022"])
                for row in DONE_ASYNC_MIGRATIONS:
                    insert_async_migration(conn, "2022", row)
            layout = "2025" if generation == "2025" else "2023"  # last_seen_at exists since 2021
            conn.execute(EVENT_DEFINITION_DDL[layout])
            extra, value = (", enforcement_mode", ", 'allow'") if layout == "2025" else ("", "")
            conn.execute(
                f"INSERT INTO posthog_eventdefinition (id, name, team_id, created_at, last_seen_at{extra}) VALUES "
                f"(gen_random_uuid(), '$pageview', 1, now() - interval '30 days', now() - interval '1 hour'{value})"
            )
        _metadata[server.url, name] = dep
        return dep


# --- one deployment ---------------------------------------------------------------------------------------

Tweak = Callable[["Deployment", generations.Deployment], None]


@dataclass
class Deployment:
    """One generation of PostHog on the test servers, healthy until a scenario breaks a part of it."""

    name: str
    generation: generations.Generation
    stack: Stack
    clickhouse: ClickHouse | None
    postgres: Postgres | None
    kafka: Kafka | None
    state: str = "healthy"  # the services' state (tests/generations.py STATES)
    redis: servers.Server | None = None  # a Redis of the scenario's own instead of the session's
    flags: list[str] = field(default_factory=list)  # more flags for the run
    env: dict[str, str] = field(default_factory=dict)  # PostHog's env, on top of what the generation sets
    drop_env: tuple[str, ...] = ()  # variables of the generation's env the customer did not hand over
    urls: dict[str, str] = field(default_factory=dict)  # a component flag's URL instead of the harness's
    tweaks: list[Tweak] = field(default_factory=list)  # changes to the served services, before the doctor runs
    cleanups: list[Callable[[], None]] = field(default_factory=list)  # after the run (what a tweak holds open)
    before: list[Callable[[], None]] = field(
        default_factory=list
    )  # breaks that must wait for the run (a server stopped)
    during: Callable[[], None] | None = None  # activity on the broker between the doctor's two Kafka readings
    ready_at: float = 0.0  # monotonic time before which the doctor must not run (a backlog old enough)
    served: generations.Deployment | None = None
    proxy: FakeServer | None = None  # capture as SDKs reach it (2025+: Caddy in front of the capture service)
    capture_service: FakeServer | None = None

    @property
    def key(self) -> str:
        return self.generation.key

    @property
    def layout(self) -> KafkaLayout:
        return KAFKA_LAYOUTS[self.key]

    # -- breaking Kafka --

    def backlog(self, group: str, messages: int = 3) -> None:
        """`messages` more on every partition of the topics `group` reads, which it does not commit: a group with no
        member (its consumer gone) falling behind."""
        assert self.kafka is not None
        for topic in self.layout.groups[group]:
            for partition in range(self.layout.topics[topic]):
                self.kafka.seeder.produce_many(self.kafka.t(topic), partition, messages)
        self.ready_at = time.monotonic() + 1.2  # older than KAFKA_SECONDS' 1 s

    # -- running --

    def run(self, out: Path, *extra: str) -> CliResult:
        """Serve the services (fresh heartbeats), run the whole doctor against every component, stop the services."""
        from posthog_doctor.cli import main

        for step in self.before:
            step()
        wait = self.ready_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.served = generations.serve(self.generation, self.state, self.redis or self.stack.redis)
        try:
            for tweak in self.tweaks:
                tweak(self, self.served)
            flags = self._flags(self.served)
            env = {k: v for k, v in self.served.env.items() if k not in self.drop_env} | self.env
            with pytest.MonkeyPatch.context() as mp:
                for name in list(os.environ):  # only PostHog's env as this deployment sets it
                    if name.startswith(_POSTHOG_ENV) and not name.startswith("POSTHOG_DOCTOR_TEST_"):
                        mp.delenv(name, raising=False)
                for name, value in env.items():
                    mp.setenv(name, value)
                if self.during is not None:
                    self._during_second_reading(mp)
                argv = patient(
                    [
                        "run",
                        *flags,
                        "--api-key",
                        API_KEY,
                        *SKIP_HOST,
                        "--quiet",
                        "--output",
                        str(out),
                        *extra,
                    ]
                )
                code = main(argv)
        finally:
            self._close()
        return CliResult(code, "", "", out)

    def _flags(self, served: generations.Deployment) -> list[str]:
        urls = {
            "--clickhouse-url": self.clickhouse.url if self.clickhouse else "off",
            "--postgres-url": self.postgres.url if self.postgres else "off",
            "--kafka-url": self.kafka.url if self.kafka else "off",
            "--zookeeper-url": self.stack.zookeeper.url,
            "--posthog-url": served.web.url,
            "--capture-url": self._serve_capture(served),
        }
        env = {k: v for k, v in served.env.items() if k not in self.drop_env} | self.env
        if "CDP_API_URL" not in env:  # 2021 names no plugin server in its env: the customer gives its address
            urls["--plugin-server-url"] = served.plugin_url
        if "REDIS_URL" not in env:
            urls["--redis-url"] = served.main_redis_url
        urls.update(self.urls)
        flags = [f for pair in urls.items() for f in pair]
        return flags + self._capture_service_flags() + list(self.flags)

    def _serve_capture(self, served: generations.Deployment) -> str:
        if self.key != "2025":  # Django captures in the web app (the Rust service came in 2024)
            django_capture(served.web, self.key)
            return served.web.url
        if self.proxy is None:
            self.proxy = FakeServer()
            rust_capture(self.proxy)
        return self.proxy.url

    def _capture_service_flags(self) -> list[str]:
        if self.key != "2025":
            return ["--set", "capture.service.service_url=off"]  # no capture service before 2024
        if self.capture_service is None:
            self.capture_service = FakeServer()
            capture_service(self.capture_service)
        return ["--set", f"capture.service.service_url={self.capture_service.url}"]

    def _during_second_reading(self, mp: pytest.MonkeyPatch) -> None:
        """Run `during` once the Kafka checks have taken their first reading of offsets, as a live deployment
        keeps moving between the two readings of kafka.consumer_lag."""
        from posthog_doctor.checks.kafka import _offsets

        original, work, started = _offsets.read_snapshot, self.during, threading.Event()

        def read_then_act(*args: Any, **kwargs: Any):
            try:
                return original(*args, **kwargs)
            finally:
                if not started.is_set():
                    started.set()
                    threading.Thread(target=work, daemon=True, name="phd-test-kafka-activity").start()

        mp.setattr(_offsets, "read_snapshot", read_then_act)

    def _close(self) -> None:
        while self.cleanups:
            self.cleanups.pop()()
        servers_ = [self.proxy, self.capture_service]
        if self.served is not None:
            servers_ += [self.served.web, self.served.plugin]
        for server in servers_:
            if server is not None:  # a FakeServer takes half a second to stop polling: not worth waiting for
                threading.Thread(target=server.close, daemon=True, name="phd-test-close").start()
        self.proxy = self.capture_service = None

    def close(self) -> None:
        if self.kafka is not None:
            self.kafka.close()
        if self.redis is not None:  # a Redis of the scenario's own
            self.redis.stop()


# --- running many: build all, then run all (a backlog built first has aged by its turn); each run once --------

_runs: dict[str, CliResult] = {}


def run_all(plan: list[tuple[str, Callable[[], Deployment], tuple[str, ...]]], out: Path) -> dict[str, CliResult]:
    """Run each (key, make, flags) of `plan` once per session: the deployments not run yet are built first, then run
    in order, reports in out/<key>. A key already run (by another module) is not run again: the doctor only reads."""
    built: list[tuple[str, Deployment, tuple[str, ...]]] = []
    try:
        for key, make, flags in plan:
            if key not in _runs and key not in {k for k, _, _ in built}:
                built.append((key, make(), flags))
        for key, d, flags in built:
            _runs[key] = d.run(out / key, *flags)
    finally:
        for _, d, _ in built:
            d.close()
    return {key: _runs[key] for key, _, _ in plan}


_POSTHOG_ENV = ("CLICKHOUSE_", "KAFKA_", "REDIS_", "CDP_", "POSTHOG_", "DATABASE_URL", "SITE_URL", "COOKIELESS_")


def build(
    stack: Stack,
    name: str,
    generation: str = "2023",
    *,
    traffic: str = "healthy",
    postgres: Postgres | None | str = "",
    kafka: bool = True,
    clickhouse: ClickHouse | None | bool = True,
    shared: bool = False,
) -> Deployment:
    """A healthy deployment of `generation` named `name` (ClickHouse database phd_whole_<name>, Kafka prefix
    <name>_). `traffic`: "healthy" (an event a minute for a week, the newest 30 s ago), "stalled" (ten an hour,
    then nothing for 3 h: tests/clickhouse_generations.py) or "none" (the scenario plants its own).

    `shared=True` reuses the generation's one healthy ClickHouse database and Kafka prefix of the session (the
    doctor only reads them): for scenarios that break neither."""
    gen = next(g for g in generations.GENERATIONS if g.key == generation)
    if shared:
        assert traffic == "healthy" and clickhouse is True and kafka, "only a healthy data side is shared"
        ch, prefix = _shared_data_side(stack, generation)
        pg = metadata_database(stack.postgres, generation, postgres) if isinstance(postgres, str) else postgres
        return Deployment(name, gen, stack, ch, pg, Kafka(stack.kafka, prefix))
    ch = clickhouse if isinstance(clickhouse, ClickHouse) else None  # given: its schema and traffic are planted
    if clickhouse is True:
        ch = _clickhouse(stack, f"phd_whole_{name}", generation, traffic)
    pg = metadata_database(stack.postgres, generation, postgres) if isinstance(postgres, str) else postgres
    broker = _kafka(stack, f"{name}_", generation) if kafka else None
    return Deployment(name, gen, stack, ch, pg, broker)


def _clickhouse(stack: Stack, database: str, generation: str, traffic: str) -> ClickHouse:
    ch = server_deployment(stack.clickhouse, database)
    chgen.create(ch, generation)
    if traffic == "healthy":
        chgen.plant_healthy_traffic(ch, generation)
    elif traffic == "stalled":
        chgen.plant_stalled_traffic(ch, generation)
    chgen.plant_benign_warnings(ch, generation)
    return ch


def _kafka(stack: Stack, prefix: str, generation: str) -> Kafka:
    """The generation's topics under `prefix`, each carrying messages, every group committed at their end."""
    broker = Kafka(stack.kafka, prefix)
    layout = KAFKA_LAYOUTS[generation]
    for topic, partitions in layout.topics.items():
        broker.topic(topic, partitions, MESSAGES if topic in layout.carried else 0)
    for group, topics in layout.groups.items():
        broker.commit(group, {(t, p): MESSAGES for t in topics for p in range(layout.topics[t])})
    return broker


_shared: dict[tuple[str, str], tuple[ClickHouse, str]] = {}


def _shared_data_side(stack: Stack, generation: str) -> tuple[ClickHouse, str]:
    with _session_lock:
        key = (stack.clickhouse.url, generation)
        if key not in _shared:
            prefix = f"shared_{generation}_"
            _kafka(stack, prefix, generation).close()
            _shared[key] = (_clickhouse(stack, f"phd_whole_shared_{generation}", generation, "healthy"), prefix)
        return _shared[key]


# --- the breaks every generation can have (the generation matrix and the scenarios share them) -------------


def plugin_server_down(d: Deployment) -> Deployment:
    """The plugin server is not running: no HTTP server answers (2023+), its heartbeat expired (until 2024), its
    consumer group has no member while capture keeps writing. Build it with traffic="stalled" (nothing new in
    ClickHouse for 3 h)."""
    d.state = "plugin_down"
    d.backlog(d.layout.ingestion_group)
    return d


def dead_lettered(d: Deployment) -> Deployment:
    """Events fail in the ingestion pipeline and are dead-lettered where the generation sends them: the ClickHouse
    table (2021: capture and plugin server rows; 2023), or the Kafka topic events_plugin_ingestion_dlq with a
    `pipeline_step_dlq` ingestion warning per event (2025+); the plugin server counts them per step (2023+)."""
    assert d.clickhouse is not None
    chgen.plant_dead_letters(d.clickhouse, d.key)
    if "dead_lettering" in d.generation.states:
        d.state = "dead_lettering"
    if d.key == "2025" and d.kafka is not None:
        for n in range(chgen.DEAD_LETTERED["2025"]):
            dead_letter_message(d.kafka, n, "processPersonsStep", "deadlock detected")
    return d


def ingestion_stalled(d: Deployment) -> Deployment:
    """The ingestion workers stopped consuming while their process runs and answers: the consumer group has no
    member, capture keeps writing to events_plugin_ingestion. Build it with traffic="stalled" (nothing new in
    ClickHouse for 3 h)."""
    d.backlog(d.layout.ingestion_group)
    return d


def dead_letter_message(kafka: Kafka, n: int, step: str, reason: str) -> None:
    """One event the 2025+ pipeline gave up on, as sendMessageToDLQ writes it to events_plugin_ingestion_dlq
    (nodejs/src/worker/ingestion/pipeline-helpers.ts @ b3cd2b3): the capture message with dlq_* headers."""
    import json

    data = json.dumps({"event": "$pageview", "distinct_id": f"user-{n}", "properties": {"$browser": "Firefox"}})
    value = json.dumps(
        {"uuid": f"0190-{n}", "distinct_id": f"user-{n}", "ip": "", "team_id": 2, "now": "", "data": data}
    ).encode()
    headers = [
        ("event", b"$pageview"),
        ("team_id", b"2"),
        ("dlq_reason", reason.encode()),
        ("dlq_step", step.encode()),
        ("dlq_timestamp", time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()).encode()),
        ("dlq_topic", kafka.t("events_plugin_ingestion").encode()),
        ("dlq_partition", b"0"),
        ("dlq_offset", str(n).encode()),
    ]
    kafka.seeder.produce(kafka.t("events_plugin_ingestion_dlq"), 0, value, headers=headers)


# --- a ClickHouse whose tables are replicated through ZooKeeper ---------------------------------------------

_CH_ZOOKEEPER = """\
<yandex>
  <zookeeper>
    <node><host>127.0.0.1</host><port>{port}</port></node>
    <session_timeout_ms>1500</session_timeout_ms>
    <operation_timeout_ms>1000</operation_timeout_ms>
  </zookeeper>
</yandex>
"""


class ReplicatedClickHouse:
    """Debian's ClickHouse 18.16 with PostHog's `<zookeeper>` section (a short session timeout, so a lost ZooKeeper
    shows within seconds), on free ports."""

    def __init__(self, zookeeper_port: int) -> None:
        self.binary = servers.find_binary(
            "clickhouse-server", ("/usr/bin/clickhouse-server", "/usr/sbin/clickhouse-server")
        )
        self.folder = Path(tempfile.mkdtemp(prefix="phd-clickhouse-replicated-"))
        for sub in ("log", "data", "tmp", "user_files", "format_schemas", "config.d"):
            (self.folder / sub).mkdir()
        self.tcp, http = servers.free_port(), servers.free_port()
        config = servers._CH_CONFIG.format(d=self.folder, tcp=self.tcp, http=http)
        interserver = f"  <interserver_http_port>{servers.free_port()}</interserver_http_port>\n</yandex>"
        (self.folder / "config.xml").write_text(config.replace("</yandex>", interserver))
        (self.folder / "users.xml").write_text(servers._CH_USERS.format(password=servers.CH_PASSWORD))
        self.proc: subprocess.Popen | None = None
        self.start(zookeeper_port)

    def start(self, zookeeper_port: int) -> None:
        self.stop()
        (self.folder / "config.d" / "zookeeper.xml").write_text(_CH_ZOOKEEPER.format(port=zookeeper_port))
        with open(self.folder / "log" / "stdout.log", "a") as out:
            self.proc = subprocess.Popen(
                [self.binary, f"--config-file={self.folder / 'config.xml'}"],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                start_new_session=True,
            )
        servers.wait_for_port(self.tcp, 30, self.proc, self.folder / "log" / "error.log")
        servers._wait_clickhouse_ready(self.tcp)

    @property
    def server(self) -> servers.Server:
        return servers.Server(
            "clickhouse",
            f"clickhouse://doctor:{servers.CH_PASSWORD}@127.0.0.1:{self.tcp}/posthog",
            port=self.tcp,
            admin_url=f"clickhouse://default@127.0.0.1:{self.tcp}/default",
        )

    def stop(self) -> None:
        if self.proc is not None:
            servers._kill(self.proc)
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class Forwarder:
    """A TCP forwarder between ClickHouse and its ZooKeeper: closed, it cuts the network path (every connection
    through it, and new ones refused) while ZooKeeper itself keeps answering whoever reaches it directly."""

    def __init__(self, target_port: int) -> None:
        import socket

        self.target = target_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[Any] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True, name="phd-test-forwarder").start()

    def _accept(self) -> None:
        import socket

        while not self.closed:
            try:
                client, _ = self.sock.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                return
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: Any, sink: Any) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.close()

    def close(self) -> None:
        import socket

        self.closed = True
        with contextlib.suppress(OSError):  # wakes the accepting thread: nothing is accepted any more
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for conn in self.conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass


def replicated_schema(ch: ClickHouse, generation: str) -> None:
    """The generation's schema with its data tables replicated as PostHog renders them on a cluster
    (ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/posthog.<table>', '{replica}', ...)), shard and
    replica spelled out (this server has no macros)."""
    for statement in chgen.schema(ch, generation):
        for engine in ("ReplacingMergeTree(", "MergeTree("):
            if f"ENGINE = {engine}" in statement:
                table = statement.split()[2]
                path = f"'/clickhouse/tables/noshard/{ch.database}.{table}', 'r1'"
                args = statement.split(f"ENGINE = {engine}", 1)[1]
                inner = "" if args.startswith(")") else ", "
                statement = statement.replace(f"ENGINE = {engine}", f"ENGINE = Replicated{engine}{path}{inner}", 1)
                break
        ch.execute(statement)


def wait_until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    stop_at = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > stop_at:
            raise AssertionError(f"{what} did not happen within {seconds:.0f} s")
        time.sleep(0.1)


# --- reading a run --------------------------------------------------------------------------------------

RED = ("fail", "warn", "error")


def red(result: CliResult) -> dict[str, str]:
    """Every check that is neither ok nor skipped: id -> "status: summary"."""
    return {c["id"]: f"{c['status']}: {c['summary']}" for c in result.report["checks"] if c["status"] in RED}


def statuses(result: CliResult) -> dict[str, str]:
    return {c["id"]: c["status"] for c in result.report["checks"]}


def head(result: CliResult, lines: int = 5) -> list[str]:
    """The first lines of report.md, as a support engineer reads them in the ticket."""
    return result.text("md").splitlines()[:lines]


def nothing_listens() -> str:
    return f"127.0.0.1:{closed_port()}"
