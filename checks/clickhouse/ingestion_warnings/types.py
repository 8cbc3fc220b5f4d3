"""The ingestion warning types PostHog writes, kept as data in types.yaml; this module loads and looks them up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from posthog_doctor.check import load_yaml

TYPES_FILE = Path(__file__).with_name("types.yaml")
EFFECTS = ("dropped", "dead_lettered", "modified", "delayed", "intentional", "info")
SENT = ("hourly", "always", "capture")
DOCS = "https://posthog.com/docs/data/ingestion-warnings"


@dataclass(frozen=True)
class WarningType:
    type: str
    title: str
    effect: str
    sent: str
    advice: str
    anchor: str = ""
    shown: tuple[str, ...] = ()
    known: bool = True

    @property
    def loses_data(self) -> bool:
        return self.effect in ("dropped", "dead_lettered")

    @property
    def link(self) -> str:
        return f"{DOCS}#{self.anchor}" if self.anchor else DOCS

    @property
    def counting(self) -> str:
        """What a row of this type counts, for the report."""
        return {
            "always": "one row per event",
            "hourly": "at most one row per team an hour",
            "capture": "written by capture (its rate limit unknown)",
        }[self.sent]


def load_types(path: Path = TYPES_FILE) -> dict[str, WarningType]:
    entries = (load_yaml(path.read_text(encoding="utf-8")) or {}).get("types") or []
    found: dict[str, WarningType] = {}
    for e in entries:
        missing = [k for k in ("type", "title", "effect", "sent", "advice") if not e.get(k)]
        if missing:
            raise ValueError(f"{path.name}: type {e.get('type', '?')!r} lacks {', '.join(missing)}")
        if e["effect"] not in EFFECTS or e["sent"] not in SENT:
            raise ValueError(f"{path.name}: type {e['type']!r} has an unknown effect or sent value")
        if e["type"] in found:
            raise ValueError(f"{path.name}: type {e['type']!r} is listed twice")
        found[e["type"]] = WarningType(
            str(e["type"]),
            " ".join(str(e["title"]).split()),
            str(e["effect"]),
            str(e["sent"]),
            " ".join(str(e["advice"]).split()),
            str(e.get("anchor") or ""),
            tuple(str(k) for k in e.get("shown") or ()),
        )
    return found


TYPES = load_types()


def type_of(name: str) -> WarningType:
    """The known type, or a stand-in saying this doctor does not know it (a newer or older PostHog)."""
    return TYPES.get(name) or WarningType(
        name,
        "a warning type this doctor does not know",
        "info",
        "hourly",
        "Look the type up on PostHog's ingestion warnings page (Data management -> Ingestion warnings).",
        known=False,
    )
