"""Before the client connects: tell the ways of not answering apart.

kafka-python reports a refused port, a silent one, a TLS mismatch and a port that does not speak Kafka all
as "Unable to bootstrap". A short preflight (DNS, TCP, TLS, one ApiVersions request on a raw socket) names
which it is, and returns the broker's API version ranges.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import ssl
import struct
import time

from ..base import ConnectorError, ErrorKind, first_line, resolves
from .target import KafkaTarget, hostport
from .tls import ssl_context

CLIENT_ID = "posthog-doctor"
API_VERSIONS, METADATA = 18, 3


def preflight(t: KafkaTarget, where: str, limit: float) -> dict[int, tuple[int, int]]:
    """Resolve, connect, (TLS) and ask ApiVersions on the bootstrap hosts, stopping at the first that answers.

    Returns the broker's API version ranges. Raises a ConnectorError of kind dns, refused, timeout, tls or
    protocol naming the first host's failure when none answers."""
    stop_at = time.monotonic() + limit
    errors: list[ConnectorError] = []
    for host, port in t.hosts:
        left = stop_at - time.monotonic()
        if left <= 0:
            break
        try:
            return _ask_api_versions(t, host, port, left)
        except ConnectorError as exc:
            errors.append(exc)
    if not errors:
        raise ConnectorError(f"no answer from {where} within {limit:.1f} s", ErrorKind.TIMEOUT)
    kinds = {e.kind for e in errors}
    first = errors[0]
    if len(errors) > 1 and len(kinds) > 1:
        raise ConnectorError(f"no bootstrap host of {where} answered; the first: {first}", first.kind)
    raise first


def _ask_api_versions(t: KafkaTarget, host: str, port: int, limit: float) -> dict[int, tuple[int, int]]:
    where = f"Kafka at {hostport(host, port)}"
    stop_at = time.monotonic() + limit
    if host != "localhost" and not _is_ip(host) and not resolves(host, min(limit, 2.0)):
        raise ConnectorError(f"cannot resolve the host of {where}: check the name and the network", ErrorKind.DNS)
    sock = _open(host, port, where, stop_at)
    try:
        if t.uses_tls:
            sock = _wrap_tls(sock, t, host, where, stop_at)
        try:
            body = _roundtrip(sock, API_VERSIONS, 0, b"", stop_at)
        except _Closed:
            if not t.uses_tls and _speaks_tls(host, port, stop_at):
                raise ConnectorError(
                    f"{where} speaks TLS: set security_protocol=SSL (or SASL_SSL)", ErrorKind.TLS
                ) from None
            raise ConnectorError(
                f"{where} closed the connection without answering: it may not be a Kafka broker, or it expects TLS",
                ErrorKind.PROTOCOL,
            ) from None
        except _Garbage:
            raise ConnectorError(
                f"{where} answered something that is not Kafka: is this the Kafka port?", ErrorKind.PROTOCOL
            ) from None
        except TimeoutError:
            raise ConnectorError(
                f"no answer from {where} within {limit:.1f} s: it accepted the connection but did "
                "not answer a Kafka ApiVersions request",
                ErrorKind.TIMEOUT,
            ) from None
        except ssl.SSLError as exc:
            raise ConnectorError(f"TLS with {where} failed: {first_line(str(exc))}", ErrorKind.TLS) from None
        except OSError as exc:
            raise ConnectorError(
                f"{where} dropped the connection: {first_line(str(exc))}", ErrorKind.PROTOCOL
            ) from None
        return _parse_api_versions(body, where)
    finally:
        with contextlib.suppress(OSError):
            sock.close()


