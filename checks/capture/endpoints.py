"""Do the public capture endpoints reach capture, and may a browser post events to them?

Each of /e/, /batch/, /capture/ and /i/v0/e/ is asked with a GET that carries no event: every capture
answers it with 400 "no data" and ingests nothing, so the answer tells whether the address customers send
to reaches capture (Rust or Django), a page of the web app, nothing (404), or a proxy that cannot reach
the service behind it (502). The CORS verdict comes from an OPTIONS preflight, as browsers send before
every event: PostHog's captures echo the request's Origin (Django's `cors_response`, posthog/utils_cors.py;
Rust capture's `CorsLayer` with `AllowOrigin::mirror_request()`, rust/capture/src/router.rs) and allow
GET, POST and OPTIONS.
"""

from __future__ import annotations

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    ErrorKind,
    Evidence,
    Finding,
    HttpResponse,
    Item,
    Option,
    Outcome,
    Query,
    Skip,
    Table,
    Values,
    conclude,
    units,
)

from ..common import docs
from .answers import (
    DJANGO,
    NEWEST_ONLY,
    NOT_FOUND,
    OTHER,
    PATHS,
    PROXY_ERROR,
    RUST,
    SERVER_ERROR,
    WEB_PAGE,
    PathAnswer,
    classify,
)

REQUESTS = tuple(Query("capture", f"GET {p}", f"GET {p}  (no body, no query: no event to ingest)") for p in PATHS)
PREFLIGHT = Query(
    "capture",
    "OPTIONS preflight",
    "OPTIONS <the first capture path that answered>  with Origin: <option origin> and "
    "Access-Control-Request-Method: POST  (a CORS preflight: headers only, no body)",
)

CAPTURE_DOWN = Advice(
    "The proxy is up but the capture service behind it is not answering, so every event is lost until it "
    "is back. Start it and read why it stopped (it needs Kafka and Redis to start).",
    commands=[
        "docker compose ps capture",
        "docker compose logs --tail 200 capture",
        "docker compose up -d capture",
    ],
    links=[docs.HOBBY_COMPOSE_SOURCE, docs.TROUBLESHOOTING],
)
ROUTING = Advice(
    "The address SDKs send to must route /e, /batch, /capture and /i/v0 to capture (the hobby Caddyfile's "
    "@capture matcher sends them to capture:3000; older versions send everything to web:8000). Compare your "
    "proxy's routes with docker-compose.base.yml of your PostHog version.",
    links=[docs.HOBBY_COMPOSE_SOURCE, docs.PROXY_CADDY, docs.CAPTURE_API],
)
CORS = Advice(
    "Browsers refuse to post events unless the preflight is answered with Access-Control-Allow-Origin for "
    "the page's origin; server-side SDKs are not affected. PostHog's capture echoes every origin, so a "
    "missing or fixed header comes from a proxy in front of it (a CDN, an ingress, a Caddy or nginx rule "
    "answering OPTIONS itself): let the preflight through to PostHog, or echo the Origin there.",
    links=[docs.PROXY_TROUBLESHOOTING, docs.RUST_CAPTURE_ROUTER],
)
ADDRESS = Advice(
    "Give the address SDKs send events to (the `api_host` of posthog-js, usually SITE_URL) with "
    "--capture-url https://posthog.example.com, or run the doctor on PostHog's network (hobby: the "
    "`proxy` service on port 80).",
    links=[docs.HOBBY_DEPLOY],
)


class CaptureEndpoints(Check):
    """The public capture endpoints (`/e/`, `/batch/`, `/capture/`, `/i/v0/e/`) asked with a GET that carries no
    event: does the address SDKs send to reach capture (Rust or Django), and does a CORS preflight (OPTIONS)
    let browsers post from another site."""

    id = "capture.endpoints"
    title = "Capture endpoints"
    uses = ("capture",)
    tags = ("capture", "ingestion")
    category = "Ingestion"
    timeout = 20.0
    options = {
        "origin": Option("https://example.com", "the Origin the CORS preflight is sent from (a site with the SDK)"),
        "slow_ms": Option(2000.0, "warn when a capture endpoint takes longer than this to answer (ms)"),
    }
    queries = (*REQUESTS, PREFLIGHT)

    def run(self, ctx: Context) -> Outcome:
        probe = ctx.probe("capture")
        if not probe.reachable:
            return self._unreachable(ctx, probe.summary, probe.error_kind)
        http = ctx.capture
        where = probe.endpoint
        answers: list[PathAnswer] = []
        elapsed: list[float] = []
        findings: list[Finding] = []
        for path in PATHS:
            try:
                resp = http.get(path)
            except ConnectorError as exc:
                findings.append(Finding.fail(f"{path} did not answer: {exc}", CAPTURE_DOWN, key="no_answer"))
                continue
            answers.append(classify(resp))
            elapsed.append(resp.elapsed_ms)
        findings += judge_paths(answers)
        slow = [a for a, ms in zip(answers, elapsed, strict=True) if ms > ctx.options["slow_ms"]]
        if slow:
            findings.append(
                Finding.warn(
                    f"capture is slow: {', '.join(a.path for a in slow)} took more than "
                    f"{units.milliseconds(ctx.options['slow_ms'])} to answer",
                    CAPTURE_DOWN,
                    key="slow",
                )
            )

        preflight_row: list = []
        target = next((a for a in answers if a.kind == RUST and a.path == NEWEST_ONLY), None) or next(
            (a for a in answers if a.is_capture), None
        )
        if target is not None:
            origin = ctx.options["origin"]
            try:
                resp = http.options(target.path, origin=origin)
                findings.append(judge_preflight(resp, origin))
                preflight_row = [
                    target.path,
                    resp.status,
                    resp.headers.get("access-control-allow-origin", "—"),
                    resp.headers.get("access-control-allow-methods", "—"),
                    resp.headers.get("access-control-allow-credentials", "—"),
                ]
            except ConnectorError as exc:
                findings.append(Finding.fail(f"the CORS preflight on {target.path} did not answer: {exc}", CORS))

        captures = sorted({a.kind for a in answers if a.is_capture})
        evidence: list[Evidence] = [
            Values(
                "Capture address",
                [
                    Item("Address", where, "address"),
                    Item("Answered by", ", ".join(captures) or "no capture", "capture"),
                ],
            ),
            Table(
                "Capture endpoints (GET without an event)",
                ["Path", "HTTP", "Answered by", "Body", "ms"],
                [[a.path, a.status, a.kind, a.said, round(ms)] for a, ms in zip(answers, elapsed, strict=True)],
            ),
        ]
        if preflight_row:
            evidence.append(
                Table(
                    f"CORS preflight (Origin: {ctx.options['origin']})",
                    ["Path", "HTTP", "Allow-Origin", "Allow-Methods", "Allow-Credentials"],
                    [preflight_row],
                )
            )
        reached = [a.path for a in answers if a.is_capture]
        healthy = f"{' and '.join(captures) or 'capture'} answers on {', '.join(reached)}"
        if preflight_row:
            healthy += "; browsers may post from other sites (CORS)"
        return conclude(
            findings,
            healthy,
            evidence=evidence,
            metrics={"capture_paths_reached": float(len(reached))},
        )

    @staticmethod
    def _unreachable(ctx: Context, said: str, kind: ErrorKind | None) -> Outcome:
        if kind in (ErrorKind.DISABLED, ErrorKind.NOT_CONFIGURED) or not ctx.configured("capture"):
            # Only hobby's default addresses were tried: nothing there says nothing about PostHog.
            raise Skip(f"no capture address answers ({said}); pass --capture-url with the address SDKs send to")
        return conclude(
            [Finding.fail(f"the capture address does not answer: {said}", ADDRESS, CAPTURE_DOWN, key="unreachable")],
            "",
        )


