"""Where does this deployment keep its events, Postgres or ClickHouse? Every signal, and what they add up to.

Signals come from what the web app says about itself (preflight, System Status) and from where the
data actually is (PostHog tables in ClickHouse, recent rows in Postgres's `posthog_event`). Strong
signals decide; weak ones (the realm, an empty or old `posthog_event`, which a moved or idle
deployment also has) are shown but never decide alone and never make a disagreement.

The verdict is computed once per run and shared: `postgres.event_volume` reads it to know whether
the volume of `posthog_event` matters.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from posthog_doctor.check import ConnectorError, Context, MissingObject, Query, Skip, units

from .events_table import read_time_bounds
from .status_page import parse_status
from .web import instance_status, preflight

CLICKHOUSE, POSTGRES = "ClickHouse", "Postgres"
CLICKHOUSE_TABLES_QUERY = Query.from_file(__file__, "clickhouse_tables.sql", "clickhouse")
EVENT_TABLES_IN_CLICKHOUSE = ("events", "sharded_events")


@dataclass(frozen=True)
class Signal:
    source: str  # where it was read
    observed: str  # what it said, as read (or why it could not be read)
    points_to: str | None  # CLICKHOUSE, POSTGRES, or None: no opinion
    strong: bool = True


@dataclass(frozen=True)
class BackendVerdict:
    signals: tuple[Signal, ...]
    posthog_version: str | None = None  # as the web app reports it, read on the way

    @property
    def strong(self) -> list[Signal]:
        return [s for s in self.signals if s.points_to and s.strong]

    @property
    def weak(self) -> list[Signal]:
        return [s for s in self.signals if s.points_to and not s.strong]

    @property
    def votes(self) -> Counter:
        return Counter(s.points_to for s in self.strong)

    @property
    def disagree(self) -> bool:
        return len(self.votes) > 1

    @property
    def backend(self) -> str | None:
        """The database every strong signal points to; None when there is none or they disagree."""
        return next(iter(self.votes)) if len(self.votes) == 1 else None

    def pointing_to(self, database: str, *, strong: bool = True) -> list[Signal]:
        return [s for s in (self.strong if strong else self.weak) if s.points_to == database]


def analytics_backend(ctx: Context, recent_days: int) -> BackendVerdict:
    """Every signal this run can read, gathered once per run (checks that use it share one answer)."""
    return ctx.shared(f"deployment.analytics_backend:{recent_days}", lambda: _gather(ctx, recent_days))


def _gather(ctx: Context, recent_days: int) -> BackendVerdict:
    """Each web app answer is read once; the signals and the version come from the same answers."""
    preflight_body, preflight_error = _read(preflight, ctx)
    status_rows, status_error = _read(lambda c: overview_rows(instance_status(c)), ctx)
    signals = (
        *from_preflight(preflight_body, preflight_error),
        from_system_status(status_rows, status_error),
        *from_status_file(ctx),
        from_clickhouse(ctx),
        from_postgres(ctx, recent_days),
    )
    return BackendVerdict(signals, reported_version(preflight_body, status_rows))


def _read(fetch, ctx):
    try:
        return fetch(ctx), None
    except (Skip, ConnectorError) as exc:
        return None, exc


def _not_read(source: str, exc: Exception | None) -> Signal:
    return Signal(source, f"not read: {exc}", None)


def reported_version(preflight_body: dict | None, status_rows: list[dict] | None) -> str | None:
    """PostHog's version: System Status `posthog_version`, else preflight's (logged-in users, old versions)."""
    for row in status_rows or ():
        if row.get("key") == "posthog_version" and row.get("value"):
            return str(row["value"])
    version = (preflight_body or {}).get("posthog_version")
    return str(version) if version else None


def from_preflight(body: dict | None, error: Exception | None = None) -> list[Signal]:
    """`/_preflight/`: is_clickhouse_enabled and db_backend (logged-in users only, old versions), realm."""
    source = "web app /_preflight/"
    if body is None:
        return [_not_read(source, error)]
    signals = []
    if "is_clickhouse_enabled" in body:
        value = body["is_clickhouse_enabled"]
        signals.append(
            Signal(
                f"{source} is_clickhouse_enabled",
                json.dumps(value),
                {True: CLICKHOUSE, False: POSTGRES}.get(value) if isinstance(value, bool) else None,
            )
        )
    if "db_backend" in body:
        value = str(body["db_backend"]).lower()
        signals.append(
            Signal(
                f"{source} db_backend",
                json.dumps(body["db_backend"]),
                {"clickhouse": CLICKHOUSE, "postgres": POSTGRES, "postgresql": POSTGRES}.get(value),
            )
        )
    if not signals:
        signals.append(
            Signal(
                f"{source} is_clickhouse_enabled, db_backend",
                "not in the answer (old PostHog shows them to logged-in users only; new PostHog has no Postgres mode)",
                None,
            )
        )
    realm = body.get("realm")
    if realm is not None:
        # Old PostHog: "hosted-clickhouse" when installed by the Helm chart, "hosted" otherwise, which was
        # usually, but not always, a Postgres install: a hint only.
        points = {"hosted-clickhouse": CLICKHOUSE, "hosted": POSTGRES}.get(str(realm))
        signals.append(Signal(f"{source} realm", json.dumps(realm), points, strong=False))
    return signals


def from_system_status(rows: list[dict] | None, error: Exception | None = None) -> Signal:
    """`/api/instance_status`: the `analytics_database` row, or which database's rows it has."""
    source = "System Status (/api/instance_status)"
    if rows is None:
        return _not_read(source, error)
    by_key = {str(row["key"]): row for row in rows if row.get("key")}
    if "analytics_database" in by_key:
        value = str(by_key["analytics_database"].get("value", ""))
        points = {"clickhouse": CLICKHOUSE, "postgres": POSTGRES}.get(value.lower())
        return Signal(f"{source} analytics_database", json.dumps(value), points)
    clickhouse_keys = sorted(k for k in by_key if str(k).startswith("clickhouse_"))
    if clickhouse_keys:
        return Signal(f"{source} ClickHouse rows", f"present ({', '.join(clickhouse_keys[:3])}, …)", CLICKHOUSE)
    if any(str(row.get("metric", "")).startswith("Postgres events table") for row in rows):
        return Signal(f"{source} Postgres events table row", "present", POSTGRES)
    return Signal(source, "has neither an analytics_database row nor database rows", None)


