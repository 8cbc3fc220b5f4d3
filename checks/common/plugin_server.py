"""The plugin servers of a deployment (PostHog's Node ingestion services) and what they say about themselves.

Ingestion may run in more than one service: the hobby `plugins`, Helm's `posthog-plugins` or, with
PLUGIN_SERVER_MODE splitting the work, `posthog-plugins-ingestion` and others. Each URL the doctor was given
(or each default host that resolves) is one `Service`; its `/_health` and `/_metrics` are read once per run
and shared by every check that asks.

Generations of the HTTP server on port 6738 (each cited where it is judged, checks/plugin_server/):
- up to PostHog 1.31 (2021) and early 2022: no HTTP server at all (only the Redis heartbeat);
- 2022 (plugin-server/src/main/services/http-server.ts, index id 6189689175): `/_health` only, body
  `{"status": "ok"|"error"}`; every other path never gets an answer (the handler has no else branch);
- 2023-24 (same file @ 0bbec1ad; the express version, index id 34620840442): `/_health` and `/_ready` with a
  `checks` map of strings, `/_metrics` (prom-client);
- 2025+ (nodejs/src/api/router.ts @ d115776): `/_ready` is `/_health`; a check's value is its status, or
  `{status, message}` when it has a message; `degraded` keeps HTTP 200.

`PluginServerFigures` is the shared fact other checks (the dead letter queue, the diagnosis) read:
`plugin_server_figures(ctx)`.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field

from posthog_doctor.check import Candidate, ConnectorError, Context, ErrorKind, Http, units

from .prometheus import parse_exposition
from .web import HealthAnswer, read_health

HEALTH_SECONDS = 5.0
METRICS_SECONDS = 5.0

# What is read from /_metrics (prom-client's default metrics and PostHog's own).
START_TIME = "process_start_time_seconds"  # prom-client default metric (collectDefaultMetrics)
LATEST_PROCESSED = "latest_processed_timestamp_ms"  # ingestion-consumer.ts: newest committed offset's message time
DLQ_PER_STEP = "events_pipeline_step_dlq_total"  # event-pipeline/metrics.ts: events sent to the DLQ, per step
WANTED = (START_TIME, LATEST_PROCESSED, DLQ_PER_STEP)
INGESTION_TOPIC = "events_plugin_ingestion"  # the topic capture writes events to (KAFKA_PREFIX may precede it)


@dataclass(frozen=True)
class Service:
    """One plugin server the doctor can reach (or was told about)."""

    name: str  # the compose service or Kubernetes name when the URL says it, else host:port
    candidate: Candidate
    named: bool  # whether `name` is a service name (not an address)

    @property
    def url(self) -> str:
        return self.candidate.endpoint.url()

    @property
    def reachable(self) -> bool:
        return self.candidate.probe.reachable

    def restart_commands(self) -> list[str]:
        if not self.named:
            return ["docker compose restart plugins", "kubectl -n posthog rollout restart deployment/posthog-plugins"]
        helm = self.name if self.name.startswith("posthog-") else f"posthog-{self.name}"
        compose = [] if self.name.startswith("posthog-") else [f"docker compose restart {self.name}"]
        return compose + [f"kubectl -n posthog rollout restart deployment/{helm}"]

    def log_commands(self) -> list[str]:
        if not self.named:
            return [
                "docker compose logs --tail 200 plugins",
                "kubectl -n posthog logs deployment/posthog-plugins --tail 200",
            ]
        helm = self.name if self.name.startswith("posthog-") else f"posthog-{self.name}"
        compose = [] if self.name.startswith("posthog-") else [f"docker compose logs --tail 200 {self.name}"]
        return compose + [f"kubectl -n posthog logs deployment/{helm} --tail 200"]


def services(ctx: Context) -> list[Service]:
    """Every plugin server endpoint the run has, in the order given."""
    return [_service(c) for c in ctx.candidates("plugin_server") if not c.role]


def _service(candidate: Candidate) -> Service:
    ep = candidate.endpoint
    given = ep.param("service")  # ?service=NAME names a service reached by address (a pod IP, a port-forward)
    if given:
        return Service(given, candidate, True)
    host = ep.host
    try:
        ipaddress.ip_address(host)
        is_address = True
    except ValueError:
        is_address = host == "localhost"
    if is_address:
        return Service(f"{host}:{ep.port}", candidate, False)
    # Kubernetes: posthog-plugins.posthog.svc.cluster.local -> posthog-plugins
    return Service(host.split(".")[0], candidate, True)


def service_http(ctx: Context, service: Service) -> Http:
    return ctx.connect("plugin_server", service.candidate.endpoint)


def service_health(ctx: Context, service: Service, path: str, *, seconds: float = HEALTH_SECONDS) -> HealthAnswer:
    """GET a health path of one plugin server once per run; transport failures raise ConnectorError."""
    key = f"plugin_server:{service.candidate.endpoint.url(redact=False)}:{path}"
    return ctx.shared(key, lambda: read_health(service_http(ctx, service), path, seconds))


def answers_only_health(answer: HealthAnswer) -> bool:
    """A 2022 plugin server: `/_health` answers `{"status": ...}` without checks, and it never answers any other
    path (so `/_ready` and `/_metrics` are not even asked)."""
    body = answer.fields()
    return answer.is_json and "status" in body and "checks" not in body


# --- the shared figures of /_metrics ------------------------------------------------------------------


@dataclass(frozen=True)
class PluginServerFigures:
    """What one plugin server's `/_metrics` says, read once per run. None means not exported (or not read)."""

    service: str
    url: str
    read: bool  # whether /_metrics answered with an exposition
    said: str  # why it was not read, or what was odd about it
    read_at: float  # Unix time of the read
    started_at: float | None = None  # process_start_time_seconds
    newest_processed_at: float | None = None  # Unix time of the newest event-ingestion message committed
    dlq_by_step: dict[str, float] = field(default_factory=dict)  # events sent to the DLQ since start, per step
    dlq_total: float | None = None  # None: this version does not export the counter
    truncated: bool = False

    @property
    def uptime_seconds(self) -> float | None:
        return self.read_at - self.started_at if self.started_at is not None else None

    @property
    def lag_seconds(self) -> float | None:
        """Age of the newest event this plugin server committed, when it was read."""
        return self.read_at - self.newest_processed_at if self.newest_processed_at is not None else None


