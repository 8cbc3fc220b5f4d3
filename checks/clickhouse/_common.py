"""Small helpers shared by the ClickHouse checks: durations, time labels, sizes, PostHog's table layout."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from posthog_doctor.check import Query, Undetermined

HOUR, DAY = 3600, 86400
# The tables and views of PostHog's database, read once per run and shared by every check that needs them.
TABLES = Query.from_file(__file__, "tables.sql", "clickhouse")
SERVER_NOW = Query.from_file(__file__, "server_now.sql", "clickhouse")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hours?|d|days?|w|weeks?)?\s*$", re.I)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": HOUR, "d": DAY, "w": 7 * DAY}


def parse_duration(text: str, option: str) -> int:
    """'24h', '90m', '7d', '2w' (a bare number is hours) as seconds; Undetermined names the option otherwise."""
    found = _DURATION.match(str(text))
    if not found or float(found.group(1)) <= 0:
        raise Undetermined(f"{option} {text!r} is not a duration: use e.g. 24h, 90m, 7d")
    unit = (found.group(2) or "h").lower()
    return int(float(found.group(1)) * _UNIT_SECONDS["m" if unit.startswith("mi") else unit[0]])


def say_duration(seconds: float) -> str:
    """A short human duration: '45 s', '12 min', '3 h 5 min', '2 d 4 h'."""
    seconds = int(max(seconds, 0))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < HOUR:
        return f"{seconds // 60} min"
    if seconds < DAY or (seconds < 2 * DAY and seconds % HOUR == 0):
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(seconds // HOUR, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def utc(ts: int | None) -> str:
    """A Unix time as 'YYYY-MM-DD HH:MM UTC', or '—' when ClickHouse returned its zero date."""
    if not ts:
        return "—"
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def hour_label(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%m-%d %H:00")


def minute_label(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%H:%M")


def day_label(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%d")


def size(n: float) -> str:
    """Bytes in decimal units, the way disk vendors and `df -H` count them."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"  # pragma: no cover - the loop always returns


def pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def as_int(value) -> int:
    """ClickHouse numbers arrive as int (native) or int/str (chdb JSON); None means 0."""
    return int(value or 0)


def partial_note(results) -> str:
    """Why any of `results` stopped early (a read budget), or ''."""
    return "; ".join(r.partial_reason for r in results if r is not None and r.partial)


def tables(ctx) -> dict[str, str]:
    """Name -> engine of every table and view in the connection's database."""
    def read() -> dict[str, str]:
        result = ctx.clickhouse.query(TABLES, {"database": ctx.clickhouse.database})
        return {row[0]: row[1] for row in result.rows}

    return ctx.shared("clickhouse.tables", read)


def events_data_table(ctx) -> str | None:
    """The table holding the events' parts: `sharded_events` on sharded installs (behind a Distributed
    `events`), `events` itself on single-node installs from 2021-22; None when neither exists."""
    names = tables(ctx)
    return next((name for name in ("sharded_events", "events") if name in names), None)


def server_now(ctx) -> int:
    """The server's clock as Unix time: ages are measured against it, not against the doctor's clock."""
    return as_int(ctx.clickhouse.query(SERVER_NOW).scalar(0))
