"""What a System Status page says, as findings: the same for the live API, a saved response and a paste.

Texts, statuses and links live in findings.yaml; the thresholds are `Thresholds` (the system_status
check's options). Only rows the page holds are judged: an older PostHog without a row gets no finding
for it, never a false alarm. Pure: no I/O beyond reading findings.yaml.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from posthog_doctor.check import Advice, Finding, Status, load_yaml, units

from ..common.status_page import StatusPage
from ..common.status_page.values import parse_age, parse_size

CLOCK_SKEW_SECONDS = 300  # a last ingestion further in the future than this means the clocks differ


@dataclass(frozen=True)
class Thresholds:
    """Where a row turns into a warning or a failure. Each is an option of the system_status check."""

    disk_warn_free_pct: float = 20.0
    disk_fail_free_pct: float = 10.0
    ingest_warn_minutes: float = 30.0
    redis_memory_warn_pct: float = 90.0

    HELP = {
        "disk_warn_free_pct": "warn when a ClickHouse disk has less free space than this (%)",
        "disk_fail_free_pct": "fail when a ClickHouse disk has less free space than this (%)",
        "ingest_warn_minutes": "warn when the last event was ingested longer ago than this (minutes)",
        "redis_memory_warn_pct": "warn when Redis uses more than this share of its maxmemory (%)",
    }

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@functools.lru_cache(maxsize=1)
def knowledge() -> dict[str, Any]:
    return load_yaml(Path(__file__).with_name("findings.yaml").read_text(encoding="utf-8"))


def evaluate(page: StatusPage, thresholds: Thresholds = Thresholds(), now: datetime | None = None) -> list[Finding]:
    """Every finding the page supports, in the order of RULES; each keyed by the row or rule it comes from."""
    now = now or datetime.now(UTC)
    return [finding for rule in RULES for finding in rule(page, thresholds, now)]


def _advised(key: str) -> Advice:
    """The advice (text and links resolved to URLs) of a rule, from findings.yaml."""
    entry = knowledge()["advice"][key]
    return Advice(" ".join(entry["text"].split()), links=_links(entry.get("links", ())))


def _found(key: str, status: str, text: str, *advice: Advice) -> Finding:
    return Finding(Status(status), text, advice, key)


def _links(names) -> list[str]:
    return [knowledge()["links"][name] for name in names]


def _quote(value: Any, limit: int = 40) -> str:
    """A row's value quoted in a sentence, cut short: a paste can put anything there."""
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


# --- the rules --------------------------------------------------------------------------------------


def flags(page: StatusPage, t: Thresholds, now: datetime) -> Iterator[Finding]:
    """Each Yes/No row: Yes is ok, No has the status findings.yaml gives it. The newest PostHog sends
    "error: <exception>" instead when its probe itself failed (posthog/api/test/test_instance_status.py,
    index id 55193736795): that is as bad as a No, with the reason shown."""
    for flag in knowledge()["flags"]:
        value = page.value(flag["key"])
        advice = Advice(" ".join(flag["advice"].split()), list(flag.get("commands", ())), _links(flag.get("links", ())))
        if value is True:
            yield _found(flag["key"], "ok", f"{flag['name']}: yes")
        elif value is False:
            detail = _detail(page, flag.get("detail", ""))
            yield _found(
                flag["key"], flag["when_false"], flag["says_false"] + (f" ({detail})" if detail else ""), advice
            )
        elif probe_error(value):
            said = flag.get("says_error", flag["says_false"])
            yield _found(flag["key"], flag["when_false"], f"{said} (its probe failed: {_quote(value, 120)})", advice)
        elif value is not None:
            yield _found(flag["key"], "warn", f"{flag['name']}: {_quote(value)} is neither yes nor no")


def probe_error(value: Any) -> bool:
    """A value the newest instance_status sends when measuring the row raised: "error: RuntimeError: ..."."""
    return isinstance(value, str) and value.strip().lower().startswith("error:")


def probe_errors(page: StatusPage, t: Thresholds, now: datetime) -> Iterator[Finding]:
    """Rows other than the Yes/No ones whose measurement failed: the page cannot say what they stand for."""
    flagged = {flag["key"] for flag in knowledge()["flags"]}
    for metric in page.metrics:
        if metric.key not in flagged and probe_error(metric.value):
            yield _found(
                metric.key, "warn", f"{metric.label or metric.key}: could not be measured ({_quote(metric.value, 120)})"
            )


def _detail(page: StatusPage, template: str) -> str:
    """`template` filled from the page's values, or "" when one of them is missing or not a number."""
    names = re.findall(r"\{(\w+)", template)
    values = {name: page.value(name) for name in names}
    if not template or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.values()):
        return ""
    return template.format(**values)