def _is_ip(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except OSError:
            continue
    return False


def _open(host: str, port: int, where: str, stop_at: float) -> socket.socket:
    left = stop_at - time.monotonic()
    try:
        sock = socket.create_connection((host, port), timeout=max(0.05, left))
    except ConnectionRefusedError:
        raise ConnectorError(f"connection refused by {where}: nothing listens there", ErrorKind.REFUSED) from None
    except socket.gaierror:
        raise ConnectorError(
            f"cannot resolve the host of {where}: check the name and the network", ErrorKind.DNS
        ) from None
    except TimeoutError:
        raise ConnectorError(
            f"no answer from {where} within {max(0.05, left):.1f} s: the connection was not "
            "accepted (firewall or wrong address?)",
            ErrorKind.TIMEOUT,
        ) from None
    except OSError as exc:
        kind = ErrorKind.REFUSED if "unreachable" in str(exc).lower() else ErrorKind.ERROR
        raise ConnectorError(f"cannot connect to {where}: {first_line(str(exc))}", kind) from None
    return sock


def _wrap_tls(sock: socket.socket, t: KafkaTarget, host: str, where: str, stop_at: float) -> socket.socket:
    context = ssl_context(t)
    sock.settimeout(max(0.05, stop_at - time.monotonic()))
    try:
        return context.wrap_socket(sock, server_hostname=host if context.check_hostname or not _is_ip(host) else None)
    except TimeoutError:
        sock.close()
        plain = "SASL_PLAINTEXT" if t.uses_sasl else "PLAINTEXT"
        raise ConnectorError(
            f"no TLS answer from {where}: it may not speak TLS (try security_protocol={plain})", ErrorKind.TLS
        ) from None
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        raise ConnectorError(
            f"TLS with {where} failed: the certificate was not accepted "
            f"({exc.verify_message or first_line(str(exc))}); give the CA with ssl_cafile, or ssl_verify=false",
            ErrorKind.TLS,
        ) from None
    except (ssl.SSLError, OSError) as exc:
        sock.close()
        raise ConnectorError(
            f"TLS handshake with {where} failed: {first_line(str(exc)) or type(exc).__name__}: it may "
            "not speak TLS on this port",
            ErrorKind.TLS,
        ) from None


def _speaks_tls(host: str, port: int, stop_at: float) -> bool:
    """Whether a port that dropped our plain request completes a TLS handshake instead."""
    left = stop_at - time.monotonic()
    if left <= 0.05:
        return False
    try:
        with socket.create_connection((host, port), timeout=left) as raw:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            with context.wrap_socket(raw, server_hostname=None):
                return True
    except (OSError, ssl.SSLError):
        return False


class _Closed(Exception):
    """The other side closed the connection before a whole answer arrived."""


class _Garbage(Exception):
    """The other side answered, but not in Kafka's framing (an SSH banner, an HTTP error page...)."""


_CORRELATION_IDS = itertools.count(1)  # next() on a count is atomic: preflights run in parallel checks


def _roundtrip(sock: socket.socket, api_key: int, version: int, body: bytes, stop_at: float) -> bytes:
    """Send one request (header v1) and read its whole answer; returns the answer after the correlation id."""
    correlation = next(_CORRELATION_IDS) % 2**31
    client = CLIENT_ID.encode()
    header = struct.pack(">hhih", api_key, version, correlation, len(client)) + client
    payload = header + body
    sock.settimeout(max(0.05, stop_at - time.monotonic()))
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", _read(sock, 4, stop_at))[0]
    if not 4 <= size <= 10_000_000:
        raise _Garbage()
    answer = _read(sock, size, stop_at)
    if struct.unpack(">i", answer[:4])[0] != correlation:
        raise _Garbage()
    return answer[4:]


def _read(sock: socket.socket, size: int, stop_at: float) -> bytes:
    chunks, got = [], 0
    while got < size:
        left = stop_at - time.monotonic()
        if left <= 0:
            raise TimeoutError()
        sock.settimeout(left)
        try:
            chunk = sock.recv(min(65536, size - got))
        except (ConnectionResetError, BrokenPipeError):
            raise _Closed() from None
        if not chunk:
            raise _Closed()
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _parse_api_versions(body: bytes, where: str) -> dict[int, tuple[int, int]]:
    try:
        error, count = struct.unpack(">hi", body[:6])
        if error and count <= 0:
            raise ConnectorError(f"{where} refused the ApiVersions request (error {error})", ErrorKind.PROTOCOL)
        versions = {}
        for i in range(count):
            key, low, high = struct.unpack(">hhh", body[6 + 6 * i : 12 + 6 * i])
            versions[key] = (low, high)
    except struct.error:
        raise ConnectorError(
            f"{where} answered something that is not Kafka's ApiVersions", ErrorKind.PROTOCOL
        ) from None
    if METADATA not in versions:
        raise ConnectorError(
            f"{where} answered ApiVersions but offers no Metadata request: is it a Kafka controller "
            "rather than a broker?",
            ErrorKind.PROTOCOL,
        )
    return versions


def closes_on_metadata(t: KafkaTarget, limit: float) -> bool:
    """Whether the first bootstrap host answers ApiVersions but hangs up on Metadata (it wants a login)."""
    host, port = t.hosts[0]
    stop_at = time.monotonic() + min(limit, 2.0)
    try:
        sock = _open(host, port, t.where, stop_at)
    except ConnectorError:
        return False
    try:
        if t.uses_tls:
            sock = _wrap_tls(sock, t, host, t.where, stop_at)
        _roundtrip(sock, API_VERSIONS, 0, b"", stop_at)
        _roundtrip(sock, METADATA, 1, struct.pack(">i", 0), stop_at)  # Metadata v1 for no topics
        return False
    except _Closed:
        return True
    except (OSError, ConnectorError, struct.error, _Garbage):
        return False
    finally:
        with contextlib.suppress(OSError):
            sock.close()
