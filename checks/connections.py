"""Can the doctor reach each component of the deployment? One check per component.

Each reads the probe the engine made before the checks started (reachable, version, latency) and turns
it into a verdict with advice on what to try next, chosen by what went wrong.
"""

from __future__ import annotations

from typing import ClassVar

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    ErrorKind,
    Item,
    Option,
    Outcome,
    ProbeResult,
    Skip,
    Values,
    fail,
    ok,
    warn,
)

from .common import docs
from .common.posthog_redis import fresh_plugin_ping

# What to try, by component and by the kind of failure the probe met ("*" matches any kind).
ADVICE = {
    "clickhouse": {
        "auth": "Use the user and password PostHog itself uses: CLICKHOUSE_USER / CLICKHOUSE_PASSWORD from its "
        "env file (hobby) or the chart's ClickHouse secret (Helm).",
        "missing_database": "PostHog's tables live in the database named by CLICKHOUSE_DATABASE (hobby and Helm: "
        "'posthog'); put it in the URL: clickhouse://USER:PASSWORD@HOST:9000/posthog.",
        "tls": "Match the server: add ?secure=true for the TLS port (9440) or drop it for the plain port (9000).",
        "protocol": "The port answered something other than ClickHouse's native protocol: use the native port "
        "(9000, or 9440 with ?secure=true), not the HTTP port 8123.",
        "*": "Check that ClickHouse is running (hobby: 'docker compose ps clickhouse'; Helm: "
        "'kubectl get pods -n posthog') and that the doctor runs on the same network, or pass "
        "--clickhouse-url clickhouse://USER:PASSWORD@HOST:9000/posthog.",
    },
    "postgres": {
        "auth": "Use PostHog's own database credentials: DATABASE_URL from its env file (hobby) or "
        "POSTHOG_DB_USER / POSTHOG_DB_PASSWORD from the chart (Helm).",
        "missing_database": "Name PostHog's database in the URL (hobby and Helm: 'posthog').",
        "tls": "Match the server's TLS setting with ?sslmode=require or ?sslmode=disable.",
        "*": "Check that Postgres is running (hobby service 'db'; Helm 'posthog-posthog-postgresql' or "
        "pgbouncer on 6543) and reachable, or pass --postgres-url postgres://USER:PASSWORD@HOST:5432/posthog.",
    },
    "redis": {
        "auth": "Pass Redis's password in the URL: redis://:PASSWORD@HOST:6379/0.",
        "*": "Check that Redis is running (hobby service 'redis' or 'redis7'; Helm "
        "'posthog-posthog-redis-master') and reachable, or pass --redis-url redis://HOST:6379/0.",
    },
    "posthog_api": {
        "*": "Check that the web container or pod is running (hobby: 'docker compose ps web'; Helm: "
        "'kubectl get pods -n posthog'), or pass --posthog-url with the address PostHog answers on.",
    },
    "kafka": {
        "auth": "Use the SASL user, password and mechanism PostHog itself uses (KAFKA_SASL_USER, KAFKA_SASL_PASSWORD, "
        "KAFKA_SASL_MECHANISM, KAFKA_SECURITY_PROTOCOL): kafka://USER:PASSWORD@HOST:9092?security_protocol=SASL_SSL"
        "&sasl_mechanism=SCRAM-SHA-512.",
        "tls": "Match the broker: security_protocol=SSL (or SASL_SSL) for a TLS listener, with ssl_cafile=PATH or "
        "ssl_verify=false for a private CA; PLAINTEXT for a plain one.",
        "protocol": "The port answered something other than Kafka: use the broker's client port (9092 by default).",
        "*": "Check that Kafka is running (hobby service 'kafka'; Helm 'posthog-posthog-kafka') and reachable, or pass "
        "--kafka-url kafka://HOST:9092 (several brokers: kafka://HOST1:9092,HOST2:9092; PostHog's KAFKA_HOSTS and "
        "KAFKA_PREFIX are read too).",
    },
    "plugin_server": {
        "*": "Check that the plugin server is running (hobby service 'plugins'; Helm deployment "
        "'posthog-plugins', or 'posthog-plugins-ingestion' when ingestion runs on its own); restarting it is safe. "
        "Or pass --plugin-server-url http://HOST:6738 (several are comma-separated).",
    },
}