def analytics_database(page: StatusPage, t: Thresholds, now: datetime) -> Iterator[Finding]:
    value = page.value("analytics_database")
    if not isinstance(value, str):
        return
    if value.lower() == "postgres":
        size = page.value("postgres_events_table_size")
        held = f" (events table: {size})" if size else ""
        yield _found(
            "analytics_database",
            "warn",
            f"events are stored in Postgres, not ClickHouse{held}",
            _advised("analytics_database_postgres"),
        )
    else:
        yield _found("analytics_database", "ok", f"analytics database: {value}")


VERSIONS = (
    ("posthog_version", "PostHog"),
    ("posthog_git_sha", "PostHog commit"),
    ("plugin_server_version", "plugin server"),
    ("pg_version", "Postgres"),
    ("redis_version", "Redis"),
)


def versions(page: StatusPage, t: Thresholds, now: datetime) -> Iterator[Finding]:
    parts = [
        f"{name} {str(page.value(key))[:12] if key == 'posthog_git_sha' else page.value(key)}"
        for key, name in VERSIONS
        if page.value(key) is not None
    ]
    if parts:
        yield _found("versions", "ok", "versions: " + ", ".join(parts))


def clickhouse_disks(page: StatusPage, t: Thresholds, now: datetime) -> Iterator[Finding]:
    for metric in page.metrics:
        match = re.fullmatch(r"clickhouse_disk_(\d+)_free_space", metric.key)
        if not match:
            continue
        index = match.group(1)
        total_value = page.value(f"clickhouse_disk_{index}_total_space")
        if total_value is None:
            continue  # a page cut short before the total: its problems say so
        free, total = parse_size(metric.value), parse_size(total_value)
        if free is None or not total:
            yield _found(
                f"clickhouse_disk_{index}",
                "warn",
                f"ClickHouse disk {index}: the sizes "
                f"{_quote(metric.value)} free of {_quote(total_value)} could not be read",
            )
            continue
        pct = 100 * free / total
        status = "fail" if pct < t.disk_fail_free_pct else "warn" if pct < t.disk_warn_free_pct else "ok"
        text = f"ClickHouse disk {index}: {units.size(free)} free of {units.size(total)} ({pct:.0f}%)"
        yield _found(
            f"clickhouse_disk_{index}", status, text, *([_advised("clickhouse_disk")] if status != "ok" else [])
        )


def last_event(page: StatusPage, t: Thresholds, now: datetime) -> Iterator[Finding]:
    value = page.value("last_event_ingested_timestamp")
    if value is None:
        return
    age, never = parse_age(value, now)
    if never:
        yield _found(
            "last_event_ingested",
            "warn",
            "no event was ingested in the hour before the page was taken",
            _advised("last_event"),
        )
    elif age is None:
        yield _found("last_event_ingested", "warn", f"last event ingested: {_quote(value)} could not be read as a time")
    elif age < -CLOCK_SKEW_SECONDS:
        yield _found(
            "last_event_ingested",
            "warn",
            f"last event ingested {units.duration(-age)} in the future: the "
            "clocks of ClickHouse and this machine differ, so its age cannot be judged",
        )
    elif age > t.ingest_warn_minutes * 60:
        yield _found(
            "last_event_ingested",
            "warn",
            f"last event ingested {units.duration(age)} ago (more than {t.ingest_warn_minutes:g} min)",
            _advised("last_event"),
        )
    else:
        yield _found("last_event_ingested", "ok", f"last event ingested {units.duration(age)} ago")


def redis_memory(page: StatusPage, t: Thresholds, now: datetime) -> Iterator[Finding]:
    used, limit = parse_size(page.value("redis_memory_used")), parse_size(page.value("redis_maxmemory"))
    policy = page.value("redis_maxmemory_policy") or "unknown"
    if used is None or limit is None:
        return
    if limit == 0:
        yield _found("redis_memory", "ok", f"Redis uses {units.size(used)} with no maxmemory limit")
        return
    pct = 100 * used / limit
    text = f"Redis uses {units.size(used)} of its {units.size(limit)} maxmemory ({pct:.0f}%, policy {policy})"
    if pct < t.redis_memory_warn_pct:
        yield _found("redis_memory", "ok", text)
    else:
        status = "fail" if policy == "noeviction" else "warn"
        yield _found("redis_memory", status, text, _advised("redis_memory"))


RULES: tuple[Callable[[StatusPage, Thresholds, datetime], Iterator[Finding]], ...] = (
    flags,
    probe_errors,
    analytics_database,
    last_event,
    clickhouse_disks,
    redis_memory,
    versions,
)
