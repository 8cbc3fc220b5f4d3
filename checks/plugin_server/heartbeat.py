"""The plugin server's heartbeat in Redis, the signal older Django versions use for "Plugin server alive".

Every 5 s the plugin server writes `@posthog-plugin-server/ping` (an ISO timestamp, 60 s TTL) and
`@posthog-plugin-server/version` (no TTL) (pluginsServer.ts, `startPreflightSchedules`). Django's
`is_plugin_server_alive()` counted it alive when the ping is younger than 30 s. Recent plugin servers no
longer write the ping and recent Django asks the plugin server's `/_health` instead, so a missing ping
is only a failure when the plugin server does not answer its health endpoint either, and only in the Redis
PostHog uses (checks/common/posthog_redis.py): in a Redis the doctor merely guessed, a missing key may just
mean PostHog writes elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    ErrorKind,
    Item,
    Option,
    Outcome,
    Redis,
    Skip,
    Values,
    fail,
    ok,
    units,
    warn,
)

from ..common import docs
from ..common.plugin_server import Service, service_health, services
from ..common.posthog_redis import RedisChoice, redis_of
from ..common.redis_memory import MEMORY_ADVICE, redis_memory_or_none
from ._advice import LOOK_NEXT, RESTART

PING_KEY = "@posthog-plugin-server/ping"
VERSION_KEY = "@posthog-plugin-server/version"
JOB_QUEUES_KEY = "@posthog-plugin-server/enabled-job-queues"
CLOCK_SKEW_SECONDS = 5.0  # a ping this far in the future means the two machines' clocks differ


class PluginServerHeartbeat(Check):
    """Reads the plugin server's heartbeat (`@posthog-plugin-server/ping`) and version from the Redis PostHog uses and
    reports the heartbeat's age."""

    id = "plugin_server.heartbeat"
    title = "Plugin server heartbeat in Redis"
    needs = ("redis",)
    uses = ("plugin_server",)
    tags = ("plugin_server", "redis", "ingestion")
    category = "Deployments/Maintenance"
    timeout = 15.0
    options = {"alive_seconds": Option(30.0, "a heartbeat younger than this counts as alive (Django's rule)")}

    def run(self, ctx: Context) -> Outcome:
        redis, choice = redis_of(ctx)
        ping, ping_problem = read_string(redis, PING_KEY)
        version, _ = read_string(redis, VERSION_KEY)
        queues, _ = read_string(redis, JOB_QUEUES_KEY)
        ttl = redis.ttl(PING_KEY) if ping is not None else None
        items = [
            Item("Ping", ping if ping is not None else ping_problem or "missing", "ping"),
            Item("TTL of the ping (s)", ttl, "ttl_seconds"),
            Item("Plugin server version", version or "not written", "version"),
            Item("Enabled job queues", queues, "job_queues"),
            Item("Redis read", f"{choice.where}: {choice.why}", "redis"),
        ]
        alive = ctx.options["alive_seconds"]
        who = f"plugin server {version}" if version else "plugin server"

        if ping_problem:
            return warn(f"{PING_KEY} {ping_problem}", evidence=[Values("Heartbeat", items)])
        if ping is None:
            return self._missing(ctx, who, version, items, choice)
        when = units.parse_timestamp(ping)
        if when is None:
            return warn(
                f"{PING_KEY} holds {ping[:60]!r}, not an ISO timestamp: something else writes this key",
                evidence=[Values("Heartbeat", items)],
            )
        age = (datetime.now(UTC) - when).total_seconds()
        items.insert(1, Item("Age (s)", round(age, 1), "age_seconds"))
        evidence = [Values("Heartbeat", items)]
        if age < -CLOCK_SKEW_SECONDS:
            return warn(
                f"the heartbeat is {-age:.0f} s in the future: the clocks of the plugin server and this "
                "machine differ, so its age cannot be judged",
                evidence=evidence,
                advice=[Advice("Sync the clocks (NTP) of the PostHog hosts.")],
            )
        metrics = {"ping_age_seconds": round(max(age, 0), 1)}
        lost = _redis_lost_it(ctx) if age >= alive else ""
        if lost:  # a Redis that refuses writes cannot take a new ping: say that before "stopped or hangs"
            return fail(
                f"{lost}; the {who} heartbeat is {age:.0f} s old",
                evidence=evidence,
                advice=[MEMORY_ADVICE, RESTART],
                metrics=metrics,
            )
        if age < alive:
            return ok(
                f"{who} heartbeat is {max(age, 0):.0f} s old (alive means younger than {alive:g} s)",
                evidence=evidence,
                metrics=metrics,
            )
        return fail(
            f"{who} heartbeat is stale: last written {age:.0f} s ago (alive means younger than "
            f"{alive:g} s), so it has stopped or hangs",
            evidence=evidence,
            advice=[RESTART, LOOK_NEXT],
            metrics=metrics,
        )

    def _missing(self, ctx: Context, who: str, version: str | None, items: list[Item], choice: RedisChoice) -> Outcome:
        verdict, said = http_health(ctx)
        items.append(Item("Plugin server /_health", said, "http_health"))
        evidence = [Values("Heartbeat", items)]
        if verdict == "healthy":
            # Plugin servers since 2025 no longer write the key (no preflightSchedules capability in
            # nodejs/src/capabilities.ts @ c84f604), and Django then asks /_health: nothing is wrong.
            return ok(
                f"no heartbeat key in Redis, as expected: the {who} answers /_health as healthy, and recent plugin "
                "servers no longer write it",
                evidence=evidence,
            )
        if verdict == "unhealthy":
            # It runs and answers over HTTP: whatever its generation, /_health says more than a missing key.
            raise Skip(
                f"no heartbeat key in Redis; the plugin server answers over HTTP ({said}): "
                "plugin_server.health judges it"
            )
        if not choice.confirmed and not version:
            # A guessed Redis without PostHog's keys says nothing about the plugin server: PostHog may use another.
            return warn(
                f"no plugin server heartbeat in this Redis ({choice.where}); PostHog may use another one (tried: "
                f"{choice.tried()}), and its /_health {'failed' if verdict == 'down' else 'could not be asked'} "
                f"({said})",
                evidence=evidence,
                advice=[WHICH_REDIS, RESTART],
            )
        lost = _redis_lost_it(ctx)
        if lost and verdict != "down":  # evicted, not never written: the plugin server may be fine
            return warn(
                f"{lost}; no plugin server heartbeat in the last 60 s",
                evidence=evidence,
                advice=[MEMORY_ADVICE, RESTART],
            )
        if verdict == "down":
            return fail(
                f"no heartbeat in the last 60 s, and its /_health failed too ({said}): the plugin server is down",
                evidence=evidence,
                advice=[RESTART, LOOK_NEXT],
            )
        before = f" ({who} wrote here before)" if version else ""
        return warn(
            f"no heartbeat in the last 60 s{before}; its /_health could not be asked ({said}), so it is "
            "down or a recent version that no longer writes the key",
            evidence=evidence,
            advice=[
                Advice("Pass --plugin-server-url http://HOST:6738 so the doctor can ask the plugin server itself."),
                RESTART,
            ],
        )