def judge_paths(answers: list[PathAnswer]) -> list[Finding]:
    """One finding per kind of trouble, naming the paths it affects."""
    if not answers:
        return []
    by_kind: dict[str, list[PathAnswer]] = {}
    for answer in answers:
        by_kind.setdefault(answer.kind, []).append(answer)
    findings: list[Finding] = []

    def paths(kind: str) -> str:
        return ", ".join(a.path for a in by_kind[kind])

    if PROXY_ERROR in by_kind:
        status = by_kind[PROXY_ERROR][0].status
        findings.append(
            Finding.fail(
                f"the proxy answers HTTP {status} on {paths(PROXY_ERROR)}: it cannot reach the capture service "
                "behind it (hobby: capture:3000), so every event sent there is lost",
                CAPTURE_DOWN,
                key="capture_down",
            )
        )
    if SERVER_ERROR in by_kind:
        first = by_kind[SERVER_ERROR][0]
        findings.append(
            Finding.fail(
                f"capture fails on {paths(SERVER_ERROR)} (HTTP {first.status}: {first.said[:80]!r})",
                CAPTURE_DOWN,
                key="server_error",
            )
        )
    django = DJANGO in by_kind
    for kind, sentence in ((NOT_FOUND, "nothing is there (HTTP 404)"), (WEB_PAGE, "a web page answers, not capture")):
        # Django capture never served /i/v0/e/: there, its absence is the version, not a fault.
        missing = [a for a in by_kind.get(kind, []) if a.path != NEWEST_ONLY or not django]
        if missing:
            findings.append(
                Finding.fail(
                    f"{', '.join(a.path for a in missing)} do not reach capture: {sentence}, so SDKs sending there "
                    "lose their events",
                    ROUTING,
                    key="not_routed",
                )
            )
        elif kind in by_kind:  # only /i/v0/e/, on a PostHog whose capture is Django's
            findings.append(Finding.ok(f"{NEWEST_ONLY} is not capture here: this PostHog's Django capture predates it"))
    if OTHER in by_kind:
        first = by_kind[OTHER][0]
        findings.append(
            Finding.warn(
                f"{paths(OTHER)} answered HTTP {first.status} ({first.said[:80]!r}), not as capture does: is "
                "something in front of capture (an auth proxy, a WAF)?",
                ROUTING,
                key="unexpected",
            )
        )
    if RUST in by_kind and DJANGO in by_kind:
        findings.append(Finding.ok(f"{paths(RUST)} reach Rust capture and {paths(DJANGO)} Django's", key="mixed"))
    return findings


def judge_preflight(resp: HttpResponse, origin: str) -> Finding:
    allowed = resp.headers.get("access-control-allow-origin", "")
    methods = resp.headers.get("access-control-allow-methods", "")
    where = f"the CORS preflight on {resp.path}"
    if not 200 <= resp.status < 300:
        return Finding.fail(
            f"{where} answered HTTP {resp.status}: browsers will not post events from other sites", CORS, key="cors"
        )
    if not allowed:
        return Finding.fail(
            f"{where} answered without Access-Control-Allow-Origin: browsers refuse to post events from other "
            "sites (server-side SDKs still work)",
            CORS,
            key="cors",
        )
    if allowed not in ("*", origin):
        return Finding.warn(
            f"{where} allows only {allowed}, not {origin}: browsers on any other site cannot post events",
            CORS,
            key="cors",
        )
    if methods and "POST" not in methods.upper() and methods.strip() != "*":
        return Finding.fail(f"{where} does not allow POST (it allows {methods})", CORS, key="cors")
    return Finding.ok(f"{where} allows {origin} to post events")
