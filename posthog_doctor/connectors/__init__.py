"""Connectors: one thin, read-only, time-limited client per kind of component, plus a probe for each.

A probe answers "does this component answer at all?" once per run, before the checks start, so that a
check needing a component that is down is `skipped` with the reason instead of failing on its own.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..endpoints import Endpoint
from ..topology import Component
from .base import Candidate, ConnectorError, Deadline, ErrorKind, MissingObject, ProbeResult, WouldScan, resolves
from .results import Query, QueryResult

__all__ = [
    "Candidate",
    "ConnectorError",
    "Deadline",
    "ErrorKind",
    "MissingObject",
    "ProbeResult",
    "Query",
    "QueryResult",
    "SnapshotFile",
    "WouldScan",
    "own_queries",
    "probe",
    "read_snapshot",
]

MAX_SNAPSHOT_BYTES = 5_000_000


@dataclass
class SnapshotFile:
    """A file the user handed over (a saved System Status page), read once, size-capped."""

    name: str
    text: str
    truncated: bool


def read_snapshot(path: Path) -> SnapshotFile:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SNAPSHOT_BYTES + 1)
    except OSError as exc:
        raise ConnectorError(f"cannot read {path}: {exc.strerror or exc}", ErrorKind.ERROR) from None
    truncated = len(raw) > MAX_SNAPSHOT_BYTES
    raw = raw[:MAX_SNAPSHOT_BYTES]
    # Text copied from a browser on Windows is often saved as UTF-16.
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16", errors="replace")
    else:
        text = raw.decode("utf-8-sig", errors="replace")
    return SnapshotFile(path.name, text, truncated)


def own_queries(components: list[str]) -> list[Query]:
    """The statements the connectors of `components` send on their own (a table listing, a version)."""
    from .clickhouse import OWN_QUERIES
    from .kafka import OWN_QUERIES as KAFKA_QUERIES
    from .zookeeper import OWN_QUERIES as ZOOKEEPER_QUERIES

    return [q for q in (*OWN_QUERIES, *KAFKA_QUERIES, *ZOOKEEPER_QUERIES) if q.component in components]


def resolve_endpoint(endpoint: Endpoint) -> Endpoint | None:
    """For a default endpoint, the first of its candidate hosts that resolves (None when none does)."""
    if not endpoint.fallback_hosts:
        return endpoint
    for host in (endpoint.host, *endpoint.fallback_hosts):
        if host == "localhost" or resolves(host):
            return endpoint.with_host(host)
    return None


def candidate_endpoints(component: Component, endpoint: Endpoint) -> list[Endpoint]:
    """Every endpoint to probe for `component`: its own (each default host that resolves, for a component
    several endpoints may play; else the first), then its alternates. Unresolvable defaults are left out."""
    own = replace(endpoint, alternates=())
    if own.fallback_hosts and component.several:
        hosts = [h for h in (own.host, *own.fallback_hosts) if h != "localhost" and resolves(h)]
        if not hosts and "localhost" in own.fallback_hosts:
            hosts = ["localhost"]
        found = [own.with_host(h) for h in hosts]
    else:
        resolved = resolve_endpoint(own)
        found = [resolved] if resolved is not None else []
    # When none resolves, the endpoint as given stands for the component: its probe says which hosts failed.
    return (found or [own]) + list(endpoint.alternates)


def probe(
    component: Component,
    endpoint: Endpoint | None,
    *,
    seconds: float = 5.0,
    status_file: Path | None = None,
    tag: str = "probe",
) -> tuple[ProbeResult, Endpoint | None]:
    """Find out whether `component` answers; returns the result and the endpoint actually used.

    A component with several endpoints (alternates, or several default hosts that resolve) has each probed
    at once; its result is that of the first of its own candidates that answers (else the first's failure),
    with every candidate's result in `candidates`.
    """
    if endpoint is not None and component.kind not in ("host", "file"):
        several = candidate_endpoints(component, endpoint)
        if len(several) > 1:
            return _probe_several(component, several, seconds, tag)
        endpoint = several[0]
    return _probe_one(component, endpoint, seconds=seconds, status_file=status_file, tag=tag)


def _probe_several(
    component: Component, endpoints: list[Endpoint], seconds: float, tag: str
) -> tuple[ProbeResult, Endpoint | None]:
    results: dict[int, tuple[ProbeResult, Endpoint | None]] = {}

    def work(index: int, endpoint: Endpoint) -> None:
        results[index] = _probe_one(component, endpoint, seconds=seconds, tag=tag)

    threads = [
        threading.Thread(target=work, args=(i, ep), daemon=True, name=f"probe-{component.name}-{i}")
        for i, ep in enumerate(endpoints)
    ]
    for t in threads:
        t.start()
    stop_at = time.monotonic() + seconds + 1.0  # each probe's own limits end it sooner; this is the backstop
    for t in threads:
        t.join(max(0.0, stop_at - time.monotonic()))
    candidates = []
    for i, ep in enumerate(endpoints):
        result, used = results.get(i) or (
            ProbeResult(False, f"no answer within {seconds:.0f} s", error_kind=ErrorKind.TIMEOUT, endpoint=ep.url()),
            None,
        )
        candidates.append(Candidate(used or ep, result))
    own = [c for c in candidates if not c.role] or candidates[:1]
    chosen = next((c for c in own if c.probe.reachable), own[0])
    summary = chosen.probe.summary
    if len(own) > 1:
        answered = sum(c.probe.reachable for c in own)
        summary += f" ({answered} of {len(own)} candidates answered)"
    result = replace(chosen.probe, summary=summary, candidates=candidates)
    return result, chosen.endpoint


def _probe_one(
    component: Component,
    endpoint: Endpoint | None,
    *,
    seconds: float = 5.0,
    status_file: Path | None = None,
    tag: str = "probe",
) -> tuple[ProbeResult, Endpoint | None]:
    if component.kind == "host":
        return ProbeResult(True, "always available"), None
    if component.kind == "file":
        if status_file is None:
            return ProbeResult(
                False, "no file given (use --status-file FILE)", error_kind=ErrorKind.NOT_CONFIGURED
            ), None
        if not status_file.is_file():
            return ProbeResult(False, f"{status_file.name} is not a readable file", error_kind=ErrorKind.ERROR), None
        return ProbeResult(True, f"file {status_file.name}"), None
    if endpoint is None:
        return ProbeResult(
            False, f"{component.label} is disabled in the configuration", error_kind=ErrorKind.DISABLED
        ), None
    resolved = resolve_endpoint(endpoint)
    if resolved is None:
        hosts = ", ".join((endpoint.host, *endpoint.fallback_hosts))
        return ProbeResult(
            False,
            f"none of the default hosts ({hosts}) resolves; set {component.flag}",
            error_kind=ErrorKind.DNS,
            endpoint=endpoint.url(),
        ), None
    deadline = Deadline(seconds)
    started = time.monotonic()
    try:
        version, details = _PROBES[component.kind](component, resolved, deadline, tag)
    except ConnectorError as exc:
        return ProbeResult(False, str(exc), error_kind=exc.kind, endpoint=resolved.url()), resolved
    latency = round((time.monotonic() - started) * 1000, 1)
    name = f"{component.label} {version}".strip()
    return ProbeResult(
        True, f"{name} answered in {latency:.0f} ms", version, latency, details, endpoint=resolved.url()
    ), resolved


def _probe_clickhouse(component: Component, endpoint: Endpoint, deadline: Deadline, tag: str):
    from .clickhouse import ClickHouse

    ch = ClickHouse(endpoint, deadline, tag=tag)
    try:
        row = ch.query("SELECT version() AS version, uptime() AS uptime_seconds").first() or {}
    finally:
        ch.close()
    return str(row.get("version", "")), {
        "uptime_seconds": row.get("uptime_seconds"),
        "limits_applied": ch.settings_allowed,
    }


def _probe_postgres(component: Component, endpoint: Endpoint, deadline: Deadline, tag: str):
    from .postgres import Postgres

    pg = Postgres(endpoint, deadline)
    try:
        row = (
            pg.query(
                "SELECT current_setting('server_version') AS version, "
                "pg_is_in_recovery() AS in_recovery, current_database() AS database"
            ).first()
            or {}
        )
    finally:
        pg.close()
    return str(row.get("version", "")), {"in_recovery": row.get("in_recovery"), "database": row.get("database")}


def _probe_redis(component: Component, endpoint: Endpoint, deadline: Deadline, tag: str):
    from .redis import Redis

    r = Redis(endpoint, deadline)
    try:
        r.ping()
        info = r.info("server")
    finally:
        r.close()
    return str(info.get("redis_version", "")), {"uptime_seconds": info.get("uptime_in_seconds")}


def _probe_http(component: Component, endpoint: Endpoint, deadline: Deadline, tag: str):
    from .http import Http

    http = Http(endpoint, deadline, max_bytes=64_000)
    tried = []
    try:
        for path in component.probe_paths or ("/",):
            resp = http.get(path)
            tried.append({"path": path, "status": resp.status, "body": resp.excerpt(200)})
            if resp.status != 404:
                break
    finally:
        http.close()
    return "", {"responses": tried}


def _probe_zookeeper(component: Component, endpoint: Endpoint, deadline: Deadline, tag: str):
    from .zookeeper import PROBE_QUERY, ZooKeeper

    # `srvr` is the one word every ZooKeeper 3.5.3+ and ClickHouse Keeper allows by default. Any answer,
    # even a refusal or "not currently serving requests", proves something listens; the check judges it.
    answer = ZooKeeper(endpoint, deadline).command(PROBE_QUERY.text)
    fields = answer.fields()
    version = fields.get("Zookeeper version", "").split(",")[0].split("-")[0]
    if fields.get("ClickHouse Keeper version"):
        version = "(ClickHouse Keeper " + fields["ClickHouse Keeper version"].split("-")[0] + ")"
    return version, {"mode": fields.get("Mode", "")}


def _probe_kafka(component: Component, endpoint: Endpoint, deadline: Deadline, tag: str):
    from .kafka import probe_kafka

    return probe_kafka(endpoint, deadline)


_PROBES = {
    "clickhouse": _probe_clickhouse,
    "postgres": _probe_postgres,
    "redis": _probe_redis,
    "http": _probe_http,
    "zookeeper": _probe_zookeeper,
    "kafka": _probe_kafka,
}
