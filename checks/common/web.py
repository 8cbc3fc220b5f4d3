"""Reading PostHog's own HTTP endpoints, shared by the checks that need them.

Each endpoint is fetched once per run (several checks read `/_preflight/` or the plugin server's
`/_health`); the HTTP connector turns every way a call can fail into a plain-words error, a 401/403
included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posthog_doctor.check import ConnectorError, Context, ErrorKind, Http, Skip

# On self-hosted PostHog any logged-in user may read System Status (`SingleTenancyOrAdmin`: staff only on
# PostHog Cloud), so any user's personal API key will do.
API_KEY_HELP = (
    "a personal API key of a user of this PostHog (Settings > Personal API keys), passed as "
    "POSTHOG_PERSONAL_API_KEY or --api-key"
)


# A 403 (not a 401) means the key was accepted and then refused for this page. On self-hosted every user may
# read it (posthog/permissions.py `SingleTenancyOrAdmin`: `not is_cloud() or request.user.is_staff`), so the
# refusal comes from the key: newer PostHog gives personal API keys scopes, and a scoped key may not reach
# this internal endpoint (whether instance_status accepts any scope is not settled in PostHog's source).
FORBIDDEN = (
    "the API key was accepted but may not read System Status. Any user of a self-hosted PostHog may read it "
    "(only PostHog Cloud limits it to staff), so the key itself is limited: use a personal API key without "
    "scope limits, or save the page from the browser and pass it with --status-file"
)


def preflight(ctx: Context) -> dict[str, Any]:
    """`/_preflight/`: service flags, realm, version. Fetched once per run."""

    def fetch() -> dict[str, Any]:
        _, body = ctx.posthog_api.get_json("/_preflight/", auth=ctx.has_api_key)
        if not isinstance(body, dict):
            raise ConnectorError("/_preflight/ answered JSON that is not an object", ErrorKind.PROTOCOL)
        return body

    return ctx.shared("posthog_api:/_preflight/", fetch)


def instance_status(ctx: Context) -> dict[str, Any]:
    """`/api/instance_status` (the System Status page's data). Needs a personal API key."""
    if not ctx.has_api_key:
        raise Skip(f"the System Status API needs {API_KEY_HELP}")

    def fetch() -> dict[str, Any]:
        try:
            _, body = ctx.posthog_api.get_json("/api/instance_status", auth=True)
        except ConnectorError as exc:
            if exc.kind == ErrorKind.AUTH and "403" in str(exc):
                raise ConnectorError(f"/api/instance_status answered HTTP 403: {FORBIDDEN}", ErrorKind.AUTH) from None
            raise
        if not isinstance(body, dict):
            raise ConnectorError("/api/instance_status answered JSON that is not an object", ErrorKind.PROTOCOL)
        return body

    return ctx.shared("posthog_api:/api/instance_status", fetch)


# --- health endpoints ---------------------------------------------------------------------------
# Health endpoints say as much with their status code as with their body (503 + a JSON of failing
# checks), so they are read whatever the status (a 401 there comes from a proxy, not from PostHog), and
# the body is kept even when it is not JSON.


@dataclass(frozen=True)
class HealthAnswer:
    """What a health endpoint answered: its status, its body as JSON when it was JSON, and an excerpt."""

    path: str
    status: int
    content_type: str
    body: Any  # the parsed JSON, or None when the body was not JSON
    is_json: bool
    excerpt: str  # the start of the body on one line, to quote in a summary

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def fields(self) -> dict[str, Any]:
        """The JSON body when it is an object, else an empty mapping."""
        return self.body if isinstance(self.body, dict) else {}


HEALTH_CALL_SECONDS = 5.0  # a health endpoint slower than this is a finding in itself


def health(ctx: Context, component: str, path: str, *, seconds: float = HEALTH_CALL_SECONDS) -> HealthAnswer:
    """GET a health endpoint once per run; transport failures (refused, timeout, TLS) raise ConnectorError."""
    # an HTTP component; a health endpoint never needs the API key
    return ctx.shared(f"{component}:{path}", lambda: read_health(getattr(ctx, component), path, seconds))


def read_health(http: Http, path: str, seconds: float = HEALTH_CALL_SECONDS) -> HealthAnswer:
    """GET a health endpoint of `http` (not cached: callers share it with ctx.shared)."""
    resp = http.get(path, timeout=seconds)
    try:
        body, is_json = resp.json(), True
    except ConnectorError:  # not JSON, or larger than the cap: the excerpt still says what came back
        body, is_json = None, False
    return HealthAnswer(path, resp.status, resp.content_type, body, is_json, resp.excerpt(120))
