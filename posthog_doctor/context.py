"""The context a check runs in: its components (opened lazily), options, deadline and shared facts."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .check import Check, Skip
from .connectors import ProbeResult, SnapshotFile, read_snapshot
from .connectors.base import Deadline
from .connectors.results import IoTally
from .endpoints import Endpoint
from .topology import COMPONENTS


class ComponentUnavailable(Skip):
    """A component the check wanted does not answer (or is not configured): the check is skipped."""


@dataclass
class RunState:
    """What every check of one run shares: endpoints as resolved by the probes, probe results, a cache."""

    run_id: str
    endpoints: dict[str, Endpoint | None]
    probes: dict[str, ProbeResult]
    api_key: str = field(default="", repr=False)
    status_file: Path | None = None
    include_payloads: bool = False
    _cache: dict[str, Any] = field(default_factory=dict)
    _cache_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def shared(self, key: str, compute: Callable[[], Any]) -> Any:
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
    """Handed to `Check.run`. Component attributes open a connection on first use, bound to the deadline."""

    def __init__(self, check: Check, state: RunState, options: dict[str, Any], deadline: Deadline):
        self.check = check
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

    def remaining(self) -> float:
        return self.deadline.remaining()

    def probe(self, component: str) -> ProbeResult:
        return self.state.probes.get(component) or ProbeResult(False, "not probed", error_kind="not_probed")

    def available(self, component: str) -> bool:
        return self.probe(component).reachable

    def shared(self, key: str, compute: Callable[[], Any]) -> Any:
        return self.state.shared(key, compute)

    @property
    def clickhouse(self):
        from .connectors.clickhouse import ClickHouse

        return self._component("clickhouse", lambda ep: ClickHouse(
            ep, self.deadline, tag=f"{self.state.run_id}:{self.check.id}", tally=self.tally))

    @property
    def postgres(self):
        from .connectors.postgres import Postgres

        return self._component("postgres", lambda ep: Postgres(ep, self.deadline, tally=self.tally))

    @property
    def redis(self):
        from .connectors.redis import Redis

        return self._component("redis", lambda ep: Redis(ep, self.deadline))

    @property
    def posthog_api(self):
        from .connectors.http import Http

        return self._component("posthog_api", lambda ep: Http(ep, self.deadline, token=self.state.api_key))

    @property
    def plugin_server(self):
        from .connectors.http import Http

        return self._component("plugin_server", lambda ep: Http(ep, self.deadline))

    @property
    def host(self):
        from .connectors.host import host_facts

        return self._component("host", lambda _: host_facts(("/", str(Path.cwd()))))

    @property
    def status_snapshot(self) -> SnapshotFile:
        return self._component("status_snapshot", lambda _: read_snapshot(self.state.status_file))

    @property
    def has_api_key(self) -> bool:
        return bool(self.state.api_key)

    # -- plumbing --

    def _component(self, name: str, make: Callable[[Endpoint | None], Any]) -> Any:
        if name in self._open:
            return self._open[name]
        if name not in self.check.components():
            raise RuntimeError(f"check {self.check.id} uses {name!r} without declaring it in needs or uses")
        probe = self.probe(name)
        if not probe.reachable:
            raise ComponentUnavailable(f"{COMPONENTS[name].label} unavailable: {probe.summary}")
        self._open[name] = make(self.state.endpoints.get(name))
        return self._open[name]

    def close(self) -> None:
        for conn in self._open.values():
            close = getattr(conn, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing must never fail a check
                    pass
        self._open.clear()
