"""Reading PostHog's own HTTP endpoints, shared by the checks that need them.

Each endpoint is fetched once per run (several checks read `/_preflight/` or the plugin server's
`/_health`), and every way it can fail becomes a ConnectorError in plain words: a 401/403 says which
key is needed, never the key itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from posthog_doctor.check import Skip
from posthog_doctor.connectors import ConnectorError

API_KEY_HELP = ("a personal API key of a staff user (PostHog: Settings > Personal API keys), passed as "
                "POSTHOG_PERSONAL_API_KEY or --api-key")


def _refuse_auth(ctx, path: str, status: int) -> ConnectorError:
    """The plain-words error for a 401/403: which key the endpoint needs, and whether one was given."""
    need = API_KEY_HELP if not ctx.has_api_key else "an API key whose user is staff (instance admin)"
    given = "the API key given was refused" if ctx.has_api_key else "no API key was given"
    return ConnectorError(f"{path} answered HTTP {status}: {given}; it needs {need}", "auth")


def get_json(ctx, component: str, path: str, *, auth: bool = False, ok_statuses: tuple[int, ...] = (200,)) -> tuple[int, Any]:
    """GET `path` on an HTTP component and parse JSON; returns (status, body).

    Statuses in `ok_statuses` return normally (health endpoints answer 503 with a JSON body worth
    reading); 401/403 and any other status raise a ConnectorError that says what went wrong.
    """
    http = getattr(ctx, component)
    resp = http.get(path, auth=auth)
    if resp.status in (401, 403):
        raise _refuse_auth(ctx, path, resp.status)
    if resp.status not in ok_statuses:
        raise ConnectorError(f"{path} answered HTTP {resp.status}: {resp.excerpt(100)!r}", "http_status")
    return resp.status, resp.json()


def preflight(ctx) -> dict[str, Any]:
    """`/_preflight/`: service flags, realm, version. Fetched once per run."""
    def fetch() -> dict[str, Any]:
        _, body = get_json(ctx, "posthog_api", "/_preflight/", auth=ctx.has_api_key)
        if not isinstance(body, dict):
            raise ConnectorError("/_preflight/ answered JSON that is not an object", "protocol")
        return body

    return ctx.shared("posthog_api:/_preflight/", fetch)


def instance_status(ctx) -> dict[str, Any]:
    """`/api/instance_status` (the System Status page's data). Needs a personal API key of a staff user."""
    if not ctx.has_api_key:
        raise Skip(f"the System Status API needs {API_KEY_HELP}")

    def fetch() -> dict[str, Any]:
        _, body = get_json(ctx, "posthog_api", "/api/instance_status", auth=True)
        if not isinstance(body, dict):
            raise ConnectorError("/api/instance_status answered JSON that is not an object", "protocol")
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


def health(ctx, component: str, path: str) -> HealthAnswer:
    """GET a health endpoint once per run; transport failures (refused, timeout, TLS) raise ConnectorError."""
    def fetch() -> HealthAnswer:
        resp = getattr(ctx, component).get(path, timeout=HEALTH_CALL_SECONDS)  # never needs the API key
        try:
            body, is_json = resp.json(), True
        except ConnectorError:  # not JSON, or larger than the cap: the excerpt still says what came back
            body, is_json = None, False
        return HealthAnswer(path, resp.status, resp.content_type, body, is_json, resp.excerpt(120))

    return ctx.shared(f"{component}:{path}", fetch)
