"""Each plugin server's own verdict, on its HTTP port (6738), in the words of its generation.

- No HTTP server (PostHog 1.31 and early 2022: the only listener of plugin-server/src/main/ is the MMDB server
  on localhost): a refused port with a fresh Redis heartbeat is an old plugin server that is alive, not a
  dead one.
- 2022 (plugin-server/src/main/services/http-server.ts, index id 6189689175): `/_health` answers 200
  `{"status":"ok"}` or 503 `{"status":"error"}` from a Kafka produce-and-consume check; no other path ever
  gets an answer, so `/_ready` and `/_metrics` are not asked.
- 2023-24 (same file @ 0bbec1ad; the express version, index id 34620840442): `/_health` answers
  `{"status","checks":{name:"ok"|"error"}}` (503 when one fails); `/_ready` answers 503 while the Kafka
  consumer is not ready (or its own checks map); `/_metrics` is prom-client's text.
- 2025+ (nodejs/src/api/router.ts @ d115776): a check's value is `{status, message}` when it has a message;
  `degraded` keeps HTTP 200 (a warning with its reason); `/_ready` is the same handler as `/_health`.

From `/_metrics`: the process's start time (a crash loop shows as a young process), the newest event it
committed (ingestion lag at the plugin server) and the events it sent to the dead letter queue per step.
Newer Django decides "plugin server alive" from `/_health` answering 200.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    ErrorKind,
    Finding,
    Option,
    Outcome,
    Skip,
    Status,
    Table,
    conclude,
    units,
)

from ..common import docs
from ..common.plugin_server import (
    PluginServerFigures,
    Service,
    answers_only_health,
    figures,
    service_health,
    services,
)
from ..common.posthog_redis import fresh_plugin_ping
from ..common.web import HealthAnswer
from ._advice import look_next, restart
from ._catalogue import SubCheck, generation_of, sub_checks

# What each way of not answering means for a plugin server, in the words a customer can act on.
# Other failures (a wrong URL, TLS, DNS) say nothing about its health: plugin_server.connection reports them.
NO_ANSWER = {
    "refused": "is not running ({detail})",
    "timeout": "does not answer: it is stuck or overloaded, or a firewall drops the connection ({detail})",
    "protocol": "closed the connection without a proper answer ({detail})",
}
NO_HTTP = "no HTTP server (PostHog 1.31, early 2022)"
DLQ_ADVICE = Advice(
    "Events this plugin server could not ingest went to the dead letter queue: the events_dead_letter_queue "
    "table until 2024, since 2025 the Kafka topic events_plugin_ingestion_dlq with an ingestion_warnings row of "
    "type pipeline_step_dlq. Read why (clickhouse.dead_letter_queue), fix the cause, and re-send them if needed.",
    links=[docs.TROUBLESHOOTING],
)


DEGRADED = Advice(
    "A degraded check still works, with the warning its message gives (a Kafka rebalance, a slow consumer loop): "
    "run the doctor again in a few minutes, and read the plugin server's logs if it stays degraded."
)
YOUNG = Advice(
    "Run the doctor again in a few minutes: if the plugin server is again only minutes old, it is crash-looping; "
    "its logs then end with the error it exits with."
)
LAG = Advice(
    "Compare with clickhouse.ingestion: if events still arrive in Kafka, the consumer is stuck or too slow (read "
    "its logs, give it more resources); if nothing arrives, look at capture and the clients.",
    links=[docs.INGESTION_LAG],
)


def crash_loop(service: Service) -> Advice:
    return Advice(
        f"Read the last log lines of {service.name if service.named else 'the plugin server'}: a crash-looping plugin "
        "server exits with the same error each time (often a dependency it cannot reach: Kafka, Postgres, Redis, "
        "ClickHouse, or a wrong setting). Restarting it again does not help until that is fixed.",
        commands=service.log_commands(),
        links=[docs.PLUGIN_SERVER],
    )


def advised(finding: Finding, verdict: Verdict) -> Finding:
    """The finding with the advice its kind calls for, naming the service it is about."""
    if not finding.bad:
        return finding
    service = verdict.service
    by_key = {
        "crash_loop": [crash_loop(service)],
        "degraded": [DEGRADED, look_next(service)],
        "young": [YOUNG],
        "lag": [LAG, look_next(service)],
        "dlq": [DLQ_ADVICE],
    }
    advice = by_key.get(finding.key, [restart(service, ingests=verdict.ingests), look_next(service)])
    return dataclasses.replace(finding, advice=tuple(advice))


@dataclass
class Verdict:
    """What one plugin server said, judged."""

    service: Service
    generation: str = "unknown"
    findings: list[Finding] = field(default_factory=list)
    health: str = "—"
    ready: str = "—"
    checks: list[SubCheck] = field(default_factory=list)
    figures: PluginServerFigures | None = None
    ingests: bool | None = None  # None: cannot tell


class PluginServerHealth(Check):
    """Asks each plugin server whether it is healthy (`/_health`), ready (`/_ready`) and how it runs (`/_metrics`:
    uptime, newest event processed, events dead-lettered), naming each failing part and the service to restart."""

    id = "plugin_server.health"
    title = "Plugin server health"
    uses = ("plugin_server", "redis")
    tags = ("plugin_server", "ingestion")
    category = "Deployments/Maintenance"
    timeout = 20.0
    options = {
        "ready_seconds": Option(3.0, "wait at most this long for /_ready (a healthy plugin server answers at once)"),
        "young_seconds": Option(300.0, "a plugin server started less than this long ago is young (a crash loop)"),
        "lag_warn_seconds": Option(1800.0, "warn when the newest event a plugin server committed is older than this"),
    }

    def run(self, ctx: Context) -> Outcome:
        found = services(ctx)
        if not found:
            raise Skip(f"plugin server unavailable: {ctx.probe('plugin_server').summary}")
        several = len(found) > 1
        verdicts = [self._judge(ctx, s, several) for s in found]
        findings = [advised(f, v) for v in verdicts for f in v.findings]
        judged = [v for v in verdicts if v.ingests is not None]
        if judged and not any(v.ingests for v in judged) and len(judged) == len(verdicts):
            names = "; ".join(f"{v.service.name}: {', '.join(c.name for c in v.checks)}" for v in judged)
            findings.append(
                Finding.warn(
                    f"no plugin server reached reports event ingestion among its health checks ({names}): events "
                    "are ingested by a service the doctor was not given",
                    Advice(
                        "Give the doctor the URL of the service that ingests events (port 6738): "
                        "--plugin-server-url http://HOST:6738 (several are comma-separated; add ?service=NAME to "
                        "name one reached by address). With PLUGIN_SERVER_MODE split deployments, that is the "
                        "one running ingestion (Helm: posthog-plugins-ingestion)."
                    ),
                )
            )
        healthy = "; ".join(v.findings[0].text for v in verdicts if v.findings)
        return conclude(findings, healthy, evidence=_evidence(verdicts), metrics=_metrics(verdicts))

    # -- one plugin server --

    def _judge(self, ctx: Context, service: Service, several: bool) -> Verdict:
        who = f"plugin server {service.name}" if several else "the plugin server"
        verdict = Verdict(service)
        if not service.reachable:
            probe = service.candidate.probe
            return self._unreachable(ctx, verdict, who, probe.error_kind, probe.summary, several)
        try:
            answer = service_health(ctx, service, "/_health")
        except ConnectorError as exc:
            return self._unreachable(ctx, verdict, who, exc.kind, str(exc), several)
        verdict.checks = sub_checks(answer)
        verdict.generation = generation(answer, verdict.checks)
        verdict.health = f"HTTP {answer.status}: {answer.excerpt}"
        verdict.findings.append(judge_health(answer, verdict.checks, who))
        verdict.ingests = True if answers_only_health(answer) else _ingests(verdict.checks)

        o = ctx.options
        if answers_only_health(answer):
            verdict.ready = "not asked: a 2022 plugin server never answers /_ready (nor /_metrics)"
        else:
            verdict.findings += self._ready(ctx, verdict, answer, who, o["ready_seconds"])
        verdict.figures = figures(ctx, service)
        verdict.findings += self._figures(verdict, who, o["young_seconds"], o["lag_warn_seconds"])
        return verdict

    def _unreachable(
        self, ctx: Context, verdict: Verdict, who: str, kind: ErrorKind | None, detail: str, several: bool
    ) -> Verdict:
        # A fresh ping with a refused port is an old plugin server, unless another one answered over HTTP: the
        # ping is then that one's (2023-24 plugin servers write it too).
        http_elsewhere = any(s.reachable for s in services(ctx) if s.url != verdict.service.url)
        age = fresh_plugin_ping(ctx) if kind == ErrorKind.REFUSED and not http_elsewhere else None
        if age is not None:
            verdict.generation = NO_HTTP
            verdict.health = f"no HTTP answer ({detail})"
            where = "at this address" if verdict.service.named else f"at {verdict.service.name}"
            verdict.findings.append(
                Finding.ok(
                    f"{who} has no HTTP server {where}, but its Redis heartbeat is {units.duration(age)} old: it "
                    "is alive, a plugin server from before its HTTP server (PostHog 1.31 and early 2022)"
                    + ("" if verdict.service.named else " or one this machine cannot reach")
                    + "; plugin_server.heartbeat watches it",
                    key="no_http",
                )
            )
            return verdict
        if kind not in NO_ANSWER:
            if not several:
                raise Skip(f"plugin server unavailable ({detail}); see plugin_server.connection")
            verdict.health = f"not reached ({detail})"
            verdict.findings.append(Finding.undetermined(f"{who} could not be asked ({detail})"))
            return verdict
        verdict.health = f"no answer ({detail})"
        consequence = "" if several else ", so no event is being ingested"
        verdict.findings.append(
            Finding.fail(f"{who} " + NO_ANSWER[kind].format(detail=detail) + consequence, key="down")
        )
        return verdict

    def _ready(self, ctx: Context, verdict: Verdict, health: HealthAnswer, who: str, seconds: float) -> list[Finding]:
        try:
            ready = service_health(ctx, verdict.service, "/_ready", seconds=seconds)
        except ConnectorError as exc:
            verdict.ready = f"no answer ({exc})"
            return [Finding.warn(f"/_ready did not answer: {exc}")]
        verdict.ready = f"HTTP {ready.status}: {ready.excerpt}"
        if same_verdict(health, ready):
            verdict.ready += " (the same handler as /_health on this version)"
            return []
        return [judge_ready(ready, who)]

    def _figures(self, verdict: Verdict, who: str, young: float, lag_warn: float) -> list[Finding]:
        found: list[Finding] = []
        fig = verdict.figures
        if fig is None or not fig.read:
            return found
        uptime = fig.uptime_seconds
        unwell = any(f.status in (Status.FAIL, Status.WARN) for f in verdict.findings)
        if uptime is not None and 0 <= uptime < young:
            if unwell:
                found.append(
                    Finding.fail(
                        f"{who} is crash-looping: it started {units.duration(uptime)} ago and is not healthy",
                        key="crash_loop",
                    )
                )
            else:
                found.append(
                    Finding.warn(
                        f"{who} is a young process: it started {units.duration(uptime)} ago; if a second run finds "
                        "it this young again, it is crash-looping",
                        key="young",
                    )
                )
        lag = fig.lag_seconds
        if lag is not None and verdict.ingests is not False and lag > lag_warn:
            found.append(
                Finding.warn(
                    f"the newest event {who} processed is {units.duration(lag)} old: its consumer is stuck or far "
                    "behind, or no event arrived since (clickhouse.ingestion tells which)",
                    key="lag",
                )
            )
        if fig.dlq_total:
            steps = ", ".join(f"{step} {units.approx(n)}" for step, n in sorted(fig.dlq_by_step.items()) if n)
            found.append(
                Finding.warn(
                    f"{who} sent {units.approx(fig.dlq_total)} events to the dead letter queue since it started "
                    f"({steps})",
                    key="dlq",
                )
            )
        return found


def judge_health(answer: HealthAnswer, checks: list[SubCheck], who: str) -> Finding:
    """The verdict of `/_health` in one sentence, from its status code first (as Django reads it), then its body."""
    failing = [c for c in checks if c.failing]
    degraded = [c for c in checks if c.degraded]
    reported = str(answer.fields().get("status", "")).lower()
    if answer.ok:
        if answer.is_json and reported in ("ok", ""):
            if failing or degraded:
                return Finding.warn(
                    f"{who} is degraded: " + "; ".join(c.said() for c in failing + degraded), key="degraded"
                )
            if answers_only_health(answer):
                return Finding.ok(f"{who} reports itself healthy (a 2022 plugin server: /_health without sub-checks)")
            names = ", ".join(c.name for c in checks) or "no sub-checks listed"
            return Finding.ok(f"{who} reports itself healthy ({names})")
        if not answer.is_json and answer.excerpt.strip().lower() == "ok":
            return Finding.ok(f"{who} reports itself healthy (a plain-text 'ok')")
        if answer.is_json:
            return Finding.warn(
                f"/_health answered HTTP {answer.status} but its body says {reported or 'nothing'!r}"
                + (f" with failing sub-checks {'; '.join(c.said() for c in failing)}" if failing else "")
            )
        return Finding.warn(
            f"/_health answered HTTP {answer.status} with a body that is not the plugin server's "
            f"health JSON ({answer.content_type or 'no content type'}: {answer.excerpt!r}): "
            "is this URL the plugin server (port 6738)?"
        )
    if answer.status == 404:
        return Finding.warn("there is no /_health at this address: is this URL the plugin server (port 6738)?")
    if answer.status >= 500 and answer.is_json:
        if failing:
            return Finding.fail(
                f"{who} reports itself unhealthy (HTTP {answer.status}): failing "
                + "; ".join(c.said() for c in failing),
                key="unhealthy",
            )
        if answers_only_health(answer):
            return Finding.fail(
                f"{who} reports itself unhealthy (HTTP {answer.status}): its Kafka health check failed (a 2022 "
                "plugin server checks only that it can produce to and consume from Kafka)",
                key="unhealthy",
            )
        return Finding.fail(
            f"{who} reports itself unhealthy (HTTP {answer.status}, status {reported or 'not given'!r}) without "
            "naming the failing part",
            key="unhealthy",
        )
    if answer.status >= 500:
        return Finding.fail(
            f"/_health answered HTTP {answer.status} with a body that is not JSON "
            f"({answer.excerpt!r}): the plugin server crashed while answering, or a proxy in "
            "front of it cannot reach it",
            key="unhealthy",
        )
    return Finding.warn(f"/_health answered HTTP {answer.status}: {answer.excerpt!r}")


def judge_ready(answer: HealthAnswer, who: str = "the plugin server") -> Finding:
    failing = [c for c in sub_checks(answer) if c.failing]
    if answer.ok:
        return Finding.ok("ready to consume events")
    if answer.status == 404:
        return Finding.ok("no /_ready (an older plugin server)")
    if answer.status >= 500 and failing:
        return Finding.fail(
            f"not ready (/_ready answered HTTP {answer.status}): failing " + "; ".join(c.said() for c in failing),
            key="not_ready",
        )
    if answer.status >= 500:
        return Finding.fail(
            f"not ready (/_ready answered HTTP {answer.status}): its Kafka consumer is not consuming", key="not_ready"
        )
    return Finding.warn(f"/_ready answered HTTP {answer.status}: {answer.excerpt!r}")


def same_verdict(health: HealthAnswer, ready: HealthAnswer) -> bool:
    """2025+ serves `/_ready` with `/_health`'s handler: the same status and the same checks' states."""
    if health.status != ready.status or "checks" not in ready.fields():
        return False
    return [(c.name, c.status) for c in sub_checks(health)] == [(c.name, c.status) for c in sub_checks(ready)]


def generation(answer: HealthAnswer, checks: list[SubCheck]) -> str:
    if answers_only_health(answer):
        return "2022"
    raw = answer.fields().get("checks")
    detailed = isinstance(raw, dict) and any(isinstance(v, dict) for v in raw.values())
    known = {generation_of(c.name) for c in checks}
    if detailed or "2025+" in known:
        return "2025+"
    if "2023-24" in known:
        return "2023-24"
    return "2023+" if checks else "unknown"


def _ingests(checks: list[SubCheck]) -> bool | None:
    if any(c.ingests for c in checks):
        return True
    if checks and all(c.what for c in checks):  # every check known, none of them event ingestion
        return False
    return None


def _evidence(verdicts: list[Verdict]) -> list:
    rows = []
    for v in verdicts:
        fig = v.figures
        uptime = fig.uptime_seconds if fig is not None else None
        lag = fig.lag_seconds if fig is not None else None
        rows.append(
            [
                v.service.name,
                v.service.url,
                v.generation,
                {True: "yes", False: "no", None: "?"}[v.ingests],
                v.health,
                v.ready,
                units.duration(uptime) if uptime is not None else "—",
                f"{units.duration(lag)} ago" if lag is not None else "—",
                units.approx(fig.dlq_total) if fig is not None and fig.dlq_total is not None else "—",
            ]
        )
    evidence: list = [
        Table(
            "Plugin servers",
            [
                "Service",
                "URL",
                "Generation",
                "Ingests events",
                "/_health",
                "/_ready",
                "Uptime",
                "Newest event processed",
                "Sent to the DLQ since start",
            ],
            rows,
        )
    ]
    checks = [[v.service.name, c.name, c.status, c.message, c.what] for v in verdicts for c in v.checks]
    if checks:
        evidence.append(Table("Sub-checks of /_health", ["Service", "Check", "State", "Message", "Watches"], checks))
    steps = [
        [v.service.name, step, units.approx(n)]
        for v in verdicts
        if v.figures is not None
        for step, n in sorted(v.figures.dlq_by_step.items())
    ]
    if steps:
        evidence.append(
            Table("Dead-lettered events per pipeline step (since start)", ["Service", "Step", "Events"], steps)
        )
    notes = [f"{v.service.name}: {v.figures.said}" for v in verdicts if v.figures is not None and v.figures.said]
    if notes:
        evidence.append(Table("/_metrics", ["Note"], [[n] for n in notes]))
    return evidence


def _metrics(verdicts: list[Verdict]) -> dict[str, float | None]:
    figs = [v.figures for v in verdicts if v.figures is not None and v.figures.read]
    uptimes = [f.uptime_seconds for f in figs if f.uptime_seconds is not None]
    lags = [
        v.figures.lag_seconds
        for v in verdicts
        if v.figures is not None and v.figures.lag_seconds is not None and v.ingests is not False
    ]
    dlq = [f.dlq_total for f in figs if f.dlq_total is not None]
    return {
        "uptime_seconds": round(min(uptimes)) if uptimes else None,
        "ingestion_lag_seconds": round(max(min(lags), 0), 1) if lags else None,
        "dlq_events_since_start": sum(dlq) if dlq else None,
    }