def _redis_lost_it(ctx: Context) -> str:
    """Why Redis itself may have lost or refused the ping (evictions, a full Redis), or ""."""
    memory = redis_memory_or_none(ctx)
    return memory.missing_key_cause() if memory else ""


WHICH_REDIS = Advice(
    "Give the doctor the Redis PostHog uses: REDIS_URL from the web container's environment (hobby: "
    "`docker compose exec web env | grep REDIS_URL`; the newest hobby stack uses redis7) or POSTHOG_REDIS_HOST "
    "from the chart (Helm), as --redis-url or in the env file.",
    links=[docs.ENV_VARS],
)


def read_string(redis: Redis, key: str) -> tuple[str | None, str]:
    """(value, problem): the key's text, or None when missing; a problem sentence when it is not a string."""
    try:
        return redis.get(key), ""
    except ConnectorError as exc:
        if exc.kind == ErrorKind.WRONG_TYPE:
            return None, f"holds a {redis.type(key)}, not the string PostHog writes"
        raise


def http_health(ctx: Context) -> tuple[str, str]:
    """("healthy" | "unhealthy" | "down" | "unknown", what /_health said) over every plugin server, shared with
    plugin_server.health via the run cache: unhealthy answers over HTTP (a 5xx), down does not answer."""
    found = services(ctx)
    if not found:
        probe = ctx.probe("plugin_server")
        return "unknown", probe.summary
    verdicts = [_one_health(ctx, s) for s in found]
    said = "; ".join(
        f"{s.name}: {words}" if len(found) > 1 else words for s, (_, words) in zip(found, verdicts, strict=True)
    )
    states = {state for state, _ in verdicts}
    for state in ("healthy", "unhealthy"):
        if state in states:
            return state, said
    if states == {"down"}:
        return "down", said
    return "unknown", said


def _one_health(ctx: Context, service: Service) -> tuple[str, str]:
    probe = service.candidate.probe
    if not probe.reachable:
        if probe.error_kind in (ErrorKind.REFUSED, ErrorKind.TIMEOUT):
            return "down", probe.summary
        return "unknown", probe.summary
    try:
        answer = service_health(ctx, service, "/_health")
    except ConnectorError as exc:
        return ("down" if exc.kind in (ErrorKind.REFUSED, ErrorKind.TIMEOUT) else "unknown"), str(exc)
    if answer.ok:
        return "healthy", f"answered HTTP {answer.status}"
    if answer.status >= 500:
        return "unhealthy", f"answered HTTP {answer.status}"
    return "unknown", f"answered HTTP {answer.status}"
