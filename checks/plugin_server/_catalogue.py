"""The plugin server's health-check names (health_checks.yaml) and the checks map its `/_health` answers.

A value in the map is a status ("ok", "error"; 2023 onwards), or `{"status", "message"}` when the check has a
message (2025+: nodejs/src/api/router.ts @ d115776, `result.message ? {status, message} : result.status`),
where status may also be "degraded" (HealthCheckResultDegraded, nodejs/src/types.ts): still HTTP 200.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posthog_doctor.check import load_yaml

from ..common.web import HealthAnswer


@dataclass(frozen=True)
class Entry:
    name: str
    pattern: re.Pattern[str] | None
    what: str
    ingests: bool
    generation: str


@dataclass(frozen=True)
class SubCheck:
    """One entry of the checks map."""

    name: str
    status: str  # lower case: "ok", "error", "degraded", or whatever else was sent
    message: str = ""

    @property
    def failing(self) -> bool:
        return self.status == "error"

    @property
    def degraded(self) -> bool:
        return self.status not in ("ok", "error")

    @property
    def what(self) -> str:
        return describe(self.name)[0]

    @property
    def ingests(self) -> bool:
        return describe(self.name)[1]

    def said(self) -> str:
        """`name (what it does): message` for a sentence."""
        what = f" ({self.what})" if self.what else ""
        return f"{self.name}{what}" + (f": {self.message}" if self.message else "")


@functools.lru_cache(maxsize=1)
def entries() -> tuple[Entry, ...]:
    data = load_yaml(Path(__file__).with_name("health_checks.yaml").read_text(encoding="utf-8"))
    return tuple(
        Entry(
            str(e.get("name", "")),
            re.compile(e["pattern"]) if e.get("pattern") else None,
            str(e["what"]),
            bool(e.get("ingests", False)),
            str(e.get("generation", "")),
        )
        for e in data["checks"]
    )


@functools.lru_cache(maxsize=512)
def _entry(name: str) -> tuple[Entry | None, str]:
    for entry in entries():
        if entry.name and entry.name == name:
            return entry, entry.what
        match = entry.pattern.match(name) if entry.pattern else None
        if match:
            return entry, entry.what.format(*(g or "" for g in match.groups()))
    return None, ""


def describe(name: str) -> tuple[str, bool]:
    """(what the check watches, whether it is event ingestion); ("", False) for a name nobody lists."""
    entry, what = _entry(name)
    return what, bool(entry and entry.ingests)


def generation_of(name: str) -> str:
    entry, _ = _entry(name)
    return entry.generation if entry else ""


def sub_checks(answer: HealthAnswer) -> list[SubCheck]:
    checks = answer.fields().get("checks")
    if not isinstance(checks, dict):
        return []
    return [_sub_check(str(name), value) for name, value in list(checks.items())[:200]]


def _sub_check(name: str, value: Any) -> SubCheck:
    if isinstance(value, dict):
        message = value.get("message")
        return SubCheck(name, str(value.get("status", "")).lower(), " ".join(str(message or "").split())[:300])
    return SubCheck(name, str(value).lower())


def describe_sub_checks(names: list[str]) -> str:
    """`analytics-ingestion (event ingestion from Kafka), cdp` for a summary line."""
    out = []
    for name in names:
        what = describe(name)[0]
        out.append(f"{name} ({what})" if what else name)
    return ", ".join(out)
