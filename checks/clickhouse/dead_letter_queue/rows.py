"""The digest's rows: one cause (an error location with one normalised message), from the DLQ table or from
`pipeline_step_dlq` ingestion warnings, and the totals they add up to."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...common.dead_letters import CAUSES, Cause, cause_of
from .._common import as_int

NO_ID = "00000000-0000-0000-0000-000000000000"  # argMaxIf over no rows
TABLE_SOURCE, WARNING_SOURCE = "DLQ table", "ingestion warning"


@dataclass
class WarningExample:
    """A recent `pipeline_step_dlq` warning: the digest returns these directly (the event itself is in Kafka)."""

    at: int
    team_id: int
    details: str


@dataclass
class CauseRow:
    """Every event of one error location with one normalised message."""

    location: str
    message: str
    window: int
    context: int
    day: int
    hour: int
    first_seen: int
    last_seen: int
    teams: int
    top_events: list[str]
    per_hour: dict[int, int]
    example_ids: list[str]
    known: Cause = field(default=CAUSES[-1])
    source: str = TABLE_SOURCE
    untimed: int = 0  # rows counted by arrival: PostHog 1.30-1.31 capture left error_timestamp at the epoch
    in_table: bool = False  # warnings only: the same events are rows of the DLQ table too
    warning_examples: list[WarningExample] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: dict) -> CauseRow:
        """A row of digest.sql (the DLQ table)."""
        ids = [str(row[f"example_{i}"]) for i in (1, 2, 3)]
        found = cls._common(row)
        found.example_ids = [i for i in dict.fromkeys(ids) if i and i != NO_ID]
        found.untimed = as_int(row.get("untimed"))
        return found

    @classmethod
    def from_warning_row(cls, row: dict) -> CauseRow:
        """A row of warnings_digest.sql (pipeline_step_dlq ingestion warnings)."""
        found = cls._common(row)
        found.source = WARNING_SOURCE
        found.in_table = bool(as_int(row["in_table"]))
        found.warning_examples = [
            WarningExample(
                as_int(row[f"example_at_{i}"]), as_int(row[f"example_team_{i}"]), str(row[f"example_details_{i}"])
            )
            for i in (1, 2, 3)
            if as_int(row[f"example_at_{i}"])
        ]
        return found

    @classmethod
    def _common(cls, row: dict) -> CauseRow:
        hours, counts = row["per_hour"]
        location, message = str(row["location"]), str(row["cause"])
        return cls(
            location,
            message,
            as_int(row["window_events"]),
            as_int(row["context_events"]),
            as_int(row["day_events"]),
            as_int(row["hour_events"]),
            as_int(row["first_seen"]),
            as_int(row["last_seen"]),
            as_int(row["teams"]),
            [str(e) for e in row["top_events"]],
            {as_int(h): as_int(c) for h, c in zip(hours, counts, strict=True)},
            [],
            cause_of(location, message, CAUSES),
        )

    @property
    def still_happening(self) -> bool:
        return self.hour > 0


@dataclass
class Totals:
    window: int = 0
    context: int = 0
    day: int = 0
    hour: int = 0
    untimed: int = 0

    @classmethod
    def of(cls, causes: list[CauseRow]) -> Totals:
        return cls(*(sum(getattr(c, f) for c in causes) for f in ("window", "context", "day", "hour", "untimed")))

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.window + other.window,
            self.context + other.context,
            self.day + other.day,
            self.hour + other.hour,
            self.untimed + other.untimed,
        )
