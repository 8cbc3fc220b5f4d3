"""A real local HTTP server that plays PostHog's web app or plugin server, healthy or broken.

Tests register routes with exact bodies in PostHog's formats, plus failure behaviours: a status code,
a wrong content type, a delay longer than the doctor's deadline, a body that never ends, a connection
closed mid-answer. Routes answer GET unless registered for another method (`route(..., method="OPTIONS")`);
every request is recorded with its method (`requests`, `methods`), and a method nobody registered is
answered 405. `SilentServer` accepts TCP connections and never answers; `closed_port()` gives a port where
nothing listens (connection refused).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay: float = 0.0  # seconds before answering
    trickle: float = 0.0  # seconds between 1-byte chunks of the body (a slow sender)
    endless: bool = False  # keep sending forever (an oversized body)
    drop: bool = False  # close the connection without an answer
    hang: bool = False  # read the request and never answer (until the server closes), like 2022's /_ready
    headers: dict[str, str] = field(default_factory=dict)
    echo_origin: bool = False  # answer Access-Control-Allow-Origin with the request's Origin, when it has one
    hits: int = 0
    seen_auth: list[str] = field(default_factory=list)


class FakeServer:
    """Serves registered routes; unknown paths answer 404 like Django does."""

    def __init__(self, tls_certificate: tuple | None = None) -> None:
        """`tls_certificate` = (cert, key) serves HTTPS instead of HTTP."""
        self.routes: dict[str, Route] = {}  # GET routes, by path
        self.method_routes: dict[tuple[str, str], Route] = {}  # (method, path) -> route, for other methods
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, headers)
        self.closing = threading.Event()  # releases the handlers of `hang` routes
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                server.requests.append(("GET", self.path, dict(self.headers)))
                path = self.path.split("?", 1)[0]
                route = server.routes.get(self.path) or server.routes.get(path)
                if route is None:
                    return self._send(404, b'{"detail":"Not found."}', "application/json", {})
                self._answer(route)

            def do_OPTIONS(self) -> None:
                self._other_method("OPTIONS")

            def do_POST(self) -> None:
                self._other_method("POST")

            def do_PUT(self) -> None:
                self._other_method("PUT")

            def do_PATCH(self) -> None:
                self._other_method("PATCH")

            def do_DELETE(self) -> None:
                self._other_method("DELETE")

            def do_HEAD(self) -> None:
                self._other_method("HEAD")

            def _other_method(self, method: str) -> None:
                server.requests.append((method, self.path, dict(self.headers)))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                route = server.method_routes.get((method, self.path.split("?", 1)[0]))
                if route is None:
                    return self._send(405, b'{"detail":"Method not allowed."}', "application/json", {})
                self._answer(route)

            def _answer(self, route: Route) -> None:
                route.hits += 1
                route.seen_auth.append(self.headers.get("Authorization", ""))
                if route.delay:
                    time.sleep(route.delay)
                if route.hang:  # no status line, no headers: the client waits until it gives up
                    server.closing.wait()
                    self.close_connection = True
                    return
                if route.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if route.endless:
                    self.send_response(route.status)
                    self.send_header("Content-Type", route.content_type)
                    self.end_headers()
                    try:
                        while True:
                            self.wfile.write(b"x" * 65536)
                    except OSError:
                        return
                if route.trickle:
                    self.send_response(route.status)
                    self.send_header("Content-Type", route.content_type)
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    try:
                        for byte in route.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(route.trickle)
                    except OSError:
                        pass
                    return
                headers = dict(route.headers)
                if route.echo_origin and self.headers.get("Origin"):
                    headers["Access-Control-Allow-Origin"] = self.headers["Origin"]
                self._send(route.status, route.body, route.content_type, headers)

            def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        if tls_certificate is not None:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*map(str, tls_certificate))
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def route(
        self,
        path: str,
        body: Any = b"",
        *,
        status: int = 200,
        content_type: str | None = None,
        method: str = "GET",
        **kwargs: Any,
    ) -> Route:
        """Answer `method` on `path` with `body`: bytes and str are sent as they are, anything else as JSON."""
        if isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
            ctype = content_type if content_type is not None else "text/plain"
        else:
            data = json.dumps(body).encode()
            ctype = content_type if content_type is not None else "application/json"
        made = Route(status=status, body=data, content_type=ctype, **kwargs)
        if method == "GET":
            self.routes[path] = made
        else:
            self.method_routes[(method, path)] = made
        return made

    @property
    def methods(self) -> set[str]:
        """Every HTTP method this server was sent."""
        return {method for method, _, _ in self.requests}

    def close(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class SilentServer:
    """Accepts TCP connections and never says a word: the worst kind of hung server."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)  # keep it open, read nothing, send nothing
            except OSError:
                return

    def close(self) -> None:
        self._stop = True
        for conn in self.held:
            conn.close()
        self.sock.close()


def closed_port() -> int:
    """A port on which nothing listens (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