ABSENT = (ErrorKind.REFUSED, ErrorKind.DNS)  # nothing there, as opposed to something there that fails


class _Connection(Check):
    """Base for the connection checks: turn the component's probe into a verdict."""

    component: ClassVar[str] = ""
    category = "Deployments/Setup"
    tags = ("connection",)
    timeout = 5.0
    options = {"slow_ms": Option(1000.0, "warn when the component takes longer than this to answer (ms)")}
    # Where set: how to name the component's address. Not found at its default addresses, it is then
    # skipped (not looked at) instead of failed.
    absent_unless_named: ClassVar[str] = ""

    def run(self, ctx: Context) -> Outcome:
        probe = ctx.probe(self.component)
        if probe.error_kind in (ErrorKind.DISABLED, ErrorKind.NOT_CONFIGURED):
            raise Skip(probe.summary)
        evidence = [
            Values(
                "Connection",
                [
                    Item("Endpoint", probe.endpoint or "—", "endpoint"),
                    Item("Version", probe.version or "—", "version"),
                    Item("Latency (ms)", probe.latency_ms, "latency_ms"),
                ]
                + [
                    Item(k.replace("_", " "), v, k) for k, v in probe.details.items() if not isinstance(v, (list, dict))
                ],
            )
        ]
        if not probe.reachable:
            if self.absent_unless_named and not ctx.configured(self.component) and probe.error_kind in ABSENT:
                # Only the hobby default was tried: a deployment may simply not expose it to the doctor.
                raise Skip(
                    f"no {self.title.removesuffix(' connection')} at the default addresses ({probe.summary}); "
                    f"give its address ({self.absent_unless_named}) to check it"
                )
            advice = ADVICE[self.component]
            said = advice.get(probe.error_kind.value if probe.error_kind else "*", advice["*"])
            return fail(
                f"cannot reach {self.title.removesuffix(' connection')}: {probe.summary}",
                evidence=evidence,
                advice=[Advice(said, links=[docs.DEPLOYMENT, docs.ENV_VARS])],
            )
        verdict = self.judge(probe, evidence)
        if verdict is not None:
            return verdict
        if probe.latency_ms is not None and probe.latency_ms > ctx.options["slow_ms"]:
            return warn(
                f"{probe.summary}: slower than {ctx.options['slow_ms']:.0f} ms",
                evidence=evidence,
                advice=[
                    Advice(
                        "A slow answer to a trivial request points at an overloaded server or a "
                        "slow network path between the doctor and the component."
                    )
                ],
            )
        return ok(probe.summary, evidence=evidence)

    def judge(self, probe: ProbeResult, evidence: list) -> Outcome | None:
        """Components that answer with a health status override this; None means 'reachable is enough'."""
        return None


class ClickHouseConnection(_Connection):
    """Connects to ClickHouse over the native protocol and reads its version."""

    id = "clickhouse.connection"
    title = "ClickHouse connection"
    component = "clickhouse"
    uses = ("clickhouse",)


class PostgresConnection(_Connection):
    """Connects to Postgres (read-only) and reads its version and recovery state."""

    id = "postgres.connection"
    title = "Postgres connection"
    component = "postgres"
    uses = ("postgres",)


class RedisConnection(_Connection):
    """Sends PING and INFO server to Redis."""

    id = "redis.connection"
    title = "Redis connection"
    component = "redis"
    uses = ("redis",)