def from_status_file(ctx: Context) -> list[Signal]:
    """A saved System Status page (`--status-file`): the same rows, read by the System Status parser."""
    if not ctx.available("status_snapshot"):
        return []  # none given: not a signal, not worth a line

    page = parse_status(ctx.status_snapshot.text)
    rows = [{"key": m.key, "metric": m.label, "value": m.value} for m in page.metrics]
    signal = from_system_status(rows)
    return [
        Signal(
            signal.source.replace("System Status (/api/instance_status)", "saved System Status page"),
            signal.observed,
            signal.points_to,
            signal.strong,
        )
    ]


def overview_rows(body: Any) -> list[dict]:
    """The metric rows of an instance_status answer: `results.overview` (or `results`, oldest versions)."""
    results = body.get("results") if isinstance(body, dict) else None
    rows = results.get("overview") if isinstance(results, dict) else results
    if not isinstance(rows, list):
        raise ConnectorError("/api/instance_status answered without results.overview", "protocol")
    return [row for row in rows if isinstance(row, dict)]


def from_clickhouse(ctx: Context) -> Signal:
    """Whether ClickHouse holds PostHog's events table."""
    source = "ClickHouse tables"
    try:
        rows = ctx.clickhouse.query(CLICKHOUSE_TABLES_QUERY).dicts()
    except (Skip, ConnectorError) as exc:
        return _not_read(source, exc)
    events = [f"{r['database']}.{r['name']}" for r in rows if r["name"] in EVENT_TABLES_IN_CLICKHOUSE]
    if events:
        return Signal(source, f"{', '.join(events)} exist", CLICKHOUSE)
    return Signal(source, "ClickHouse answers but holds no PostHog events table", POSTGRES, strong=False)


def from_postgres(ctx: Context, recent_days: int) -> Signal:
    """Whether Postgres's posthog_event still receives events (its newest row is recent)."""
    source = "Postgres posthog_event"
    try:
        bounds = read_time_bounds(ctx)
    except MissingObject:
        return Signal(source, "no such table (PostHog versions without Postgres events)", CLICKHOUSE, strong=False)
    except (Skip, ConnectorError) as exc:  # WouldScan included: no index serves the bounds
        return _not_read(source, exc)
    if bounds.last_event is None:
        return Signal(source, "empty", CLICKHOUSE, strong=False)
    age = bounds.now - bounds.last_event
    if age.days < recent_days:
        return Signal(source, f"newest event {units.duration(age.total_seconds())} ago: events are arriving", POSTGRES)
    return Signal(
        source,
        f"newest event {bounds.last_event:%Y-%m-%d}, {age.days} days ago: nothing recent",
        CLICKHOUSE,
        strong=False,
    )
