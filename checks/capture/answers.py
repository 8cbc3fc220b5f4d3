"""How each capture answers a GET that carries no event, and what that says about the path to it.

- Rust capture (hobby 2024+, `rust/capture`): `v0_endpoint::event` parses the empty body and fails with
  `CaptureError::RequestParsingError`, which `api.rs` answers as 400 text/plain
  "failed to parse request: EOF while parsing a value at line 1 column 0".
- Django capture (`posthog/api/capture.py`, `get_event`): 400 JSON
  `{"type": "validation_error", "code": "no_data", "detail": "No data found. Make sure to use a POST
  request ..."}`; before 2022 `{"code": "validation", "message": "No data found. ..."}`.
- A path the proxy sends to the web app instead (`/i/v0/e/` before Rust capture existed) reaches Django's
  catch-all, which redirects to the login page: an HTML page, not capture.
- Caddy answers 502 with an empty body when the service behind a route does not answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from posthog_doctor.check import HttpResponse

# Paths every SDK generation posts events to, as PostHog's Caddyfile routes them to capture
# (docker-compose.base.yml @capture: /e, /i/v0, /batch, /capture); /i/v0/e/ is the newest SDKs' endpoint.
PATHS = ("/e/", "/batch/", "/capture/", "/i/v0/e/")
NEWEST_ONLY = "/i/v0/e/"  # Django capture never served it: on a Django-capture PostHog it is not capture

_RUST = re.compile(r"^(failed to (parse|decode) request|request holds no event|event submitted)", re.I)
_NO_DATA = "no data found"

RUST, DJANGO, WEB_PAGE, NOT_FOUND, PROXY_ERROR, SERVER_ERROR, OTHER = (
    "Rust capture",
    "Django capture",
    "web page",
    "not found",
    "proxy error",
    "server error",
    "other",
)


@dataclass(frozen=True)
class PathAnswer:
    path: str
    status: int
    kind: str  # one of the names above
    said: str  # the start of the body, on one line

    @property
    def is_capture(self) -> bool:
        return self.kind in (RUST, DJANGO)


def classify(resp: HttpResponse) -> PathAnswer:
    text = resp.excerpt(100)
    if resp.status in (502, 503, 504):
        kind = PROXY_ERROR
    elif resp.status >= 500:
        kind = SERVER_ERROR
    elif resp.status == 404:
        kind = NOT_FOUND
    elif _RUST.match(text) and "json" not in resp.content_type:
        kind = RUST
    elif _NO_DATA in text.lower() or (resp.ok and text.strip() == "1"):  # the 2020 capture answered "1"
        kind = DJANGO
    elif "html" in resp.content_type:
        kind = WEB_PAGE
    else:
        kind = OTHER
    return PathAnswer(resp.path, resp.status, kind, text)
