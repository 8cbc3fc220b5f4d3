"""Sizes, durations, ages and counts, said one way everywhere in a report.

Every check and template formats these through here, so a report never calls the same kind of figure
"25 h" in one place, "2.5 h" in another and "1 day" in a third. Sizes are binary (KiB, MiB, GiB), as
ClickHouse, Postgres, Redis and `df -h` count them; durations read "45 s", "12 min", "3 h 5 min",
"2 d 4 h" (whole hours up to two days stay in hours: "24 h", "36 h").
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

MINUTE, HOUR, DAY, WEEK = 60, 3600, 86400, 7 * 86400
_DURATION = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|seconds?|m|mins?|minutes?|h|hours?|d|days?|w|weeks?)?\s*$", re.I
)
_UNIT_SECONDS = {"s": 1, "m": MINUTE, "h": HOUR, "d": DAY, "w": WEEK}


def duration(seconds: float | None) -> str:
    """A duration or an age in the report's one style; negative values count as zero."""
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    whole = int(max(seconds, 0))
    if whole < MINUTE:
        return f"{whole} s"
    if whole < HOUR:
        return f"{whole // MINUTE} min"
    if whole < DAY or (whole < 2 * DAY and whole % HOUR == 0):
        hours, minutes = divmod(whole // MINUTE, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(whole // HOUR, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def parse_duration(text: str) -> int:
    """Seconds from '24h', '90m', '7d', '2w', '45s' (a bare number means hours); ValueError otherwise."""
    found = _DURATION.match(str(text))
    if not found or float(found.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration: use e.g. 24h, 90m, 7d")
    unit = (found.group(2) or "h").lower()
    return int(float(found.group(1)) * _UNIT_SECONDS["m" if unit.startswith("mi") else unit[0]])


def size(n: float | None) -> str:
    """Bytes in binary units: '512 B', '1.5 MiB', '3.4 GiB'."""
    if n is None or not math.isfinite(n):
        return "unknown"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.0f} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"  # pragma: no cover - the loop always returns


def approx(n: float) -> str:
    """A count the way people say it: 950, 12k, 3.4M, 1.2bn."""
    value = float(n)
    for unit, scale in (("bn", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            scaled = value / scale
            text = f"{scaled:.1f}".rstrip("0").rstrip(".") if scaled < 100 else f"{scaled:.0f}"
            return text + unit
    return f"{value:.0f}"


def milliseconds(ms: float) -> str:
    """How long something took: '850 ms', '1.2 s'."""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 timestamp (a trailing Z allowed; UTC when it names no zone), or None."""
    try:
        when = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def utc(ts: float | None) -> str:
    """A Unix time as 'YYYY-MM-DD HH:MM UTC', or '—' for none (or ClickHouse's zero date)."""
    if not ts:
        return "—"
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d %H:%M UTC")
