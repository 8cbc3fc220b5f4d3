"""Is the Rust capture service itself healthy? Its own health endpoints, behind the public proxy.

PostHog's hobby stack runs Rust capture as the `capture` service on port 3000 (docker-compose.base.yml,
`ADDRESS: 0.0.0.0:3000`), reachable on the compose network only; Caddy proxies the event paths to it but
not its health endpoints. rust/capture/src/router.rs: `GET /_readiness` answers 200 "capture" once the
server runs; `GET /_liveness` answers the health registry's status (rust/common/health): 200 when every
component reports healthy, 500 otherwise, with a Rust Debug body naming each component, e.g.
`HealthStatus { healthy: false, components: {"rdkafka": Unhealthy} }` (`rdkafka` is its Kafka producer).
Before 2024 PostHog captured in the web app (Django), which has no such service.
"""

from __future__ import annotations

import re

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    ErrorKind,
    Finding,
    HttpResponse,
    Option,
    Outcome,
    Query,
    Skip,
    Table,
    conclude,
)

from ..common import docs

READINESS = Query("capture", "GET /_readiness", "GET <service_url>/_readiness")
LIVENESS = Query("capture", "GET /_liveness", "GET <service_url>/_liveness")
_COMPONENT = re.compile(r'"([^"]+)":\s*([A-Za-z]+)')
COMPONENTS = {"rdkafka": "its Kafka producer", "print_sink": "a print sink (events are not sent to Kafka)"}

RESTART = Advice(
    "Restart the capture service and read its last log lines: it exits or reports itself unhealthy when it "
    "cannot reach Kafka (KAFKA_HOSTS) or Redis (REDIS_URL), and events sent meanwhile are lost.",
    commands=["docker compose logs --tail 200 capture", "docker compose restart capture"],
    links=[docs.RUST_CAPTURE_ROUTER, docs.HOBBY_COMPOSE_SOURCE],
)


class CaptureService(Check):
    """The Rust capture service's own health (`/_readiness`, `/_liveness` on port 3000, hobby 2024+), naming
    each unhealthy component (its Kafka producer); skipped where no such service is reachable (older
    versions capture in the web app)."""

    id = "capture.service"
    title = "Capture service"
    uses = ("capture",)
    tags = ("capture", "ingestion")
    category = "Ingestion"
    timeout = 15.0
    options = {"service_url": Option("http://capture:3000", "the Rust capture service's own address ('off': none)")}
    queries = (READINESS, LIVENESS)

    def run(self, ctx: Context) -> Outcome:
        url = str(ctx.options["service_url"]).strip()
        if url.lower() in ("off", "none", "") or ctx.probe("capture").error_kind == ErrorKind.DISABLED:
            raise Skip("no capture service to ask (capture is off, or service_url is off)")
        default = url == self.options["service_url"].default
        try:
            http = ctx.service_http("capture", url)
            ready = http.get("/_readiness", timeout=5.0)
        except ConnectorError as exc:
            if default and exc.kind == ErrorKind.DNS:
                raise Skip(
                    "no Rust capture service at capture:3000 from here (the name does not resolve): PostHog "
                    "before 2024 captures in the web app, and the service is reachable only on the compose "
                    "network; set capture.service.service_url to check one elsewhere"
                ) from None
            said = {
                ErrorKind.REFUSED: "refuses connections: it is not running",
                ErrorKind.TIMEOUT: "does not answer: it is hung or overloaded",
            }.get(exc.kind, f"cannot be asked ({exc})")
            return conclude([Finding.fail(f"the capture service at {_where(url)} {said}", RESTART, key="down")], "")
        findings = [judge_readiness(ready)]
        rows = [["/_readiness", ready.status, ready.excerpt(80)]]
        components: list[str] = []
        try:
            live = http.get("/_liveness", timeout=5.0)
            findings.append(judge_liveness(live))
            rows.append(["/_liveness", live.status, live.excerpt(160)])
            components = sorted(dict(_COMPONENT.findall(live.text())))
        except ConnectorError as exc:
            findings.append(Finding.fail(f"/_liveness did not answer: {exc}", RESTART, key="liveness"))
        evidence = [Table(f"Capture service at {_where(url)}", ["Endpoint", "HTTP", "Body"], rows)]
        healthy = f"the capture service at {_where(url)} is ready and live" + (
            f" ({', '.join(components)} healthy)" if components else ""
        )
        return conclude(findings, healthy, evidence=evidence)


def judge_readiness(resp: HttpResponse) -> Finding:
    if resp.ok and resp.excerpt(20).strip() == "capture":
        return Finding.ok("ready")
    if resp.status == 404:
        return Finding.warn(
            "there is no /_readiness at this address: is it the Rust capture service (port 3000)?", key="not_capture"
        )
    return Finding.fail(f"/_readiness answered HTTP {resp.status}: {resp.excerpt(80)!r}", RESTART, key="not_ready")


def judge_liveness(resp: HttpResponse) -> Finding:
    text = resp.text()
    bad = unhealthy_components(text)
    if resp.ok and not bad:
        return Finding.ok("live")
    if bad:
        named = ", ".join(f"{name} ({COMPONENTS.get(name, 'a component')}) is {state}" for name, state in bad.items())
        return Finding.fail(
            f"the capture service reports itself unhealthy (/_liveness HTTP {resp.status}): {named}, so it cannot "
            "hand events on to Kafka",
            RESTART,
            key="unhealthy",
        )
    if "healthy: false" in text or resp.status >= 500:
        return Finding.fail(
            f"the capture service reports itself unhealthy (/_liveness HTTP {resp.status}: {resp.excerpt(80)!r})",
            RESTART,
            key="unhealthy",
        )
    return Finding.warn(f"/_liveness answered HTTP {resp.status}: {resp.excerpt(80)!r}", key="liveness")


def unhealthy_components(text: str) -> dict[str, str]:
    """Components of a HealthStatus Debug body whose state is not HealthyUntil(...)."""
    return {name: state for name, state in _COMPONENT.findall(text) if not state.startswith("HealthyUntil")}


def _where(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")
