"""Families of ClickHouse errors that matter for ingestion: loaded from error_families.yaml, matched here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from posthog_doctor.check import Status, load_yaml

from ...common import docs

FAMILIES_FILE = Path(__file__).with_name("error_families.yaml")


@dataclass(frozen=True)
class ErrorFamily:
    id: str
    title: str
    codes: frozenset[int]
    message: re.Pattern | None
    severity: Status
    explanation: str
    advice: str
    links: tuple[str, ...]

    def matches(self, code: int, message: str) -> bool:
        return code in self.codes or bool(self.message and self.message.search(message or ""))


def load_families(path: Path = FAMILIES_FILE) -> tuple[ErrorFamily, ...]:
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    families = []
    for entry in data.get("families") or []:
        missing = [k for k in ("id", "title", "severity", "explanation", "advice") if not entry.get(k)]
        if missing:
            raise ValueError(f"{path.name}: family {entry.get('id', '?')!r} lacks {', '.join(missing)}")
        unknown = [name for name in entry.get("docs") or () if not hasattr(docs, name)]
        if unknown:
            raise ValueError(f"{path.name}: family {entry['id']!r} links unknown docs {', '.join(unknown)}")
        families.append(
            ErrorFamily(
                id=str(entry["id"]),
                title=str(entry["title"]),
                codes=frozenset(int(c) for c in entry.get("codes") or ()),
                message=re.compile(entry["message"], re.I) if entry.get("message") else None,
                severity=Status(entry["severity"]),
                explanation=" ".join(str(entry["explanation"]).split()),
                advice=" ".join(str(entry["advice"]).split()),
                links=tuple(getattr(docs, name) for name in entry.get("docs") or ()),
            )
        )
    return tuple(families)


def family_of(code: int, message: str, families: tuple[ErrorFamily, ...]) -> ErrorFamily | None:
    return next((f for f in families if f.matches(code, message)), None)


FAMILIES = load_families()
