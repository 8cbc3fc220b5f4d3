"""The components a deployment is made of, where they live by default, and how to find them.

This table is the only deployment knowledge the engine holds. Defaults follow PostHog's hobby
docker-compose file (service names `clickhouse`, `db`, `redis`, `web`, `plugins`, `zookeeper`, `proxy`,
database `posthog`), so `docker run --network <posthog network> posthog-doctor` needs no flags. A default
host that does not resolve falls back to the next one, ending at localhost. PostHog's own environment
variables are read as fallbacks so a customer can reuse their PostHog env file or their Helm chart's secrets,
and a variable PostHog's env leaves out gets PostHog's own default (posthog/settings/data_stores.py), not the
hobby one: hobby and Helm set every one of them explicitly, other installs rely on PostHog's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .endpoints import build_url


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # connector kind: clickhouse, postgres, redis, http, kafka, zookeeper, host, file
    label: str  # how a report names it
    flag: str = ""  # command-line flag holding its URL
    default_url: str = ""
    fallback_hosts: tuple[str, ...] = ()
    probe_paths: tuple[str, ...] = ()  # http: paths tried in order to prove it answers
    # Several endpoints may play this component: a comma-separated list is accepted, and every default host
    # that resolves is probed (not only the first); localhost is tried only when none resolves.
    several: bool = False

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
        # Hobby runs `redis` and, since 2024, `redis7` too; which one Django and Celery use changed with the
        # version (docker-compose.hobby.yml @ 4ea531a: REDIS_URL=redis://redis; .env.services @ 728597e:
        # redis://redis7), so with no setting both are probed and the checks decide by PostHog's own keys.
        Component(
            "redis", "redis", "Redis", "--redis-url", "redis://redis:6379/0", ("redis7", "localhost"), several=True
        ),
        Component(
            "posthog_api",
            "http",
            "PostHog web app",
            "--posthog-url",
            "http://web:8000",
            ("localhost",),
            ("/_livez", "/_health"),
        ),
        # Ingestion may run in more than one service (PLUGIN_SERVER_MODE splits it: Helm's
        # posthog-plugins-ingestion, ...), so several URLs may be given. By default the hobby service
        # `plugins` (every compose file since 2021) and `ingestion-general` (reported for the newest hobby
        # stack by third-party write-ups; not seen in PostHog's own compose files) are tried.
        Component(
            "plugin_server",
            "http",
            "plugin server",
            "--plugin-server-url",
            "http://plugins:6738",
            ("ingestion-general", "localhost"),
            ("/_health",),
            several=True,
        ),
        # Hobby: service `zookeeper` (zookeeper:3.7.0, docker-compose.base.yml); Helm: the chart's
        # `posthog-posthog-zookeeper` service (charts-clickhouse values.yaml, kafka.externalZookeeper.servers).
        Component(
            "zookeeper",
            "zookeeper",
            "ZooKeeper",
            "--zookeeper-url",
            "zk://zookeeper:2181",
            ("posthog-posthog-zookeeper", "localhost"),
        ),
        # The public address SDKs send events to: hobby's Caddy (`proxy` since 2023, `caddy` before), which
        # routes /e, /batch, /capture and /i/v0 to the capture service and the rest to the web app.
        Component(
            "capture",
            "http",
            "capture endpoint",
            "--capture-url",
            "http://proxy:80",
            ("caddy", "localhost"),
            ("/e/",),
        ),
        Component("kafka", "kafka", "Kafka", "--kafka-url", "kafka://kafka:9092", ("localhost",)),
        Component("status_snapshot", "file", "saved System Status page"),
        Component("host", "host", "machine the doctor runs on"),
    )
}

URL_COMPONENTS = tuple(c for c in COMPONENTS.values() if c.flag)

# Values meaning "this deployment has no such component: do not try it".
DISABLED = ("off", "none", "disabled", "-")


# The plugin server's own Redis connections, each with its PostHog settings (nodejs/src/config/config.ts
# @ 2ab7f01 for names and defaults; the pools are built in nodejs/src/config/redis-pools.ts @ 3e3a834 and
# cdp-services.ts): role -> (host variable, port variable, default port, password variable, TLS variable,
# TLS default). Each falls back to REDIS_URL when its host variable is not set, so only a set one is a
# Redis of its own. `LOGS_REDIS_TLS` defaults to true in production (`isProdEnv()`), i.e. in PostHog's image.
REDIS_ROLES: dict[str, tuple[str, str, int, str, str, bool]] = {
    "ingestion": ("INGESTION_REDIS_HOST", "INGESTION_REDIS_PORT", 6379, "", "", False),
    "cdp": ("CDP_REDIS_HOST", "CDP_REDIS_PORT", 6479, "CDP_REDIS_PASSWORD", "", False),
    "cookieless": ("COOKIELESS_REDIS_HOST", "COOKIELESS_REDIS_PORT", 6379, "", "", False),
    "logs": ("LOGS_REDIS_HOST", "LOGS_REDIS_PORT", 6479, "LOGS_REDIS_PASSWORD", "LOGS_REDIS_TLS", True),
    "session recordings": (
        "POSTHOG_SESSION_RECORDING_REDIS_HOST",
        "POSTHOG_SESSION_RECORDING_REDIS_PORT",
        6379,
        "",
        "",
        False,
    ),
}
_YES = ("1", "true", "yes", "on")


def posthog_env_roles(component: str, env: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """Endpoints PostHog's settings give `component` for other purposes: [(role, url, source)].

    For Redis: each plugin-server Redis whose host variable is set, with its port, password and TLS mode
    as the plugin server would use them; and POSTHOG_REDIS_HOST when REDIS_URL is set too, since the plugin
    server prefers POSTHOG_REDIS_HOST where Django prefers REDIS_URL.
    """
    get = lambda name: (env.get(name) or "").strip() if name else ""  # noqa: E731 - a tiny local accessor
    if component != "redis":
        return []
    found: list[tuple[str, str, str]] = []
    if get("REDIS_URL") and get("POSTHOG_REDIS_HOST"):
        url = build_url(
            "redis", get("POSTHOG_REDIS_HOST"), get("POSTHOG_REDIS_PORT") or None, "", get("POSTHOG_REDIS_PASSWORD")
        )
        found.append(("plugin server", url, "env:POSTHOG_REDIS_HOST"))
    for role, (host_var, port_var, port, password_var, tls_var, tls_default) in REDIS_ROLES.items():
        host = get(host_var)
        if not host:
            continue
        tls = get(tls_var).lower() in _YES if get(tls_var) else tls_default
        if "://" in host:  # ioredis also takes a whole URL in the host setting
            found.append((role, host, f"env:{host_var}"))
            continue
        url = build_url("rediss" if tls else "redis", host, get(port_var) or port, "", get(password_var))
        found.append((role, url, f"env:{host_var}"))
    return found


def posthog_env_url(component: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """A URL for `component` built from PostHog's own environment variables, with the variable named.

    Returns (url, source) or None. Covers the hobby env file and the Helm chart's variables.
    """
    get = lambda name: (env.get(name) or "").strip()  # noqa: E731 - a tiny local accessor
    if component == "clickhouse":
        return _clickhouse_from_env(get)
    if component == "postgres":
        return _postgres_from_env(get)
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
    if component == "capture" and get("SITE_URL"):  # what PostHog tells SDKs to send to
        return get("SITE_URL"), "env:SITE_URL"
    if component == "plugin_server" and get("CDP_API_URL"):
        return get("CDP_API_URL"), "env:CDP_API_URL"
    if component == "kafka":
        from .connectors.kafka.target import kafka_env_url  # KAFKA_HOSTS / KAFKA_URL / KAFKA_PREFIX / SASL / TLS

        return kafka_env_url(env)
    return None


_TRUE = ("1", "true", "yes", "on", "y", "t")


def _clickhouse_from_env(get) -> tuple[str, str] | None:
    """PostHog's ClickHouse settings (posthog/settings/data_stores.py @ 691c39a, and the same in 2021): HOST
    defaults to "localhost", DATABASE to "default", and SECURE to true unless DEBUG or TEST is set, so a
    production PostHog without CLICKHOUSE_SECURE talks TLS (native port 9440)."""
    names = ("CLICKHOUSE_HOST", "CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD", "CLICKHOUSE_DATABASE")
    if not any(get(n) for n in names):
        return None
    defaulted = []
    secure = get("CLICKHOUSE_SECURE").lower()
    if not secure:
        development = any(get(flag).lower() in _TRUE for flag in ("DEBUG", "TEST"))
        secure = "false" if development else "true"
        defaulted.append(f"CLICKHOUSE_SECURE={secure}")
    params = {"secure": secure}
    if get("CLICKHOUSE_VERIFY"):
        params["verify"] = get("CLICKHOUSE_VERIFY").lower()
    if get("CLICKHOUSE_CA"):
        params["ca"] = get("CLICKHOUSE_CA")
    database = get("CLICKHOUSE_DATABASE")
    if not database:
        database = "default"
        defaulted.append("CLICKHOUSE_DATABASE=default")
    url = build_url(
        "clickhouse",
        get("CLICKHOUSE_HOST") or "localhost",
        get("CLICKHOUSE_TCP_PORT") or None,
        get("CLICKHOUSE_USER") or "default",
        get("CLICKHOUSE_PASSWORD"),
        database,
        params,
    )
    return url, _source(get, names, defaulted)


# PostHog's Postgres SSL settings and the libpq parameters they become (data_stores.py postgres_config).
POSTGRES_SSL_ENV = {
    "POSTHOG_POSTGRES_SSL_MODE": "sslmode",
    "POSTHOG_POSTGRES_CLI_SSL_CA": "sslrootcert",
    "POSTHOG_POSTGRES_CLI_SSL_CRT": "sslcert",
    "POSTHOG_POSTGRES_CLI_SSL_KEY": "sslkey",
}


def _postgres_from_env(get) -> tuple[str, str] | None:
    """DATABASE_URL wins, as in PostHog, with its own query (sslmode and the rest). Otherwise the POSTHOG_DB_* and
    POSTHOG_POSTGRES_* variables, whose SSL settings PostHog appends to the DATABASE_URL it builds
    (`?sslmode=...&sslrootcert=...`). USING_PGBOUNCER (Helm sets it when the host is PgBouncer) is kept as
    `pgbouncer=true`, so the Postgres checks know their counts describe the pool."""
    pgbouncer = get("USING_PGBOUNCER").lower() in _TRUE
    if get("DATABASE_URL"):
        url = get("DATABASE_URL")
        if pgbouncer:
            url += ("&" if "?" in url else "?") + "pgbouncer=true"
        return url, "env:DATABASE_URL" + ("/USING_PGBOUNCER" if pgbouncer else "")
    names = ("POSTHOG_POSTGRES_HOST", "POSTHOG_DB_NAME", "POSTHOG_DB_USER", "POSTHOG_DB_PASSWORD")
    if not any(get(n) for n in names):
        return None
    params = {param: get(name) for name, param in POSTGRES_SSL_ENV.items() if get(name)}
    if pgbouncer:
        params["pgbouncer"] = "true"
    url = build_url(
        "postgres",
        get("POSTHOG_POSTGRES_HOST") or "db",
        get("POSTHOG_POSTGRES_PORT") or None,
        get("POSTHOG_DB_USER") or "postgres",
        get("POSTHOG_DB_PASSWORD"),
        get("POSTHOG_DB_NAME") or "posthog",
        params,
    )
    extra = [n for n in (*POSTGRES_SSL_ENV, "USING_PGBOUNCER") if get(n)]
    return url, _source(get, names + tuple(extra), [])


def _source(get, names, defaulted: list[str]) -> str:
    source = "env:" + "/".join(n for n in names if get(n))
    return source + (f" (PostHog's defaults: {', '.join(defaulted)})" if defaulted else "")
