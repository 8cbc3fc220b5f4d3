"""What every check that shows dead-lettered events shares: the cause catalogue and payload masking.

The catalogue (`dead_letter_causes.yaml`) and the masking (`payload.py`) live here, beside this module:
the ClickHouse dead letter table and the Kafka dead letter topic are read against the same catalogue and
masked the same way, so the two checks tell one story. A Kafka message's
`dlq_step` header names the step the legacy pipeline put after `plugin_server_ingest_event:` in
`error_location`, so `kafka_location(step)` lets the catalogue's location patterns match either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from posthog_doctor.check import Advice

from .dead_letter_causes import CAUSES, Cause, cause_of
from .payload import mask, show_payload, show_value

__all__ = [
    "CAUSES",
    "Cause",
    "advice_per_cause",
    "cause_of",
    "kafka_location",
    "mask",
    "normalise_reason",
    "show_payload",
    "show_value",
]

LEGACY_LOCATION = "plugin_server_ingest_event"  # nodejs/src/worker/ingestion/utils.ts: error_location prefix

# The ClickHouse digest's normalisation (dead_letter_queue/digest.sql), so one cause reads the same in both.
_NORMALISE = (
    (re.compile(r"\s\s+|[\t\n\f\r]"), " "),
    (re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), "<uuid>"),
    (re.compile(r'"[^"]*"'), '"<value>"'),
    (re.compile(r"'[^']*'"), "'<value>'"),
    (re.compile(r"\b[0-9]+(\.[0-9]+)*"), "<n>"),
    (re.compile(r"\b[A-Za-z_-]*[0-9][A-Za-z0-9_-]{5,}"), "<id>"),
)


def kafka_location(step: str) -> str:
    """The error location a ClickHouse DLQ row would carry for a message dead-lettered at `step`."""
    return f"{LEGACY_LOCATION}:{step or 'unknown'}"


def normalise_reason(text: str, limit: int = 2000) -> str:
    """An error message with uuids, quoted values, numbers and ids replaced: one cause, one text."""
    out = str(text or "")[:limit]
    for pattern, replacement in _NORMALISE:
        out = pattern.sub(replacement, out)
    return out.strip()


def advice_per_cause(found: Iterable[tuple[Cause, int, str]], counted: Callable[[int, str], str]) -> list[Advice]:
    """One piece of advice per catalogue cause, in the order first found: `found` holds (cause, events, where)
    for each digest row; `counted(events, wheres)` says how many and where, in the reader's own words."""
    grouped: dict[str, tuple[Cause, list[int], list[str]]] = {}
    for cause, events, where in found:
        _, counts, places = grouped.setdefault(cause.id, (cause, [], []))
        counts.append(events)
        places.append(where)
    return [
        Advice(
            f"{cause.title} ({counted(sum(counts), ', '.join(dict.fromkeys(places)))}). {cause.explanation} "
            f"Next: {cause.next_step}",
            links=list(cause.docs),
        )
        for cause, counts, places in grouped.values()
    ]
