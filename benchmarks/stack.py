"""Every component of a PostHog deployment the doctor reads, served on this machine for the benchmark.

- ClickHouse 18.16, Postgres 15 and Redis 7: real servers from the local binaries (tests/servers.py), or the
  ones POSTHOG_DOCTOR_TEST_*_URL name;
- Kafka: a real Kafka-protocol broker, tansu (tests/kafka_support.py), with PostHog's topics and consumer
  groups, every group caught up, and a few dead-lettered events on events_plugin_ingestion_dlq in PostHog's
  header format;
- ZooKeeper: a real Apache ZooKeeper 3.8 (tests/zookeeper_support.py), with the four-letter words PostHog's
  hobby stack allows plus `mntr` and `ruok`; skipped, and said, where Java or its jar is missing;
- the web app and the plugin server: real local HTTP servers (tests/http_server.py) answering in PostHog
  2025's exact formats (tests/generations.py: `/_livez`, `/_readyz`, `/_health`, `/_preflight/`,
  `/api/instance_status`, the plugin server's `/_health`, `/_ready`, `/_metrics`), its Redis keys planted
  in the real Redis, and PostHog's own environment (REDIS_URL, CDP_*) handed to the doctor as a customer's
  `doctor.env` would;
- capture: the proxy SDKs send to, answering as Rust capture does, the capture service's own health, and
  the project token lookups (tests/capture_support.py).

Nothing is switched off: `Stack.doctor_args()` names every component. The only part the doctor reads that
no server here can play is ClickHouse's own ZooKeeper connection (the 18.16 server is started without one;
the ZooKeeper check says so, as it would on a single-node install without replication).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

API_KEY = "phx_BenchmarkPersonalKey0123456789abcdef"
KAFKA_PARTITIONS = {
    "events_plugin_ingestion": 8,
    "clickhouse_events_json": 8,
    "events_plugin_ingestion_overflow": 2,
    "events_plugin_ingestion_historical": 2,
    "events_plugin_ingestion_dlq": 2,
    "clickhouse_ingestion_warnings": 1,
    "clickhouse_person": 2,
    "clickhouse_person_distinct_id": 2,
    "clickhouse_groups": 1,
    "log_entries": 1,
    "clickhouse_app_metrics2": 1,
}
KAFKA_GROUPS = {  # group -> the topics it reads (all caught up: a healthy pipeline)
    "events-ingestion-consumer": ("events_plugin_ingestion",),
    "clickhouse-ingestion-overflow": ("events_plugin_ingestion_overflow",),
    "clickhouse-ingestion-historical": ("events_plugin_ingestion_historical",),
    "group1": ("clickhouse_events_json", "clickhouse_person", "clickhouse_person_distinct_id", "clickhouse_groups"),
    "group1_recent": ("clickhouse_events_json",),
}
KAFKA_MESSAGES = 12  # per partition
KAFKA_DEAD_LETTERS = 24


@dataclass
class Stack:
    servers: dict[str, Any] = field(default_factory=dict)  # kind -> tests.servers.Server
    services: Any = None  # tests.generations.Deployment: the web app and the plugin server
    http: list[Any] = field(default_factory=list)  # FakeServers to close
    capture_url: str = ""
    capture_service_url: str = ""
    off: dict[str, str] = field(default_factory=dict)  # component -> why it could not be served

    def doctor_args(self, clickhouse_url: str) -> list[str]:
        """The `run` flags naming every component (ClickHouse's database is the benchmark's)."""
        s = self.servers
        args = [
            "--clickhouse-url",
            clickhouse_url,
            "--postgres-url",
            s["postgres"].url,
            "--posthog-url",
            self.services.web.url,
            "--capture-url",
            self.capture_url,
            "--kafka-url",
            s["kafka"].url if "kafka" in s else "off",
            "--zookeeper-url",
            s["zookeeper"].url if "zookeeper" in s else "off",
            "--project-token",
            _token(),
            "--set",
            f"capture.service.service_url={self.capture_service_url}",
        ]
        return args

    def doctor_env(self) -> dict[str, str]:
        """PostHog's own settings, as `doctor.env` hands them over (REDIS_URL, CDP_API_URL, CDP_REDIS_*), and the
        personal API key for the System Status page."""
        return dict(self.services.env, POSTHOG_PERSONAL_API_KEY=API_KEY)

    def refresh(self) -> None:
        """PostHog's live state as of now: its processes' Redis keys (heartbeats age, pings expire) and the
        plugin server's and web app's answers (uptime, newest event processed), as a running PostHog keeps them."""
        from tests import generations

        d = self.services
        now = time.time()
        for path, answer in d.generation.web(d.state, now).items():
            generations._route(d.web, path, answer)
        if d.plugin is not None:
            for path, answer in d.generation.plugin(d.state, now).items():
                generations._route(d.plugin, path, answer)
        generations._plant(self.servers["redis"], generations.MAIN_DB, d.generation.redis(d.state, now))
        other = d.generation.other_redis(now) if d.generation.other_redis else {}
        generations._plant(self.servers["redis"], generations.OTHER_DB, other)

    def describe(self) -> str:
        s = self.servers
        parts = [f"{k} {v.origin}" for k, v in s.items()]
        parts.append("web app and plugin server: PostHog 2025 formats on local HTTP servers")
        parts.append("capture: Rust capture formats on a local HTTP server, with the capture service's health")
        if self.off:
            parts += [f"{k} off ({why})" for k, why in self.off.items()]
        return "; ".join(parts)

    def stop(self) -> None:
        from tests import generations

        if self.services is not None:
            generations.close(self.services)
            self.services = None
        for server in self.http:
            server.close()
        self.http.clear()
        for server in self.servers.values():
            server.stop()
        self.servers.clear()


def _token() -> str:
    from tests.capture_support import TOKEN

    return TOKEN


def start(log=print) -> Stack:
    """Start and seed every component except the PostHog data (benchmarks/data.py fills ClickHouse and Postgres)."""
    from tests import generations
    from tests.servers import Unavailable, provide

    stack = Stack()
    try:
        for kind in ("clickhouse", "postgres", "redis"):
            started = time.monotonic()
            stack.servers[kind] = provide(kind)
            log(f"- {kind}: {stack.servers[kind].origin} server ready in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        try:
            from tests.kafka_support import provide_kafka

            stack.servers["kafka"] = provide_kafka()
            seed_kafka(stack.servers["kafka"].admin_url)
            log(f"- kafka: tansu broker ready and seeded in {time.monotonic() - started:.1f} s")
        except Unavailable as exc:
            stack.off["kafka"] = str(exc)
            log(f"- kafka: off ({exc})")
        started = time.monotonic()
        try:
            from tests.zookeeper_support import start_zookeeper

            stack.servers["zookeeper"] = start_zookeeper("srvr,mntr,ruok")
            log(f"- zookeeper: ready in {time.monotonic() - started:.1f} s")
        except Unavailable as exc:
            stack.off["zookeeper"] = str(exc)
            log(f"- zookeeper: off ({exc})")
        stack.services = generations.serve(generations.GEN_2025, "healthy", stack.servers["redis"])
        stack.capture_url, stack.capture_service_url = _serve_capture(stack)
        log("- web app, plugin server, capture: local HTTP servers in PostHog's formats")
    except BaseException:
        stack.stop()
        raise
    return stack


def _serve_capture(stack: Stack) -> tuple[str, str]:
    from tests import capture_support as cs
    from tests.http_server import FakeServer

    proxy, service = FakeServer(), FakeServer()
    stack.http += [proxy, service]
    cs.rust_capture(proxy)
    cs.remote_config(proxy, cs.TOKEN, known=True)
    cs.early_access(proxy, known=True)
    cs.capture_service(service, live=True)
    return proxy.url, service.url


def seed_kafka(url: str) -> None:
    """PostHog's topics, each partition holding a few messages, every group caught up; a few dead letters."""
    from tests.kafka_support import Seeder

    seeder = Seeder(url)
    try:
        seeder.create_topics(KAFKA_PARTITIONS)
        for topic, partitions in KAFKA_PARTITIONS.items():
            if topic == "events_plugin_ingestion_dlq":
                continue
            for p in range(partitions):
                seeder.produce_many(topic, p, KAFKA_MESSAGES, value=b'{"event": "$pageview"}')
        for n in range(KAFKA_DEAD_LETTERS):
            _dead_letter(seeder, n)
        for group, topics in KAFKA_GROUPS.items():
            seeder.set_group_offsets(
                group, {(t, p): KAFKA_MESSAGES for t in topics for p in range(KAFKA_PARTITIONS[t])}
            )
    finally:
        seeder.close()


