"""The context a check runs in: its components (opened lazily), options, deadline and shared facts."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .connectors import Candidate, ProbeResult, SnapshotFile, read_snapshot
from .connectors.base import ConnectorError, Deadline, ErrorKind
from .connectors.clickhouse import ClickHouse
from .connectors.host import HostFacts, host_facts
from .connectors.http import Http
from .connectors.kafka import Kafka
from .connectors.postgres import Postgres
from .connectors.redis import Redis
from .connectors.results import IoTally
from .connectors.zookeeper import ZooKeeper
from .endpoints import Endpoint, EndpointError, parse_endpoint
from .outcome import Skip
from .topology import COMPONENTS

T = TypeVar("T")


class ComponentUnavailable(Skip):
    """A component the check wanted does not answer (or is not configured): the check is skipped."""


@dataclass
class RunState:
    """What every check of one run shares: endpoints as resolved by the probes, probe results, a cache."""

    run_id: str
    endpoints: dict[str, Endpoint | None]
    probes: dict[str, ProbeResult]
    api_key: str = field(default="", repr=False)
    project_token: str = field(default="", repr=False)  # a project API key (phc_...) to validate, never sent as auth
    status_file: Path | None = None
    include_payloads: bool = False
    _cache: dict[str, Any] = field(default_factory=dict)
    _cache_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def shared(self, key: str, compute: Callable[[], T]) -> T:
        """Compute a fact once per run (e.g. one GET of /_preflight/ used by several checks)."""
        with self._lock:
            entry = self._cache.get(key)
            lock = self._cache_locks.setdefault(key, threading.Lock())
        if entry is None:
            with lock:  # one computation per key; other readers of the same key wait for it
                if key not in self._cache:
                    try:
                        self._cache[key] = ("value", compute())
                    except Exception as exc:  # noqa: BLE001 - every reader gets the same failure
                        self._cache[key] = ("error", exc)
                entry = self._cache[key]
        kind, value = entry
        if kind == "error":
            raise value
        return value


class Context:
    """Handed to `Check.run`. Component attributes open a connection on first use, bound to the deadline.

    The context knows the check only by its id and the components it declared: a check may open only
    those, and one it did not declare is a bug in the check, said as such.
    """

    def __init__(
        self, check_id: str, components: tuple[str, ...], state: RunState, options: dict[str, Any], deadline: Deadline
    ):
        self.check_id = check_id
        self.components = components
        self.state = state
        self.options = options
        self.deadline = deadline
        self.tally = IoTally()
        self._open: dict[str, Any] = {}

    # -- what a check reads --

    @property
    def include_payloads(self) -> bool:
        """Whether the user asked to keep customer payload values in the report (otherwise masked)."""
        return self.state.include_payloads

    @property
    def has_api_key(self) -> bool:
        return bool(self.state.api_key)

    @property
    def project_token(self) -> str:
        """The project API key (`phc_…`) the user asked to validate, or "" (a secret: never put it in a report)."""
        return self.state.project_token

    def configured(self, component: str) -> bool:
        """Whether the user named this component's address (a flag, the environment, the config file), as
        opposed to the hobby default the doctor guessed."""
        endpoint = self.state.endpoints.get(component)
        return endpoint is not None and endpoint.source != "default"

    def remaining(self) -> float:
        return self.deadline.remaining()

    def probe(self, component: str) -> ProbeResult:
        return self.state.probes.get(component) or ProbeResult(False, "not probed", error_kind=ErrorKind.NOT_PROBED)

    def available(self, component: str) -> bool:
        return self.probe(component).reachable

    def shared(self, key: str, compute: Callable[[], T]) -> T:
        return self.state.shared(key, compute)

    def candidates(self, component: str) -> list[Candidate]:
        """Every endpoint of `component` with what its probe found: several when the component was given
        several URLs (or several default hosts resolve), else the one. Open one with `connect`."""
        found = self.probe(component)
        if found.candidates:
            return list(found.candidates)
        endpoint = self.state.endpoints.get(component)
        return [Candidate(endpoint, found)] if endpoint is not None else []

    def connect(self, component: str, endpoint: Endpoint) -> Any:
        """A connector to one particular endpoint of `component` (a candidate, or one the check built from the
        deployment's settings), bound to the check's deadline and closed with it. Not probed: a failure to
        connect raises ConnectorError like any call."""
        if component not in self.components:
            raise RuntimeError(f"check {self.check_id} uses {component!r} without declaring it in needs or uses")
        key = f"{component}@{endpoint.url(redact=False)}"
        if key not in self._open:
            self._open[key] = self._make(component, endpoint)
        return self._open[key]

    @property
    def clickhouse(self) -> ClickHouse:
        return self._component("clickhouse", lambda ep: self._make("clickhouse", _required(ep)))

    @property
    def postgres(self) -> Postgres:
        return self._component("postgres", lambda ep: self._make("postgres", _required(ep)))

    @property
    def redis(self) -> Redis:
        return self._component("redis", lambda ep: self._make("redis", _required(ep)))

    @property
    def posthog_api(self) -> Http:
        return self._component("posthog_api", lambda ep: self._make("posthog_api", _required(ep)))

    @property
    def kafka(self) -> Kafka:
        return self._component("kafka", lambda ep: Kafka(_required(ep), self.deadline))

    @property
    def plugin_server(self) -> Http:
        return self._component("plugin_server", lambda ep: self._make("plugin_server", _required(ep)))

    @property
    def zookeeper(self) -> ZooKeeper:
        return self._component("zookeeper", lambda ep: ZooKeeper(_required(ep), self.deadline))

    @property
    def capture(self) -> Http:
        return self._component("capture", lambda ep: Http(_required(ep), self.deadline))

    def service_http(self, component: str, url: str) -> Http:
        """The HTTP service behind a declared component, at an address the check names (the capture service
        behind the public proxy, from a check option): GET and OPTIONS only, bound to the check's deadline,
        never given the API key. A URL that is not http(s) raises ConnectorError."""
        if component not in self.components:
            raise RuntimeError(f"check {self.check_id} uses {component!r} without declaring it in needs or uses")
        key = f"{component}@{url}"
        if key not in self._open:
            try:
                endpoint = parse_endpoint(component, "http", url, source="check option")
            except EndpointError as exc:
                raise ConnectorError(str(exc), ErrorKind.ERROR) from None
            self._open[key] = Http(endpoint, self.deadline)
        return self._open[key]

    @property
    def host(self) -> HostFacts:
        return self._component("host", lambda _: host_facts(("/", str(Path.cwd()))))

    @property
    def status_snapshot(self) -> SnapshotFile:
        return self._component("status_snapshot", lambda _: read_snapshot(_required_file(self.state.status_file)))

    # -- plumbing --

    def _make(self, component: str, endpoint: Endpoint) -> Any:
        kind = COMPONENTS[component].kind
        if kind == "clickhouse":
            return ClickHouse(endpoint, self.deadline, tag=f"{self.state.run_id}:{self.check_id}", tally=self.tally)
        if kind == "postgres":
            return Postgres(endpoint, self.deadline, tally=self.tally)
        if kind == "redis":
            return Redis(endpoint, self.deadline)
        if kind == "http":  # only the web app gets the API key
            return Http(endpoint, self.deadline, token=self.state.api_key if component == "posthog_api" else "")
        raise RuntimeError(f"{component!r} has no connector to open")

    def _component(self, name: str, make: Callable[[Endpoint | None], T]) -> T:
        if name in self._open:
            return self._open[name]
        if name not in self.components:
            raise RuntimeError(f"check {self.check_id} uses {name!r} without declaring it in needs or uses")
        probe = self.probe(name)
        if not probe.reachable:
            raise ComponentUnavailable(f"{COMPONENTS[name].label} unavailable: {probe.summary}")
        self._open[name] = make(self.state.endpoints.get(name))
        return self._open[name]

    def close(self) -> None:
        for conn in self._open.values():
            close = getattr(conn, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):  # closing must never fail a check
                    close()
        self._open.clear()


def _required(endpoint: Endpoint | None) -> Endpoint:
    if endpoint is None:  # the probe said reachable, so an endpoint exists; this is a bug if it does not
        raise RuntimeError("a reachable component without an endpoint")
    return endpoint


def _required_file(path: Path | None) -> Path:
    if path is None:
        raise RuntimeError("a reachable status file without a path")
    return path
