"""Customer payloads shown in examples (DLQ rows, ingestion warning details): keys kept and values masked,
unless --include-payloads.

The text comes from the customer's events, so anything goes: huge, truncated, not JSON, not UTF-8, nested
a thousand deep. Nothing here raises; every result is short.
"""

from __future__ import annotations

import json
import re

MAX_PARSE_CHARS = 64_000  # the SQL already cut payloads to this many bytes
MAX_SHOWN = 400
MAX_DEPTH = 5
MAX_KEYS = 40
MAX_ITEMS = 3
_KEY = re.compile(r'"((?:[^"\\]|\\.){1,100})"\s*:')


def show_payload(text: str, total_bytes: int, include_payloads: bool) -> str:
    """A payload as the report shows it: as sent (clipped) or masked (keys kept)."""
    text = str(text or "")
    cut = total_bytes > len(text.encode("utf-8", errors="replace"))
    if include_payloads:
        return _clip(text) + (f" … [{total_bytes:,} bytes in all]" if cut else "")
    if not text.strip():
        return ""
    try:
        value = json.loads(text[:MAX_PARSE_CHARS])
    except (ValueError, RecursionError):
        keys = list(dict.fromkeys(_KEY.findall(text[:MAX_PARSE_CHARS])))[:MAX_KEYS]
        if keys:  # a payload too large to parse whole still shows which properties it carried
            return _clip(f"<{total_bytes:,} bytes, values masked; keys: {', '.join(keys)}>")
        return f"<not JSON, {total_bytes:,} bytes, masked>"
    try:
        return _clip(json.dumps(mask(value), ensure_ascii=False))
    except (ValueError, RecursionError):  # pragma: no cover - mask() bounds depth; belt and braces
        return f"<{total_bytes:,} bytes, masked>"


def show_value(text: str, include_payloads: bool) -> str:
    """A single customer value (a distinct id): as is, or only its length."""
    text = str(text or "")
    return _clip(text) if include_payloads else (f"<masked, {len(text)} chars>" if text else "")


def show_details(details: str, shown: tuple[str, ...], include_payloads: bool) -> str:
    """A JSON object (an ingestion warning's details) with the values of the keys in `shown` kept (those that
    name no person: a pipeline step, an error) and every other value masked, unless --include-payloads."""
    size = len(str(details or "").encode("utf-8", errors="replace"))
    if include_payloads:
        return show_payload(details, size, True)
    try:
        value = json.loads(str(details or "")[:MAX_PARSE_CHARS])
    except (ValueError, RecursionError):
        return show_payload(details, size, False)
    if not isinstance(value, dict):
        return show_payload(details, size, False)
    kept = {
        str(k)[:100]: (_clip(str(v)) if k in shown and isinstance(v, (str, int, float)) else mask(v, 1))
        for k, v in list(value.items())[:MAX_KEYS]
    }
    return _clip(json.dumps(kept, ensure_ascii=False))


def detail_value(details: str, key: str) -> str:
    """One top-level value of a JSON object as text ('' when it is not there or the text is not JSON)."""
    try:
        value = json.loads(str(details or "")[:MAX_PARSE_CHARS])
    except (ValueError, RecursionError):
        return ""
    found = value.get(key, "") if isinstance(value, dict) else ""
    return found if isinstance(found, str) else json.dumps(found)


def mask(value, depth: int = 0):
    """The same shape with every value replaced by its type: {"plan": "<str>", "seats": "<num>"}."""
    if depth >= MAX_DEPTH:
        return "<…>"
    if isinstance(value, dict):
        keys = list(value)
        shown = {str(k)[:100]: mask(value[k], depth + 1) for k in keys[:MAX_KEYS]}
        if len(keys) > MAX_KEYS:
            shown["…"] = f"<{len(keys) - MAX_KEYS} more keys>"
        return shown
    if isinstance(value, list):
        items = [mask(v, depth + 1) for v in value[:MAX_ITEMS]]
        return items + ([f"<{len(value) - MAX_ITEMS} more items>"] if len(value) > MAX_ITEMS else [])
    if value is None:
        return None
    if isinstance(value, bool):
        return "<bool>"
    if isinstance(value, (int, float)):
        return "<num>"
    return "<str>"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"
