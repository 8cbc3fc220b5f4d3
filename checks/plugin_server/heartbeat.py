"""The plugin server's heartbeat in Redis, the signal older Django versions use for "Plugin server alive".

Every 5 s the plugin server writes `@posthog-plugin-server/ping` (an ISO timestamp, 60 s TTL) and
`@posthog-plugin-server/version` (no TTL) (pluginsServer.ts, `startPreflightSchedules`). Django's
`is_plugin_server_alive()` counted it alive when the ping is younger than 30 s. Recent plugin servers no
longer write the ping and recent Django asks the plugin server's `/_health` instead, so a missing ping
is only a failure when the plugin server does not answer its health endpoint either.
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
from ..common.web import health
from ._advice import LOOK_NEXT, RESTART

PING_KEY = "@posthog-plugin-server/ping"
VERSION_KEY = "@posthog-plugin-server/version"
JOB_QUEUES_KEY = "@posthog-plugin-server/enabled-job-queues"
CLOCK_SKEW_SECONDS = 5.0  # a ping this far in the future means the two machines' clocks differ

NO_PING_ADVICE = Advice(
    "Nothing to fix if your PostHog is recent: Django then asks the plugin server's /_health (CDP_API_URL, "
    "e.g. http://plugins:6738 on docker compose) instead of this key. On an older PostHog, System Status shows "
    "the plugin server as down until the plugin server writes this key again: upgrade both together.",
    links=[docs.ENV_VARS],
)


class PluginServerHeartbeat(Check):
    """Reads the plugin server's heartbeat (`@posthog-plugin-server/ping`) and version from Redis and reports the
    heartbeat's age."""

    id = "plugin_server.heartbeat"
    title = "Plugin server heartbeat in Redis"
    needs = ("redis",)
    uses = ("plugin_server",)
    tags = ("plugin_server", "redis", "ingestion")
    category = "Deployments/Maintenance"
    timeout = 15.0
    options = {"alive_seconds": Option(30.0, "a heartbeat younger than this counts as alive (Django's rule)")}

    def run(self, ctx: Context) -> Outcome:
        ping, ping_problem = read_string(ctx.redis, PING_KEY)
        version, _ = read_string(ctx.redis, VERSION_KEY)
        queues, _ = read_string(ctx.redis, JOB_QUEUES_KEY)
        ttl = ctx.redis.ttl(PING_KEY) if ping is not None else None
        items = [
            Item("Ping", ping if ping is not None else ping_problem or "missing", "ping"),
            Item("TTL of the ping (s)", ttl, "ttl_seconds"),
            Item("Plugin server version", version or "not written", "version"),
            Item("Enabled job queues", queues, "job_queues"),
        ]
        alive = ctx.options["alive_seconds"]
        who = f"plugin server {version}" if version else "plugin server"

        if ping_problem:
            return warn(f"{PING_KEY} {ping_problem}", evidence=[Values("Heartbeat", items)])
        if ping is None:
            return self._missing(ctx, who, version, items)
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

    def _missing(self, ctx: Context, who: str, version: str | None, items: list[Item]) -> Outcome:
        verdict, said = http_health(ctx)
        items.append(Item("Plugin server /_health", said, "http_health"))
        evidence = [Values("Heartbeat", items)]
        if verdict == "healthy":
            return warn(
                f"no heartbeat key in Redis, but the {who} answers /_health as healthy: recent plugin "
                "servers no longer write it",
                evidence=evidence,
                advice=[NO_PING_ADVICE],
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


def read_string(redis: Redis, key: str) -> tuple[str | None, str]:
    """(value, problem): the key's text, or None when missing; a problem sentence when it is not a string."""
    try:
        return redis.get(key), ""
    except ConnectorError as exc:
        if exc.kind == ErrorKind.WRONG_TYPE:
            return None, f"holds a {redis.type(key)}, not the string PostHog writes"
        raise


def http_health(ctx: Context) -> tuple[str, str]:
    """("healthy" | "down" | "unknown", what /_health said), shared with plugin_server.health via the run cache."""
    try:
        answer = health(ctx, "plugin_server", "/_health")
    except Skip:  # the plugin server's probe failed: its reason says whether it is down
        probe = ctx.probe("plugin_server")
        if probe.error_kind in (ErrorKind.REFUSED, ErrorKind.TIMEOUT):
            return "down", probe.summary
        return "unknown", probe.summary
    except ConnectorError as exc:
        return ("down" if exc.kind in (ErrorKind.REFUSED, ErrorKind.TIMEOUT) else "unknown"), str(exc)
    if answer.ok:
        return "healthy", f"answered HTTP {answer.status}"
    if answer.status >= 500:
        return "down", f"answered HTTP {answer.status}"
    return "unknown", f"answered HTTP {answer.status}"
