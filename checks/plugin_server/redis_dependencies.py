"""The plugin server's own Redis connections, where their settings are given (CDP_REDIS_HOST, LOGS_REDIS_HOST, ...).

Newer plugin servers open several Redis pools besides REDIS_URL (redis_roles.yaml): the hobby stack @ 4ea531a
points CDP_REDIS_HOST and COOKIELESS_REDIS_HOST at `redis7` while REDIS_URL names `redis`. The doctor reads
these settings from the environment it was given (the plugin server's own env file) and probes each Redis as
the plugin server would: same host, port, password and TLS mode. A plugin server set to talk TLS to a plain
Redis waits forever for the handshake (ETIMEDOUT, not a refusal): LOGS_REDIS_TLS defaults to true in PostHog's
production image (`isProdEnv() ? true : false`), the cause of PostHog issue #38494's workaround
`LOGS_REDIS_TLS: 'false'`.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from posthog_doctor.check import (
    Advice,
    Candidate,
    Check,
    ConnectorError,
    Context,
    ErrorKind,
    Finding,
    Outcome,
    Skip,
    Table,
    conclude,
    load_yaml,
)

from ..common import docs


@functools.lru_cache(maxsize=1)
def roles() -> dict[str, dict[str, str]]:
    data = load_yaml(Path(__file__).with_name("redis_roles.yaml").read_text(encoding="utf-8"))
    return {str(k): {kk: str(vv) for kk, vv in v.items()} for k, v in data["roles"].items()}


class PluginServerRedis(Check):
    """Probes each Redis the plugin server's own settings name (CDP_REDIS_HOST, LOGS_REDIS_HOST, INGESTION_REDIS_HOST,
    COOKIELESS_REDIS_HOST, ...) with the port, password and TLS mode the plugin server would use."""

    id = "plugin_server.redis"
    title = "Plugin server's own Redis connections"
    uses = ("redis",)
    tags = ("plugin_server", "redis")
    category = "Deployments/Setup"
    timeout = 15.0

    def run(self, ctx: Context) -> Outcome:
        given = [c for c in ctx.candidates("redis") if c.role]
        if not given:
            names = ", ".join(r["setting"] for r in roles().values())
            raise Skip(f"no plugin-server Redis setting given ({names}): the plugin server uses REDIS_URL for all")
        findings = [self._judge(ctx, c) for c in given]
        rows = [[c.role, c.endpoint.url(), c.endpoint.source.removeprefix("env:"), c.probe.summary] for c in given]
        evidence = [Table("The plugin server's Redis connections", ["Role", "Redis", "Setting", "Probe"], rows)]
        return conclude(
            findings, f"every Redis the plugin server's settings name answers ({len(given)})", evidence=evidence
        )

    def _judge(self, ctx: Context, candidate: Candidate) -> Finding:
        role = roles().get(
            candidate.role, {"what": candidate.role, "breaks": "part of the plugin server", "setting": ""}
        )
        ep = candidate.endpoint
        where = f"{ep.host}:{ep.port}"
        setting = ep.source.removeprefix("env:")
        if candidate.probe.reachable:
            return Finding.ok(f"{candidate.role} Redis ({where}, {setting}) answers: {candidate.probe.summary}")
        if ep.secure and candidate.probe.error_kind in (ErrorKind.TIMEOUT, ErrorKind.TLS, ErrorKind.PROTOCOL):
            plain = dataclasses.replace(ep, scheme="redis", params=tuple(p for p in ep.params if p[0] != "secure"))
            try:
                answered = ctx.connect("redis", plain).ping()
            except ConnectorError:
                answered = False
            if answered:
                tls_setting = setting.replace("_HOST", "_TLS")
                return Finding.fail(
                    f"the plugin server talks TLS to its {candidate.role} Redis ({where}, {setting}) but that Redis "
                    f"answers plain connections only: {role['breaks']} stall (the plugin server logs ETIMEDOUT)",
                    Advice(
                        f"Set {tls_setting}=false in the plugin server's environment (it defaults to true in PostHog's "
                        "production image), or give that Redis TLS.",
                        links=[docs.ENV_VARS],
                    ),
                    key=f"tls.{candidate.role}",
                )
        return Finding.fail(
            f"{candidate.role} Redis ({where}, {setting}) does not answer ({candidate.probe.summary}): "
            f"{role['breaks']} fail",
            Advice(
                f"{role['what'][0].upper()}{role['what'][1:]}. Check that this Redis runs and that {setting} (and its "
                "port and password settings) point at it, or unset it so the plugin server uses REDIS_URL.",
                links=[docs.ENV_VARS],
            ),
            key=f"down.{candidate.role}",
        )
