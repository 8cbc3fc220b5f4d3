"""The components a deployment is made of, where they live by default, and how to find them.

This table is the only deployment knowledge the engine holds. Defaults follow PostHog's hobby
docker-compose file (service names `clickhouse`, `db`, `redis`, `web`, `plugins`, database `posthog`),
so `docker run --network <posthog network> posthog-doctor` needs no flags. A default host that does
not resolve falls back to the next one, ending at localhost. PostHog's own environment variables are
read as fallbacks so a customer can reuse their PostHog env file or their Helm chart's secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .endpoints import build_url


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # connector kind: clickhouse, postgres, redis, http, kafka, host, file
    label: str  # how a report names it
    flag: str = ""  # command-line flag holding its URL
    default_url: str = ""
    fallback_hosts: tuple[str, ...] = ()
    probe_paths: tuple[str, ...] = ()  # http: paths tried in order to prove it answers

    @property
    def config_key(self) -> str:
        """The config-file key, named after the flag: --posthog-url -> posthog_url."""
        return self.flag.removeprefix("--").replace("-", "_")

    @property
    def env(self) -> str:
        return "POSTHOG_DOCTOR_" + self.config_key.upper()


COMPONENTS: dict[str, Component] = {
    c.name: c
    for c in (
        Component(
            "clickhouse",
            "clickhouse",
            "ClickHouse",
            "--clickhouse-url",
            "clickhouse://default@clickhouse:9000/posthog",
            ("localhost",),
        ),
        Component(
            "postgres",
            "postgres",
            "Postgres",
            "--postgres-url",
            "postgres://posthog:posthog@db:5432/posthog",
            ("localhost",),
        ),
        Component("redis", "redis", "Redis", "--redis-url", "redis://redis:6379/0", ("redis7", "localhost")),
        Component(
            "posthog_api",
            "http",
            "PostHog web app",
            "--posthog-url",
            "http://web:8000",
            ("localhost",),
            ("/_livez", "/_health"),
        ),
        Component(
            "plugin_server",
            "http",
            "plugin server",
            "--plugin-server-url",
            "http://plugins:6738",
            ("localhost",),
            ("/_health",),
        ),
        Component("kafka", "kafka", "Kafka", "--kafka-url", "kafka://kafka:9092", ("localhost",)),
        Component("status_snapshot", "file", "saved System Status page"),
        Component("host", "host", "machine the doctor runs on"),
    )
}

URL_COMPONENTS = tuple(c for c in COMPONENTS.values() if c.flag)

# Values meaning "this deployment has no such component: do not try it".
DISABLED = ("off", "none", "disabled", "-")


def posthog_env_url(component: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """A URL for `component` built from PostHog's own environment variables, with the variable named.

    Returns (url, source) or None. Covers the hobby env file and the Helm chart's variables.
    """
    get = lambda name: (env.get(name) or "").strip()  # noqa: E731 - a tiny local accessor
    if component == "clickhouse":
        names = ("CLICKHOUSE_HOST", "CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD", "CLICKHOUSE_DATABASE")
        if not any(get(n) for n in names):
            return None
        params = {}
        if get("CLICKHOUSE_SECURE"):
            params["secure"] = get("CLICKHOUSE_SECURE").lower()
        if get("CLICKHOUSE_VERIFY"):
            params["verify"] = get("CLICKHOUSE_VERIFY").lower()
        if get("CLICKHOUSE_CA"):
            params["ca"] = get("CLICKHOUSE_CA")
        url = build_url(
            "clickhouse",
            get("CLICKHOUSE_HOST") or "clickhouse",
            get("CLICKHOUSE_TCP_PORT") or None,
            get("CLICKHOUSE_USER") or "default",
            get("CLICKHOUSE_PASSWORD"),
            get("CLICKHOUSE_DATABASE") or "posthog",
            params,
        )
        return url, "env:" + "/".join(n for n in names if get(n))
    if component == "postgres":
        if get("DATABASE_URL"):
            return get("DATABASE_URL"), "env:DATABASE_URL"
        names = ("POSTHOG_POSTGRES_HOST", "POSTHOG_DB_NAME", "POSTHOG_DB_USER", "POSTHOG_DB_PASSWORD")
        if not any(get(n) for n in names):
            return None
        url = build_url(
            "postgres",
            get("POSTHOG_POSTGRES_HOST") or "db",
            get("POSTHOG_POSTGRES_PORT") or None,
            get("POSTHOG_DB_USER") or "postgres",
            get("POSTHOG_DB_PASSWORD"),
            get("POSTHOG_DB_NAME") or "posthog",
        )
        return url, "env:" + "/".join(n for n in names if get(n))
    if component == "redis":
        if get("REDIS_URL"):
            return get("REDIS_URL"), "env:REDIS_URL"
        if get("POSTHOG_REDIS_HOST"):
            url = build_url(
                "redis", get("POSTHOG_REDIS_HOST"), get("POSTHOG_REDIS_PORT") or None, "", get("POSTHOG_REDIS_PASSWORD")
            )
            return url, "env:POSTHOG_REDIS_HOST"
        return None
    if component == "posthog_api" and get("SITE_URL"):
        return get("SITE_URL"), "env:SITE_URL"
    if component == "plugin_server" and get("CDP_API_URL"):
        return get("CDP_API_URL"), "env:CDP_API_URL"
    if component == "kafka":
        from .connectors.kafka.target import kafka_env_url  # KAFKA_HOSTS / KAFKA_URL / KAFKA_PREFIX / SASL / TLS

        return kafka_env_url(env)
    return None
