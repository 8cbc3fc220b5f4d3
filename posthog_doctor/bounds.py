"""Size bounds on what a check reports, and conversion of driver values to JSON-safe ones.

A report must stay small enough to attach to a ticket whatever a check returns. Anything cut here is
marked (`truncated`, `total_rows`, or an ellipsis with the count of characters dropped), never silent.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from dataclasses import replace
from typing import Any

from .model import Advice, FindingRecord, Item, Point, Series, Table, Text, Values
from .outcome import Outcome

MAX_SUMMARY = 300
MAX_CELL = 500
MAX_COMMAND = 2_000  # a command cut short is a command that cannot be run
MAX_TEXT = 4_000
MAX_ROWS = 100
MAX_POINTS = 500
MAX_ITEMS = 100
MAX_EVIDENCE = 20
MAX_ADVICE = 10
MAX_FINDINGS = 50


def clip(text: Any, limit: int) -> str:
    """`text` as a string of at most about `limit` characters, saying how much was dropped."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [+{len(text) - limit:,} chars]"


def json_safe(value: Any) -> Any:
    """A value JSON can hold: numbers, text, booleans, None, and lists of them."""
    if value is None or isinstance(value, (bool, int, str)):
        return clip(value, MAX_CELL) if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return clip(value.decode("utf-8", errors="replace"), MAX_CELL)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in list(value)[:MAX_ITEMS]]
    if isinstance(value, dict):
        return {clip(k, 100): json_safe(v) for k, v in list(value.items())[:MAX_ITEMS]}
    return clip(value, MAX_CELL)


def _bound_evidence(ev):
    if isinstance(ev, Table):
        rows = [[json_safe(c) for c in row] for row in ev.rows]
        total = ev.total_rows if ev.total_rows is not None else len(rows)
        cut = len(rows) > MAX_ROWS
        return replace(
            ev,
            title=clip(ev.title, MAX_CELL),
            columns=[clip(c, 100) for c in ev.columns],
            rows=rows[:MAX_ROWS],
            note=clip(ev.note, MAX_CELL),
            truncated=ev.truncated or cut,
            total_rows=total if (ev.truncated or cut) else ev.total_rows,
        )
    if isinstance(ev, Series):
        points = [Point(clip(p.label, 100), json_safe(p.value)) for p in ev.points[-MAX_POINTS:]]
        return replace(ev, title=clip(ev.title, MAX_CELL), points=points, note=clip(ev.note, MAX_CELL))
    if isinstance(ev, Values):
        items = [Item(clip(i.label, 200), json_safe(i.value), clip(i.key, 100)) for i in ev.items[:MAX_ITEMS]]
        return replace(ev, title=clip(ev.title, MAX_CELL), items=items, note=clip(ev.note, MAX_CELL))
    if isinstance(ev, Text):
        return replace(
            ev,
            title=clip(ev.title, MAX_CELL),
            text=clip(ev.text, MAX_TEXT),
            truncated=ev.truncated or len(ev.text) > MAX_TEXT,
            note=clip(ev.note, MAX_CELL),
        )
    return Text("evidence", clip(ev, MAX_TEXT))


def bound_outcome(outcome: Outcome) -> Outcome:
    summary = " ".join(str(outcome.summary).split()) or "(no summary)"
    return Outcome(
        status=outcome.status,
        summary=clip(summary, MAX_SUMMARY),
        evidence=[_bound_evidence(e) for e in outcome.evidence[:MAX_EVIDENCE]],
        advice=[
            Advice(
                clip(a.text, MAX_TEXT),
                [clip(c, MAX_COMMAND) for c in a.commands[:10]],
                [clip(link, MAX_CELL) for link in a.links[:10]],
            )
            for a in outcome.advice[:MAX_ADVICE]
        ],
        partial=outcome.partial,
        metrics={
            clip(k, 100): float(v)
            for k, v in list(outcome.metrics.items())[:MAX_ITEMS]
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        },
        findings=[
            FindingRecord(
                f.status,
                clip(" ".join(f.text.split()), MAX_SUMMARY),
                clip(f.key, 100),
                [i for i in f.advice if i < MAX_ADVICE],
            )
            for f in outcome.findings[:MAX_FINDINGS]
        ],
    )
