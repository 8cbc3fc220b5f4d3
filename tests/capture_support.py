"""The capture path in PostHog's exact formats, served by the real local HTTP server (tests/http_server.py).

- Rust capture (hobby 2024+): rust/capture/src/v0_endpoint.rs and api.rs answer a GET without an event with
  400 text/plain "failed to parse request: EOF while parsing a value at line 1 column 0"; its preflight is
  answered by tower-http's CorsLayer (router.rs: allow_methods GET, POST, OPTIONS; origin and headers
  mirrored; credentials allowed): 200, empty body. Its own health (router.rs, rust/common/health):
  `/_readiness` 200 "capture", `/_liveness` 200/500 with a HealthStatus Debug body.
- Django capture (posthog/api/capture.py, posthog/utils_cors.py): 400 JSON `no_data` (2022+; before:
  `{"code": "validation", "message": ...}`), CORS headers only when the request has an Origin; OPTIONS
  answers 200 `{"status": 1}`. A path Django does not route (/i/v0/e/) hits the catch-all and redirects to
  the login page.
- Caddy (the hobby `proxy`) answers 502 with an empty body when the service behind a route is down.
- Token lookups: posthog/api/remote_config.py (`/array/<token>/config`, late 2024+) and
  posthog/api/early_access_feature.py (`/api/early_access_features/`, 2023+), with the error bodies of
  PostHog's exception handler (exceptions_hog: type, code, detail, attr).
"""

from __future__ import annotations

from tests.http_server import FakeServer

TOKEN = "phc_kQ3vZt9XbN2mLr7YcP4wHs8dJf6gTa1eUo5iKx0Bn3E"  # the shape PostHog gives project tokens
PATHS = ("/e/", "/batch/", "/capture/", "/i/v0/e/")

RUST_NO_EVENT = "failed to parse request: EOF while parsing a value at line 1 column 0"
RUST_CORS = {
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
    "Vary": "origin, access-control-request-method, access-control-request-headers",
}
DJANGO_NO_DATA = {
    "type": "validation_error",
    "code": "no_data",
    "detail": "No data found. Make sure to use a POST request when sending the payload in the body of the request.",
    "attr": None,
}
DJANGO_2021_NO_DATA = {
    "code": "validation",
    "message": "No data found. Make sure to use a POST request when sending the payload in the body of the request.",
}
DJANGO_CORS = {
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "X-Requested-With,Content-Type",
}
LOGIN_PAGE = '<!DOCTYPE html><html><head><title>PostHog</title></head><body><div id="root"></div></body></html>'

HEALTHY_LIVENESS = (
    'HealthStatus { healthy: true, components: {"rdkafka": HealthyUntil(2025-06-02 10:15:30.0 +00:00:00)} }'
)
UNHEALTHY_LIVENESS = 'HealthStatus { healthy: false, components: {"rdkafka": Unhealthy} }'

NOT_FOUND = {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
ENDPOINT_NOT_FOUND = {"type": "invalid_request", "code": "not_found", "detail": "Endpoint not found.", "attr": None}
INVALID_TOKEN = {"type": "validation_error", "code": "invalid_input", "detail": "Invalid token", "attr": None}
INVALID_API_KEY = {
    "type": "authentication_error",
    "code": "invalid_api_key",
    "detail": "Project API key invalid. You can find your project API key in PostHog project settings.",
    "attr": None,
}


def rust_capture(server: FakeServer, paths: tuple[str, ...] = PATHS) -> None:
    for path in paths:
        server.route(path, RUST_NO_EVENT, status=400, content_type="text/plain; charset=utf-8", echo_origin=True)
        server.route(path, b"", method="OPTIONS", content_type="", echo_origin=True, headers=dict(RUST_CORS))


def django_capture(server: FakeServer, generation: str = "2023") -> None:
    """Django's capture on /e/, /batch/, /capture/; /i/v0/e/ reaches the catch-all login redirect."""
    body = DJANGO_NO_DATA if generation != "2021" else DJANGO_2021_NO_DATA
    cors = dict(DJANGO_CORS)
    if generation == "2021":
        cors["Access-Control-Allow-Headers"] = "X-Requested-With"
    for path in ("/e/", "/batch/", "/capture/"):
        server.route(path, body, status=400, echo_origin=True, headers=cors)
        server.route(path, {"status": 1}, method="OPTIONS", echo_origin=True, headers=cors)
    web_page(server, "/i/v0/e/")


def web_page(server: FakeServer, path: str) -> None:
    """Django's catch-all (`login_required(home)`): a redirect to the login page, which is the app's HTML."""
    server.route(
        path, b"", status=302, content_type="text/html; charset=utf-8", headers={"Location": f"/login?next={path}"}
    )
    server.route("/login", LOGIN_PAGE, content_type="text/html; charset=utf-8")


def caddy_bad_gateway(server: FakeServer, paths: tuple[str, ...] = PATHS) -> None:
    """The hobby proxy with `capture` down: 502, no body, for every method."""
    for path in paths:
        server.route(path, b"", status=502, content_type="", headers={"Server": "Caddy"})
        server.route(path, b"", status=502, method="OPTIONS", content_type="", headers={"Server": "Caddy"})


def capture_service(server: FakeServer, *, live: bool = True) -> None:
    server.route("/_readiness", "capture", content_type="text/plain; charset=utf-8")
    server.route(
        "/_liveness",
        HEALTHY_LIVENESS if live else UNHEALTHY_LIVENESS,
        status=200 if live else 500,
        content_type="text/plain; charset=utf-8",
    )


def remote_config(server: FakeServer, token: str, *, known: bool) -> None:
    path = f"/array/{token}/config"
    if known:
        config = {
            "token": token,
            "supportedCompression": ["gzip", "gzip-js"],
            "hasFeatureFlags": False,
            "analytics": {"endpoint": "/i/v0/e/"},
            "sessionRecording": False,
            "heatmaps": False,
            "surveys": [],
            "defaultIdentifiedOnly": True,
            "siteApps": [],
        }
        server.route(path, config, headers={"Vary": "Origin, Referer"})
    else:
        server.route(path, NOT_FOUND, status=404)


def early_access(server: FakeServer, *, known: bool | None) -> None:
    """known None: a PostHog before 2023, where /api/... answers 404 "Endpoint not found."."""
    path = "/api/early_access_features/"
    if known is None:
        server.route(path, ENDPOINT_NOT_FOUND, status=404)
    elif known:
        server.route(path, {"earlyAccessFeatures": []})
    else:
        server.route(path, INVALID_API_KEY, status=401)
