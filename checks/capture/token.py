"""Is the project token SDKs send known to this PostHog? Found out without sending an event.

Capture cannot tell: Rust capture checks only a token's shape (rust/capture/src/token.rs: "We don't validate
these against team lookup at the edge"), answers 200 and ingestion drops the events later; and `GET /decide/`
answers 200 whatever the token. Two GET endpoints look the token up instead:

- `GET /array/<token>/config` (remote config, late 2024+; posthog/api/remote_config.py and its test
  test_remote_config.py): 200 with the project's SDK config for a known token, 404 for an unknown one,
  400 `{"detail": "Invalid token"}` for one that is not `[a-zA-Z0-9_-]`, at most 200 characters. Before it
  existed Django's catch-all redirects the path to the login page.
- `GET /api/early_access_features/?token=<token>` (2023+; posthog/api/early_access_feature.py): 200
  `{"earlyAccessFeatures": [...]}` for a known token, 401 `invalid_api_key` for an unknown one. Before it
  existed `/api/...` answers 404 "Endpoint not found.".

Neither ingests anything. On a PostHog older than both, the token cannot be checked without sending an
event, and the check says so. The token is a secret of the run: it never appears in the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    Finding,
    HttpResponse,
    Outcome,
    Query,
    Skip,
    Table,
    Undetermined,
    conclude,
)

from ..common import docs

REMOTE_CONFIG = Query("capture", "GET remote config", "GET /array/<project token>/config")
EARLY_ACCESS = Query("capture", "GET early access features", "GET /api/early_access_features/?token=<project token>")
_SHAPE = re.compile(r"^[a-zA-Z0-9_-]{1,200}$")  # RemoteConfig's check_token (remote_config.py)
SOURCES = f"{docs.REMOTE_CONFIG_VIEW} and {docs.EARLY_ACCESS_VIEW}"

WRONG_TOKEN = Advice(
    "Copy the project API key from this PostHog (Settings > Project > Project API key, it starts with phc_) "
    "into the SDK's init, and check that the SDK's api_host points at this PostHog and not at PostHog Cloud "
    "(a Cloud token is unknown here, and this instance's token is unknown there). Capture accepts events "
    "with any well-formed token and ingestion drops the unknown ones, so nothing shows up and nothing fails "
    "visibly.",
    links=[docs.CAPTURE_API, docs.REMOTE_CONFIG_VIEW, docs.EARLY_ACCESS_VIEW],
)
PERSONAL_KEY = Advice(
    "A personal API key (phx_…) is for reading PostHog's API, never for sending events: Rust capture refuses "
    "it (rust/capture/src/token.rs) and Django capture looks it up as a user's key. Use the project API key "
    "(phc_…) in the SDK.",
    links=[docs.CAPTURE_API],
)


@dataclass(frozen=True)
class Lookup:
    endpoint: str  # how the report names it (never with the token)
    status: int
    verdict: str  # "known", "unknown", "malformed", "absent" (no such endpoint on this version), "unclear"
    said: str


class CaptureToken(Check):
    """Whether the project token given with `--project-token` is known to this PostHog, asked through GET
    endpoints that look it up (`/array/<token>/config`, `/api/early_access_features/`), never by sending an
    event; says when this version has neither."""

    id = "capture.token_lookup"
    title = "Project token lookup"
    uses = ("capture",)
    tags = ("capture", "ingestion")
    category = "Ingestion"
    timeout = 15.0
    queries = (REMOTE_CONFIG, EARLY_ACCESS)

    def run(self, ctx: Context) -> Outcome:
        token = ctx.project_token
        if not token:
            raise Skip("no project token given (--project-token phc_… or POSTHOG_DOCTOR_PROJECT_TOKEN)")
        if token.startswith("phx_"):
            return conclude(
                [Finding.fail("the token given is a personal API key (phx_…), not a project token", PERSONAL_KEY)],
                "",
            )
        if not ctx.available("capture"):
            raise Skip(f"the capture address does not answer ({ctx.probe('capture').summary})")
        lookups = [_remote_config(ctx, token)]
        if lookups[0].verdict not in ("known", "malformed"):
            lookups.append(_early_access(ctx, token))
        evidence = [
            Table(
                "Token lookups (GET, nothing ingested)",
                ["Endpoint", "HTTP", "Verdict", "Answer"],
                [[lk.endpoint, lk.status, lk.verdict, lk.said] for lk in lookups],
                note=f"How each endpoint answers, in PostHog's source: {SOURCES}",
            )
        ]
        verdicts = {lk.verdict: lk for lk in lookups}
        if "known" in verdicts:
            found = Finding.ok(f"the project token given is known to this PostHog ({verdicts['known'].endpoint})")
        elif "malformed" in verdicts:
            found = Finding.fail(
                'the project token given is malformed: PostHog answers 400 "Invalid token" (a token is letters, '
                "digits, _ and -, at most 200 characters)",
                WRONG_TOKEN,
                key="malformed",
            )
        elif "unknown" in verdicts:
            by = " and ".join(f"{lk.endpoint} answered {lk.status}" for lk in lookups if lk.verdict == "unknown")
            found = Finding.fail(
                f"no project of this PostHog has the token given ({by}): events sent with it are accepted by "
                "capture and dropped in ingestion",
                WRONG_TOKEN,
                key="unknown",
            )
        elif all(lk.verdict == "absent" for lk in lookups):
            raise Undetermined(
                "this PostHog has neither /array/<token>/config (late 2024+) nor /api/early_access_features/ "
                "(2023+), so the token cannot be checked without sending an event; compare it by hand with "
                "Settings > Project > Project API key"
            )
        else:
            said = "; ".join(f"{lk.endpoint}: HTTP {lk.status} {lk.said!r}" for lk in lookups)
            raise Undetermined(f"the token lookups did not answer as PostHog does ({said})")
        return conclude([found], found.text, evidence=evidence)


def _remote_config(ctx: Context, token: str) -> Lookup:
    name = "/array/<token>/config"
    if not _SHAPE.match(token):
        return Lookup(name, 0, "malformed", "not sent: the token has characters PostHog never puts in one")
    resp = _get(ctx, f"/array/{token}/config", None)
    body = _json(resp)
    if resp.status == 200 and isinstance(body, dict) and body.get("token") == token:
        endpoint = (body.get("analytics") or {}).get("endpoint", "") if isinstance(body.get("analytics"), dict) else ""
        return Lookup(name, 200, "known", f"the project's SDK config (analytics endpoint {endpoint or 'not said'})")
    if resp.status == 400 and isinstance(body, dict) and "invalid token" in str(body.get("detail", "")).lower():
        return Lookup(name, 400, "malformed", str(body.get("detail")))
    if resp.status == 404:
        return Lookup(name, 404, "unknown", "no project has it")
    if resp.ok and "html" in resp.content_type:
        return Lookup(name, resp.status, "absent", "a web page (this version has no remote config)")
    return Lookup(name, resp.status, "unclear", resp.excerpt(80))


def _early_access(ctx: Context, token: str) -> Lookup:
    name = "/api/early_access_features/"
    resp = _get(ctx, "/api/early_access_features/", {"token": token})
    body = _json(resp)
    if resp.status == 200 and isinstance(body, dict) and "earlyAccessFeatures" in body:
        return Lookup(name, 200, "known", "the project's early access features")
    if resp.status == 401 and isinstance(body, dict) and body.get("code") == "invalid_api_key":
        return Lookup(name, 401, "unknown", str(body.get("detail", ""))[:100])
    if resp.status == 404:
        return Lookup(name, 404, "absent", "no such endpoint on this version")
    return Lookup(name, resp.status, "unclear", resp.excerpt(80))


def _get(ctx: Context, path: str, params: dict[str, str] | None) -> HttpResponse:
    try:
        return ctx.capture.get(path, params)
    except ConnectorError as exc:
        # The path is named without the token; the connector's message never carries the query string.
        raise Undetermined(f"the token lookup did not answer: {exc}".replace(ctx.project_token, "<token>")) from None


def _json(resp: HttpResponse) -> Any:
    try:
        return resp.json()
    except ConnectorError:
        return None