def plugin_server_figures(ctx: Context) -> list[PluginServerFigures]:
    """The figures of every plugin server that answers (the context must declare `plugin_server`)."""
    return [figures(ctx, s) for s in services(ctx) if s.reachable]


def figures(ctx: Context, service: Service) -> PluginServerFigures:
    key = f"plugin_server:{service.candidate.endpoint.url(redact=False)}:figures"
    return ctx.shared(key, lambda: _read_figures(ctx, service))


def _read_figures(ctx: Context, service: Service) -> PluginServerFigures:
    now = time.time()
    try:
        health = service_health(ctx, service, "/_health")
    except ConnectorError as exc:
        return PluginServerFigures(service.name, service.url, False, f"/_health did not answer: {exc}", now)
    if answers_only_health(health):
        return PluginServerFigures(service.name, service.url, False, "this plugin server (2022) has no /_metrics", now)
    try:  # the HTTP connector cuts a body above 2 MB: the series read come first in prom-client's output
        resp = service_http(ctx, service).get("/_metrics", timeout=METRICS_SECONDS)
    except ConnectorError as exc:
        kind = "no answer" if exc.kind == ErrorKind.TIMEOUT else "failed"
        return PluginServerFigures(service.name, service.url, False, f"/_metrics {kind}: {exc}", now)
    now = time.time()
    if resp.status == 404:
        return PluginServerFigures(service.name, service.url, False, "no /_metrics on this plugin server", now)
    if not resp.ok:
        said = f"/_metrics answered HTTP {resp.status}: {resp.excerpt(80)!r}"
        return PluginServerFigures(service.name, service.url, False, said, now)
    found = parse_exposition(resp.text(), wanted=WANTED)
    if not found.lines or (not found.samples and found.malformed):
        said = f"/_metrics answered something that is not Prometheus text: {resp.excerpt(80)!r}"
        return PluginServerFigures(service.name, service.url, False, said, now)
    processed = found.maximum(LATEST_PROCESSED, topic=INGESTION_TOPIC)
    if processed is None:  # a KAFKA_PREFIX, or only the overflow/historical topics: any event-ingestion topic
        ingestion = [s.value for s in found.named(LATEST_PROCESSED) if INGESTION_TOPIC in s.labels.get("topic", "")]
        processed = max(ingestion) if ingestion else None
    notes = []
    if resp.truncated or found.cut:
        notes.append("the exposition was larger than the doctor reads; only its start was read")
    if found.malformed:
        notes.append(f"{found.malformed} line(s) could not be read")
    return PluginServerFigures(
        service.name,
        service.url,
        True,
        "; ".join(notes),
        now,
        started_at=found.value(START_TIME),
        newest_processed_at=processed / 1000 if processed is not None else None,
        dlq_by_step={k or "(no step)": v for k, v in found.by_label(DLQ_PER_STEP, "step_name").items()},
        dlq_total=found.total(DLQ_PER_STEP),
        truncated=resp.truncated or found.cut,
    )


def dead_lettered(ctx: Context) -> tuple[int | None, str]:
    """Events the plugin servers sent to the dead letter queue since they started, and what that covers
    ("plugins: since it started 3 h ago; processPersonsStep 12"). None when no plugin server exports the counter
    (2022 and older, a version without it, or none reached): the seam for the dead letter queue's other sources."""
    counted = [f for f in plugin_server_figures(ctx) if f.read and f.dlq_total is not None]
    if not counted:
        return None, ""
    parts = []
    for f in counted:
        since = f"since it started {_ago(f.uptime_seconds)}" if f.uptime_seconds is not None else "since it started"
        steps = ", ".join(f"{step} {int(n)}" for step, n in sorted(f.dlq_by_step.items()) if n)
        parts.append(f"{f.service}: {since}" + (f"; {steps}" if steps else ""))
    return int(sum(f.dlq_total or 0 for f in counted)), " | ".join(parts)


def _ago(seconds: float) -> str:
    return f"{units.duration(max(seconds, 0))} ago"
