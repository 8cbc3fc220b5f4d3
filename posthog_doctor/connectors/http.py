"""HTTP endpoints (PostHog's web app, the plugin server, capture): GET, and OPTIONS for a CORS preflight.

GET is the only method that carries a request to PostHog; `options` sends a CORS preflight (headers only,
no body), the one other method the doctor ever uses: browsers send the same before every event, and it
ingests nothing. Redirects are followed only on the same host (a GET only), so an API key is never
handed to another server.
A body larger than the cap is cut and marked `truncated`; the whole exchange ends by the deadline even
when a server trickles bytes. `get_json` reads a JSON API and says in plain words what a 401 or 403
means for the key the run was given (never the key itself).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from .. import __version__
from ..endpoints import Endpoint
from .base import ConnectorError, Deadline, ErrorKind, first_line, network_error

MAX_BODY_BYTES = 2_000_000
CALL_CAP_SECONDS = 10.0
MAX_REDIRECTS = 3
METHODS = ("GET", "OPTIONS")  # every method the doctor may send (SECURITY.md); OPTIONS only as a CORS preflight


@dataclass
class HttpResponse:
    status: int
    content_type: str
    body: bytes
    truncated: bool
    elapsed_ms: float
    path: str
    headers: dict[str, str] = field(default_factory=dict)  # response headers, names lower-cased

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def excerpt(self, limit: int = 120) -> str:
        """The start of the body on one line, to quote in a summary."""
        text = " ".join(self.text().split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def json(self) -> Any:
        """The body as JSON, or a ConnectorError that says what came back instead."""
        if self.truncated:
            raise ConnectorError(
                f"{self.path} answered with more than {len(self.body):,} bytes; not parsed", ErrorKind.TOO_LARGE
            )
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            kind = self.content_type or "no content type"
            raise ConnectorError(
                f"{self.path} answered HTTP {self.status} with a body that is not JSON ({kind}): {self.excerpt(80)!r}",
                ErrorKind.PROTOCOL,
            ) from None


class Http:
    """GET requests against one HTTP component for one check."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline, *, token: str = "", max_bytes: int = MAX_BODY_BYTES):
        self.endpoint = endpoint
        self.deadline = deadline
        self.token = token
        self.max_bytes = max_bytes
        self.base = f"{endpoint.scheme}://{endpoint.host}:{endpoint.port}{endpoint.database}"
        self.where = f"{endpoint.host}:{endpoint.port}"
        self.verify = endpoint.param("verify", "true").lower() not in ("0", "false", "no", "off")
        self._session: Any = None  # a requests.Session, made on first use (requests is imported lazily)

    def get(
        self, path: str, params: dict[str, str] | None = None, *, timeout: float | None = None, auth: bool = False
    ) -> HttpResponse:
        """GET `path` below the endpoint's base URL. `auth` sends the API key as a Bearer token."""
        headers = {}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self._request("GET", path, params, headers, timeout)

    def options(
        self, path: str, *, origin: str, request_method: str = "POST", timeout: float | None = None
    ) -> HttpResponse:
        """A CORS preflight for `path`, as a browser sends it before posting an event from `origin`.

        No body, no credentials, no API key; a redirect is returned, not followed. Read the verdict from
        the response's `access-control-allow-*` headers.
        """
        headers = {"Origin": origin, "Access-Control-Request-Method": request_method}
        return self._request("OPTIONS", path, None, headers, timeout)

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        extra_headers: dict[str, str],
        timeout: float | None,
    ) -> HttpResponse:
        import requests

        if method not in METHODS:  # the read-only promise, kept here as well as by the callers
            raise ConnectorError(f"refused to send an HTTP {method}", ErrorKind.NOT_ALLOWED)
        limit = self.deadline.limit(timeout or CALL_CAP_SECONDS)
        stop_at = time.monotonic() + limit
        session = self._connect()
        url = self.base + path
        shown = path
        headers = {
            "Accept": "application/json, text/plain;q=0.9, */*;q=0.5",
            "User-Agent": f"posthog-doctor/{__version__}",
            **extra_headers,
        }
        started = time.monotonic()
        try:
            for _ in range(MAX_REDIRECTS + 1):
                left = max(0.1, stop_at - time.monotonic())
                resp = session.request(
                    method,
                    url,
                    params=params,
                    headers=headers,
                    timeout=(min(left, 5.0), left),
                    stream=True,
                    allow_redirects=False,
                    verify=self.verify,
                )
                if resp.is_redirect and method == "GET":
                    target = urljoin(url, resp.headers.get("Location", ""))
                    resp.close()
                    if urlsplit(target).hostname != self.endpoint.host:
                        raise ConnectorError(
                            f"{shown} redirected to another host ({urlsplit(target).hostname}); not followed "
                            f"(point the URL at the final address)",
                            ErrorKind.REDIRECT,
                        )
                    url, params = target, None
                    continue
                answered = {k.lower(): v for k, v in resp.headers.items()}
                body, truncated = self._read(resp, stop_at)
                return HttpResponse(
                    resp.status_code,
                    resp.headers.get("Content-Type", "").split(";")[0].strip(),
                    body,
                    truncated,
                    (time.monotonic() - started) * 1000,
                    shown,
                    answered,
                )
            raise ConnectorError(f"{shown}: more than {MAX_REDIRECTS} redirects; not followed", ErrorKind.REDIRECT)
        except requests.exceptions.SSLError as exc:
            raise ConnectorError(f"TLS with {self.where} failed: {_reason(exc)}", ErrorKind.TLS) from None
        except requests.exceptions.Timeout:
            raise ConnectorError(
                f"no answer from {self.where}{shown} within {limit:.1f} s", ErrorKind.TIMEOUT
            ) from None
        except requests.exceptions.ConnectionError as exc:
            raise network_error(_root(exc), self.where, limit) from None
        except requests.exceptions.RequestException as exc:
            raise ConnectorError(f"cannot talk to {self.where}: {_reason(exc)}", ErrorKind.PROTOCOL) from None

    def get_json(
        self,
        path: str,
        params: dict[str, str] | None = None,
        *,
        auth: bool = False,
        ok_statuses: tuple[int, ...] = (200,),
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        """GET `path` and parse its JSON body; returns (status, body).

        Statuses in `ok_statuses` return normally (a health endpoint's 503 carries a body worth reading);
        401 and 403 raise an `auth` error that says whether a key was sent; any other status raises an
        `http_status` error quoting the start of the body.
        """
        resp = self.get(path, params, auth=auth, timeout=timeout)
        if resp.status in (401, 403):
            if auth and self.token:
                said = "the API key given was refused (wrong key, or its user may not read this)"
            else:
                said = "no API key was given (pass one with --api-key or POSTHOG_PERSONAL_API_KEY)"
            raise ConnectorError(f"{path} answered HTTP {resp.status}: {said}", ErrorKind.AUTH)
        if resp.status not in ok_statuses:
            raise ConnectorError(f"{path} answered HTTP {resp.status}: {resp.excerpt(100)!r}", ErrorKind.HTTP_STATUS)
        return resp.status, resp.json()

    def _read(self, resp, stop_at: float) -> tuple[bytes, bool]:
        import urllib3

        # read1 returns whatever has arrived, so a server trickling bytes is caught by the deadline
        # check below instead of holding one large read open.
        raw = resp.raw
        read = getattr(raw, "read1", raw.read)
        chunks, size = [], 0
        try:
            while chunk := read(16_384, decode_content=True):
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_bytes:
                    return b"".join(chunks)[: self.max_bytes], True
                if time.monotonic() > stop_at:
                    raise ConnectorError(f"{self.where} was still sending after the time limit", ErrorKind.TIMEOUT)
        except urllib3.exceptions.ReadTimeoutError:
            raise ConnectorError(
                f"{self.where} stopped sending in the middle of its answer", ErrorKind.TIMEOUT
            ) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ConnectorError(f"{self.where} broke off its answer: {_reason(exc)}", ErrorKind.PROTOCOL) from None
        finally:
            resp.close()
        return b"".join(chunks), False

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _connect(self):
        import requests

        if self._session is None:
            self._session = requests.Session()
            self._session.trust_env = False  # no proxies or .netrc credentials picked up by surprise
        return self._session


def _root(exc: BaseException) -> BaseException:
    """The innermost cause of a requests/urllib3 error (the socket error that says what happened)."""
    seen, visited = exc, {id(exc)}
    while True:
        reason = getattr(seen, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else None
        nxt = nxt or seen.__cause__ or seen.__context__
        if nxt is None and seen.args and isinstance(seen.args[0], BaseException):
            nxt = seen.args[0]
        if nxt is None or id(nxt) in visited:
            return seen
        visited.add(id(nxt))
        seen = nxt


def _reason(exc: BaseException) -> str:
    return first_line(str(_root(exc))) or type(exc).__name__
