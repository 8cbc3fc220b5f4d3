"""Reading the values of System Status rows as the API sends them and as the page displays them.

The page shows booleans as Yes/No, numbers with thousands separators, null as "Unknown", the last
ingestion time as "3 minutes ago" (dayjs `fromNow`) and sizes as PostHog formatted them ("45.2 GiB" from
ClickHouse, "1.05MB" from Redis's `*_human` fields plus a "B"). Everything here is pure and never raises.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from posthog_doctor.check import units

UNKNOWN = {"", "unknown", "none", "null", "n/a", "?", "?b"}
TRUE, FALSE = {"yes", "true"}, {"no", "false"}
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
# "45.23 GiB", "1.05MB", "0BB" (Redis maxmemory 0 is "0B", and PostHog appends another "B"), "512 bytes".
_SIZE = re.compile(r"^([\d.,]+)\s*(?:([kmgtpe])(?:i?b)?b?|bb?|bytes?)$", re.I)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}
_RELATIVE = re.compile(r"^(?:(in) )?(a few|an?|\d{1,9}) (second|minute|hour|day|week|month|year)s?(?: (ago))?$")
_UNIT_SECONDS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 604800,
    "month": 2592000,
    "year": 31536000,
}
EPOCH_SHOWN_AS = datetime(1972, 1, 1, tzinfo=UTC)  # "N years ago" reaching back past this is the epoch
MAX_TEXT = 2000  # a value is a version, a flag or a size; anything longer is cut


def tidy(raw: Any) -> str:
    """A displayable one-line text of any JSON value."""
    if isinstance(raw, str):
        text = raw
    else:
        try:
            text = json.dumps(raw, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            text = f"<{type(raw).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def normalise(kind: str | None, raw: Any) -> Any:
    """The value of a row of `kind` (None for rows the doctor does not know): bool, int, float, str or None."""
    if kind == "table":
        return None
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw if kind in ("bool", None) else str(raw).lower()
    if isinstance(raw, float) and not math.isfinite(raw):
        return tidy(raw)  # JSON's NaN and Infinity: shown as text, never passed on as a number
    if isinstance(raw, (int, float)):
        return raw if kind in ("int", None) else tidy(raw)
    text = tidy(raw)
    if text.lower() in UNKNOWN:
        return None
    if kind in ("bool", None) and text.lower() in TRUE | FALSE:
        return text.lower() in TRUE
    if kind in ("int", None) and _NUMBER.match(text):
        number = float(text.replace(",", ""))
        if not math.isfinite(number):
            return text
        return int(number) if number.is_integer() and abs(number) < 2**63 else number
    return text


def parse_size(value: Any) -> float | None:
    """Bytes from a size as PostHog shows it (binary units, as both ClickHouse and Redis use), or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) else None
    match = _SIZE.match(str(value or "").strip())
    if not match:
        return None
    try:
        size = float(match.group(1).replace(",", "")) * 1024 ** _POWERS[(match.group(2) or "").lower()]
    except ValueError:
        return None
    return size if math.isfinite(size) else None


def parse_age(value: Any, now: datetime) -> tuple[float | None, bool]:
    """(seconds since the time `value` names, never): from an ISO timestamp or the page's "3 minutes ago".

    `never` is True for "Never" and for the Unix epoch, which is what ClickHouse's max() gives over no rows.
    """
    text = " ".join(str(value or "").lower().split())
    if text == "never":
        return None, True
    if text in ("just now", "now"):
        return 0.0, False
    relative = _RELATIVE.match(text)
    if relative and bool(relative.group(1)) != bool(relative.group(4)):  # "in 3 minutes" or "3 minutes ago"
        count = {"a few": 5, "a": 1, "an": 1}.get(relative.group(2))
        seconds = float(count if count is not None else int(relative.group(2))) * _UNIT_SECONDS[relative.group(3)]
        if relative.group(4) and seconds > (now - EPOCH_SHOWN_AS).total_seconds():
            # The page shows "Never" for the epoch only in a UTC browser; elsewhere "56 years ago".
            return None, True
        return (-seconds if relative.group(1) else seconds), False
    when = units.parse_timestamp(str(value or ""))
    if when is None:
        return None, False
    if when.year <= 1970:
        return None, True
    return (now - when).total_seconds(), False
