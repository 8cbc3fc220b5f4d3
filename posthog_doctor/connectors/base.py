"""What every connector shares: plain-words errors, deadlines, probes and host resolution."""

from __future__ import annotations

import enum
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..endpoints import Endpoint


class ErrorKind(enum.StrEnum):
    """What went wrong talking to a component. A `str` enum, so `exc.kind == "refused"` also reads true."""

    REFUSED = "refused"  # nothing listens there
    DNS = "dns"  # the host name does not resolve
    TIMEOUT = "timeout"  # no answer within the deadline
    AUTH = "auth"  # user, password or key refused (or missing)
    TLS = "tls"  # TLS on one side only, or a certificate problem
    MISSING_DATABASE = "missing_database"
    MISSING_TABLE = "missing_table"  # a table, view, column or key the check expected is not there
    PERMISSION = "permission"  # authenticated, but not allowed to read this
    PROTOCOL = "protocol"  # something answered, but not in the protocol expected
    HTTP_STATUS = "http_status"  # an HTTP answer with a status the caller did not expect
    TOO_LARGE = "too_large"  # an answer or value larger than the doctor reads
    REDIRECT = "redirect"  # an HTTP redirect the doctor will not follow
    NOT_ALLOWED = "not_allowed"  # the doctor refused to send a statement that could write or consume
    WOULD_SCAN = "would_scan"  # the planner would scan a table the doctor promised not to scan
    BUDGET = "budget"  # a read budget ended the query
    MEMORY = "memory"  # the server's memory limit ended the query
    UNSUPPORTED = "unsupported"  # the server is too old (or too new) for this query
    WRONG_TYPE = "wrong_type"  # a Redis key holds another type than the one PostHog writes
    ERROR = "error"  # anything else
    # Only in probe results: why a component was not tried at all.
    DISABLED = "disabled"
    NOT_CONFIGURED = "not_configured"
    NOT_PROBED = "not_probed"


class ConnectorError(Exception):
    """A failure talking to a component, in plain words; `kind` classifies it for checks and tests."""

    def __init__(self, message: str, kind: ErrorKind | str = ErrorKind.ERROR):
        super().__init__(message)
        self.kind = ErrorKind(kind)


class MissingObject(ConnectorError):
    """A table, view or key the check expected does not exist (often: an older or newer PostHog)."""

    def __init__(self, message: str):
        super().__init__(message, ErrorKind.MISSING_TABLE)


class WouldScan(ConnectorError):
    """The planner chose a sequential scan for a statement the caller asked never to scan."""

    def __init__(self, message: str):
        super().__init__(message, ErrorKind.WOULD_SCAN)


@dataclass
class ProbeResult:
    """Whether a component answers at all, measured once per run before the checks start."""

    reachable: bool
    summary: str  # one line: "ClickHouse 23.9.2 answered in 3 ms" or why it did not
    version: str = ""
    latency_ms: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    error_kind: ErrorKind | None = None  # why it is not reachable
    endpoint: str = ""  # the redacted URL finally used (after default-host fallback)
    # For a component several endpoints play: each one and what its own probe found, in order.
    candidates: list[Candidate] = field(default_factory=list)


@dataclass
class Candidate:
    """One of a component's endpoints and what its probe found."""

    endpoint: Endpoint
    probe: ProbeResult

    @property
    def role(self) -> str:
        return self.endpoint.role


class Deadline:
    """A point in monotonic time; connectors size their client and server time limits from it."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def limit(self, cap: float | None = None, floor: float = 0.2) -> float:
        """Seconds a single call may take: what is left, at most `cap`, at least `floor`."""
        left = self.remaining()
        if cap is not None:
            left = min(left, cap)
        return max(left, floor)

    def expired(self) -> bool:
        return self.remaining() <= 0


def resolves(host: str, timeout: float = 2.0) -> bool:
    """Whether `host` resolves, giving up after `timeout` (getaddrinfo itself cannot be timed out)."""
    result: list[bool] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, None)
            result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=lookup, daemon=True, name=f"resolve-{host}")
    worker.start()
    worker.join(timeout)
    return bool(result and result[0])


def network_error(exc: BaseException, where: str, timeout: float | None = None) -> ConnectorError:
    """Turn a socket-level exception into a ConnectorError a customer can act on."""
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, ConnectionRefusedError) or "refused" in lowered:
        return ConnectorError(f"connection refused by {where}: nothing listens there", ErrorKind.REFUSED)
    if (
        isinstance(exc, socket.gaierror)
        or "name or service not known" in lowered
        or "nodename nor servname" in lowered
        or "temporary failure in name resolution" in lowered
        or "could not translate host name" in lowered
    ):
        return ConnectorError(f"cannot resolve the host of {where}: check the name and the network", ErrorKind.DNS)
    if isinstance(exc, (socket.timeout, TimeoutError)) or "timed out" in lowered or "timeout" in lowered:
        secs = f" within {timeout:.1f} s" if timeout else ""
        return ConnectorError(f"no answer from {where}{secs}", ErrorKind.TIMEOUT)
    if "ssl" in lowered or "tls" in lowered or "certificate" in lowered or "wrong version number" in lowered:
        return ConnectorError(f"TLS handshake with {where} failed: {first_line(text)}", ErrorKind.TLS)
    if (
        isinstance(exc, (ConnectionResetError, BrokenPipeError))
        or "reset by peer" in lowered
        or "unexpected eof" in lowered
    ):
        return ConnectorError(f"{where} closed the connection unexpectedly", ErrorKind.PROTOCOL)
    return ConnectorError(f"cannot talk to {where}: {first_line(text) or type(exc).__name__}", ErrorKind.ERROR)


# One pass, left to right, so whichever starts first wins: a quote inside a comment ("the znode's name") is
# not a string, and "--" inside a string is not a comment.
_TOKENS = re.compile(r"(?P<comment>--[^\n]*|/\*.*?(?:\*/|$))|(?P<literal>'(?:[^'\\]|\\.|'')*'?)", re.S)


def strip_comments(sql: str) -> str:
    """SQL without its comments (string literals kept), for deciding what kind of statement it is."""
    return _TOKENS.sub(lambda m: " " if m.group("comment") else m.group("literal"), sql).strip()


def first_line(text: str, limit: int = 300) -> str:
    """The first meaningful line of a (possibly multi-line, stack-trace-laden) error message."""
    for line in str(text).splitlines():
        line = line.strip()
        if line and not line.startswith(("Stack trace", "0.", "DB::Exception: Stack")):
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def to_text(value: Any) -> Any:
    """Decode bytes a driver returned (invalid UTF-8 in customer data) so every value is printable."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list):
        return [to_text(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_text(v) for v in value)
    if isinstance(value, dict):
        return {to_text(k): to_text(v) for k, v in value.items()}
    return value
