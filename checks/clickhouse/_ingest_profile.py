"""How many events arrived when: one bounded scan of `events`, shared by the ingestion and DLQ checks."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from posthog_doctor.check import Context, Query

from ._common import DAY, HOUR, SERVER_NOW, as_int, server_now

PROFILE = Query.from_file(__file__, "ingest_profile.sql", "clickhouse")
QUERIES = (PROFILE, SERVER_NOW)  # what a check using the profile declares for `explain`
PREVIOUS_DAYS = 7
LAST_DAY = -100  # bucket of the last 24 hours outside the last hour


@dataclass
class IngestProfile:
    server_now: int  # the server's clock: every age is measured against it, not the doctor's
    newest: int  # newest `_timestamp` seen in the last 7 days (0: none)
    per_minute: dict[int, int] = field(default_factory=dict)  # minute start -> events, last hour
    same_hour: dict[int, int] = field(default_factory=dict)  # days ago (1..7) -> events in that hour
    last_day: int = 0
    total: int = 0  # everything the scan saw (7 days and 1 hour)
    partial_reason: str = ""  # set when a read budget cut the scan

    @property
    def last_hour(self) -> int:
        return sum(self.per_minute.values())

    @property
    def typical_hour(self) -> float:
        """Median of the same clock hour over the previous days: the traffic to expect right now."""
        return float(statistics.median(self.same_hour.get(d, 0) for d in range(1, PREVIOUS_DAYS + 1)))

    @property
    def hourly_rate(self) -> float:
        """Average events per hour over the whole scan (7 days and 1 hour)."""
        return self.total / (PREVIOUS_DAYS * 24 + 1)

    @property
    def silence_seconds(self) -> int:
        """Seconds since the newest arrival; 0 when none arrived in the scan (look at `newest` first)."""
        return self.server_now - self.newest if self.newest else 0


def ingest_profile(ctx: Context, max_rows_to_read: int) -> IngestProfile:
    """The profile of this run (computed by whichever check asks first)."""
    return ctx.shared(f"clickhouse.ingest_profile:{max_rows_to_read}", lambda: _read(ctx, max_rows_to_read))


def _read(ctx: Context, max_rows_to_read: int) -> IngestProfile:
    result = ctx.clickhouse.query(
        PROFILE,
        {
            "lookback_seconds": PREVIOUS_DAYS * DAY + HOUR,
            # Events whose own timestamp is older than this are not looked at (imports of old data).
            "timestamp_lookback_seconds": (PREVIOUS_DAYS + 2) * DAY,
        },
        max_rows_to_read=max_rows_to_read,
    )
    rows = result.dicts()
    profile = IngestProfile(
        server_now=max((as_int(r["server_now"]) for r in rows), default=0),
        newest=max((as_int(r["newest"]) for r in rows), default=0),
        partial_reason=result.partial_reason if result.partial else "",
    )
    for row in rows:
        bucket, events = as_int(row["bucket"]), as_int(row["events"])
        profile.total += events
        if bucket > 0:
            profile.per_minute[bucket] = events
            profile.last_day += events
        elif bucket == LAST_DAY:
            profile.last_day += events
        elif -PREVIOUS_DAYS <= bucket < 0:
            profile.same_hour[-bucket] = events
    if not rows:  # an empty answer carries no clock: ask for it so ages still mean something
        profile.server_now = server_now(ctx)
    return profile
