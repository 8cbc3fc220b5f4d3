"""Recent arrivals per event family and team, with how far their timestamps lie from their arrival: one bounded
scan of `events`, shared by clickhouse.event_timestamps and clickhouse.event_families.

The family of an event is worked out in the query from event_families.yaml (a multiIf of literal names and
prefixes built when this module loads, so `posthog-doctor explain` shows the exact statement).
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from posthog_doctor.check import Context, Query, load_yaml

from ...common import docs
from .._common import DAY, HOUR, as_int, server_now

FAMILIES_FILE = Path(__file__).with_name("event_families.yaml")
PREVIOUS_DAYS = 7
LAST_HOUR, REST_OF_DAY = 0, -100
PAST_SCAN_DAYS = 7  # events timestamped up to this long before the 8-day arrival window are seen


@dataclass(frozen=True)
class EventFamily:
    id: str
    title: str
    events: tuple[str, ...]
    prefixes: tuple[str, ...]
    never_in_events: str
    own_tables: re.Pattern | None
    when_missing: str
    links: tuple[str, ...]


def load_families(path: Path = FAMILIES_FILE) -> tuple[EventFamily, ...]:
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    families = []
    for f in data.get("families") or []:
        unknown = [name for name in f.get("docs") or () if not hasattr(docs, name)]
        if unknown:
            raise ValueError(f"{path.name}: family {f.get('id')!r} links unknown docs {', '.join(unknown)}")
        families.append(
            EventFamily(
                id=str(f["id"]),
                title=str(f["title"]),
                events=tuple(str(e) for e in f.get("events") or ()),
                prefixes=tuple(str(p) for p in f.get("prefixes") or ()),
                never_in_events=" ".join(str(f.get("never_in_events") or "").split()),
                own_tables=re.compile(f["own_tables"]) if f.get("own_tables") else None,
                when_missing=" ".join(str(f.get("when_missing") or "").split()),
                links=tuple(getattr(docs, name) for name in f.get("docs") or ()),
            )
        )
    if not families or families[-1].events or families[-1].prefixes:
        raise ValueError(f"{path.name}: the last family must list no events (it takes every other event)")
    return tuple(families)


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def family_expression(families: tuple[EventFamily, ...]) -> str:
    """Each event's family in SQL: multiIf(event IN (..), 'id', startsWith(event, '$ai_'), 'ai', ..., 'custom')."""
    arms = []
    for f in families[:-1]:
        tests = []
        if f.events:
            tests.append(f"event IN ({', '.join(_literal(e) for e in f.events)})")
        tests += [f"startsWith(event, {_literal(p)})" for p in f.prefixes]
        arms.append(f"{' OR '.join(tests)}, {_literal(f.id)}")
    return f"multiIf({', '.join(arms)}, {_literal(families[-1].id)})"


FAMILIES = load_families()
_TEMPLATE = Query.from_file(__file__, "arrivals.sql", "clickhouse")
ARRIVALS = Query(
    _TEMPLATE.component, _TEMPLATE.name, _TEMPLATE.text.replace("{family_expression}", family_expression(FAMILIES))
)


@dataclass
class Cell:
    """Arrivals of one family and team in one bucket, and their timestamps against their arrival."""

    events: int = 0
    ahead_hour: int = 0
    ahead_23h: int = 0
    behind_hour: int = 0
    behind_day: int = 0
    most_ahead: int = 0
    most_behind: int = 0  # seconds behind (positive)

    def add(self, other: Cell) -> None:
        self.events += other.events
        self.ahead_hour += other.ahead_hour
        self.ahead_23h += other.ahead_23h
        self.behind_hour += other.behind_hour
        self.behind_day += other.behind_day
        self.most_ahead = max(self.most_ahead, other.most_ahead)
        self.most_behind = max(self.most_behind, other.most_behind)


@dataclass
class Arrivals:
    server_now: int
    cells: dict[tuple[int, str, int], Cell] = field(default_factory=dict)  # (bucket, family, team) -> cell
    partial_reason: str = ""

    def family_counts(self, family: str) -> tuple[int, dict[int, int]]:
        """(arrivals in the last hour, {days ago: arrivals in the same hour that day})."""
        per: dict[int, int] = defaultdict(int)
        for (bucket, fam, _), cell in self.cells.items():
            if fam == family:
                per[bucket] += cell.events
        return per[LAST_HOUR], {d: per[-d] for d in range(1, PREVIOUS_DAYS + 1)}

    def total_counts(self) -> tuple[int, dict[int, int]]:
        per: dict[int, int] = defaultdict(int)
        for (bucket, _, _), cell in self.cells.items():
            per[bucket] += cell.events
        return per[LAST_HOUR], {d: per[-d] for d in range(1, PREVIOUS_DAYS + 1)}

    def per_team_last_day(self) -> dict[int, Cell]:
        teams: dict[int, Cell] = defaultdict(Cell)
        for (bucket, _, team), cell in self.cells.items():
            if bucket in (LAST_HOUR, REST_OF_DAY):
                teams[team].add(cell)
        return dict(teams)

    def last_hour(self) -> Cell:
        total = Cell()
        for (bucket, _, _), cell in self.cells.items():
            if bucket == LAST_HOUR:
                total.add(cell)
        return total


def typical(same_hour: dict[int, int]) -> float:
    """The median of the same hour over the previous days: what to expect now."""
    return float(statistics.median(same_hour.get(d, 0) for d in range(1, PREVIOUS_DAYS + 1)))


def arrivals(ctx: Context, max_rows_to_read: int) -> Arrivals:
    """The pass of this run (computed by whichever check asks first)."""
    return ctx.shared(f"clickhouse.arrivals:{max_rows_to_read}", lambda: _read(ctx, max_rows_to_read))


def _read(ctx: Context, max_rows_to_read: int) -> Arrivals:
    lookback = PREVIOUS_DAYS * DAY + HOUR
    result = ctx.clickhouse.query(
        ARRIVALS,
        {"lookback_seconds": lookback, "timestamp_lookback_seconds": lookback + PAST_SCAN_DAYS * DAY},
        max_rows_to_read=max_rows_to_read,
    )
    rows = result.dicts()
    found = Arrivals(
        server_now=max((as_int(r["server_now"]) for r in rows), default=0) or server_now(ctx),
        partial_reason=result.partial_reason if result.partial else "",
    )
    for r in rows:
        cell = Cell(
            as_int(r["events"]),
            as_int(r["ahead_hour"]),
            as_int(r["ahead_23h"]),
            as_int(r["behind_hour"]),
            as_int(r["behind_day"]),
            max(as_int(r["most_ahead"]), 0),
            max(-as_int(r["most_behind"]), 0),
        )
        found.cells.setdefault((as_int(r["bucket"]), str(r["family"]), as_int(r["team_id"])), Cell()).add(cell)
    return found
