"""Reading PostHog's own HTTP endpoints, shared by the checks that need them.

Each endpoint is fetched once per run (several checks read `/_preflight/`), and every way it can fail
becomes a ConnectorError in plain words: a 401/403 says which key is needed, never the key itself.
"""

from __future__ import annotations

from typing import Any

from posthog_doctor.check import Skip
from posthog_doctor.connectors import ConnectorError

API_KEY_HELP = ("a personal API key of a staff user (PostHog: Settings > Personal API keys), passed as "
                "POSTHOG_PERSONAL_API_KEY or --api-key")


def get_json(ctx, component: str, path: str, *, auth: bool = False, ok_statuses: tuple[int, ...] = (200,)) -> tuple[int, Any]:
    """GET `path` on an HTTP component and parse JSON; returns (status, body).

    Statuses in `ok_statuses` return normally (health endpoints answer 503 with a JSON body worth
    reading); 401/403 and any other status raise a ConnectorError that says what went wrong.
    """
    http = getattr(ctx, component)
    resp = http.get(path, auth=auth)
    if resp.status in (401, 403):
        need = API_KEY_HELP if not ctx.has_api_key else "an API key whose user is staff (instance admin)"
        given = "the API key given was refused" if ctx.has_api_key else "no API key was given"
        raise ConnectorError(f"{path} answered HTTP {resp.status}: {given}; it needs {need}", "auth")
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