class _HttpConnection(_Connection):
    """An HTTP component: reachable is not enough, its health endpoint must answer 2xx."""

    def judge(self, probe: ProbeResult, evidence: list) -> Outcome | None:
        responses = probe.details.get("responses") or []
        if not responses:
            return None
        last = responses[-1]
        status, path, body = last["status"], last["path"], last["body"]
        where = self.title.removesuffix(" connection")
        said = f": {body[:80]!r}" if body else ""  # the health checks quote and explain the body in full
        if 200 <= status < 300:
            return None
        if status >= 500:
            return fail(
                f"{where} answers, but {path} reports HTTP {status}{said}",
                evidence=evidence,
                advice=[Advice(self.unhealthy_advice, links=[docs.DEPLOYMENT])],
            )
        return warn(
            f"{where} answered {path} with HTTP {status}: is this PostHog's address?",
            evidence=evidence,
            advice=[Advice(ADVICE[self.component]["*"])],
        )

    unhealthy_advice: ClassVar[str] = ""


class PostHogConnection(_HttpConnection):
    """Calls the web app's liveness endpoints (`/_livez`, or `/_health` on older versions)."""

    id = "posthog.connection"
    title = "PostHog web app connection"
    component = "posthog_api"
    uses = ("posthog_api",)
    unhealthy_advice = (
        "The web app is up but unhealthy. 'Migrations are not up to date' means migrations are "
        "pending: look at the web container's logs (hobby: 'docker compose logs web') or the "
        "migrate job (Helm), fix the failing migration, then restart."
    )


class PluginServerConnection(_HttpConnection):
    """Calls the plugin server's `/_health` on its HTTP port (6738 by default)."""

    id = "plugin_server.connection"
    title = "Plugin server connection"
    component = "plugin_server"
    uses = ("plugin_server", "redis")

    def run(self, ctx: Context) -> Outcome:
        # PostHog 1.31 and early 2022 plugin servers have no HTTP server: a refused port with a fresh Redis
        # heartbeat is one of them, alive (plugin-server/src/main/ of that time listens only for MMDB).
        probe = ctx.probe(self.component)
        if probe.error_kind == ErrorKind.REFUSED:
            age = fresh_plugin_ping(ctx)
            if age is not None:
                return ok(
                    f"no HTTP server at {probe.endpoint or 'the plugin server URL'}, but the plugin server's Redis "
                    f"heartbeat is {age:.0f} s old: an older plugin server without HTTP (PostHog 1.31, early 2022), "
                    "alive",
                    evidence=[Values("Connection", [Item("Endpoint", probe.endpoint or "—", "endpoint")])],
                )
        return super().run(ctx)

    unhealthy_advice = (
        "The plugin server reports itself unhealthy, so events are accepted but not ingested. "
        "Restart it (safe: hobby 'docker compose restart plugins'; Helm: scale "
        "posthog-plugins to 0 and back to 1) and check its logs."
    )


class KafkaConnection(_Connection):
    """Connects to Kafka (read-only: metadata only) and reads its brokers, controller and version."""

    id = "kafka.connection"
    title = "Kafka connection"
    component = "kafka"
    uses = ("kafka",)
    # Kafka is often not reachable from where a hero runs the doctor (a Helm cluster's internal service): with
    # no address given, nothing at kafka:9092 or localhost means "not looked at", not "Kafka is down".
    absent_unless_named = "--kafka-url, or KAFKA_HOSTS from PostHog's env"

    def judge(self, probe: ProbeResult, evidence: list) -> Outcome | None:
        if probe.details.get("controller_id") is None:
            return warn(
                f"{probe.summary}, but it reports no active controller",
                evidence=evidence,
                advice=[
                    Advice(
                        "Without a controller, partition leaders are not re-elected when a broker fails and topics "
                        "cannot be changed. Check the brokers' logs (and ZooKeeper or the KRaft controllers).",
                        links=[docs.KAFKA_RUNBOOK],
                    )
                ],
            )
        return None