def _dead_letter(seeder, n: int) -> None:
    """A message of events_plugin_ingestion_dlq as sendMessageToDLQ writes it (pipeline-helpers.ts @ b3cd2b3):
    the captured message as it was, with the dlq_* headers."""
    step, reason = (
        ("processPersonsStep", f"deadlock detected (process {4000 + n})")
        if n % 3
        else ("prepareEventStep", f"Event ingestion failed. Error: timeout of {5000 + n}ms exceeded")
    )
    body = {
        "uuid": f"0190b7c3-{n:04x}-7000-8000-00000000{n:04x}",
        "distinct_id": f"user-{n}",
        "ip": "203.0.113.7",
        "site_url": "https://app.example.com",
        "data": json.dumps({"event": "$pageview", "properties": {"$current_url": "https://app.example.com/"}}),
        "team_id": 1,
        "now": "2025-06-02T10:15:30.000Z",
        "token": _token(),
    }
    headers = [
        ("token", _token().encode()),
        ("distinct_id", f"user-{n}".encode()),
        ("event", b"$pageview"),
        ("team_id", b"1"),
        ("dlq_reason", reason.encode()),
        ("dlq_step", step.encode()),
        ("dlq_timestamp", time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()).encode()),
        ("dlq_topic", b"events_plugin_ingestion"),
        ("dlq_partition", b"0"),
        ("dlq_offset", str(n).encode()),
    ]
    seeder.produce("events_plugin_ingestion_dlq", n % 2, json.dumps(body).encode(), headers=headers)


if __name__ == "__main__":  # start everything and keep it up, for poking at by hand
    import signal

    s = start()
    print(json.dumps({"args": s.doctor_args("<clickhouse url>"), "env": s.doctor_env()}, indent=1))
    try:
        signal.pause()
    finally:
        s.stop()
