"""Known causes of dead-letter-queue rows: recognised by error location and message, kept as data.

`dead_letter_causes.yaml` holds the knowledge (pattern -> explanation, next step, doc links); this module only
loads and matches it. The file is read when the module is imported, so a broken file shows up as a load
problem in the report instead of silently giving no advice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from posthog_doctor.check import load_yaml

CAUSES_FILE = Path(__file__).with_name("dead_letter_causes.yaml")


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    explanation: str
    next_step: str
    docs: tuple[str, ...] = ()
    location: re.Pattern | None = None
    error: re.Pattern | None = None

    def matches(self, location: str, error: str) -> bool:
        return bool(
            (self.location is None or self.location.search(location or ""))
            and (self.error is None or self.error.search(error or ""))
        )


def load_causes(path: Path = CAUSES_FILE) -> tuple[Cause, ...]:
    """The causes in file order; the last one must match everything (the generic advice)."""
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    causes = []
    for entry in data.get("causes") or []:
        missing = [k for k in ("id", "title", "explanation", "next_step") if not entry.get(k)]
        if missing:
            raise ValueError(f"{path.name}: cause {entry.get('id', '?')!r} lacks {', '.join(missing)}")
        causes.append(
            Cause(
                id=str(entry["id"]),
                title=str(entry["title"]).strip(),
                explanation=" ".join(str(entry["explanation"]).split()),
                next_step=" ".join(str(entry["next_step"]).split()),
                docs=tuple(str(d) for d in entry.get("docs") or ()),
                location=re.compile(entry["location"], re.I) if entry.get("location") else None,
                error=re.compile(entry["error"], re.I) if entry.get("error") else None,
            )
        )
    if not causes or causes[-1].location is not None or causes[-1].error is not None:
        raise ValueError(f"{path.name}: the last cause must have no pattern (it is the fallback)")
    return tuple(causes)


def cause_of(location: str, error: str, causes: tuple[Cause, ...]) -> Cause:
    """The first known cause matching a digest group (the fallback when none does)."""
    return next(c for c in causes if c.matches(location, error))


CAUSES = load_causes()
