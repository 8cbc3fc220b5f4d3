"""What the ClickHouse checks share: time labels, PostHog's table layout, the server's clock."""

from __future__ import annotations

from datetime import UTC, datetime

from posthog_doctor.check import Context, Query, QueryResult, Undetermined, units

HOUR, DAY = units.HOUR, units.DAY
SERVER_NOW = Query.from_file(__file__, "server_now.sql", "clickhouse")


def parse_window(text: str, option: str) -> int:
    """A window option ('24h', '7d') in seconds; Undetermined names the option when it is not a duration."""
    try:
        return units.parse_duration(text)
    except ValueError as exc:
        raise Undetermined(f"option {option}: {exc}") from None


def hour_label(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%m-%d %H:00")


def minute_label(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%H:%M")


def day_label(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d")


def pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def as_int(value) -> int:
    """ClickHouse numbers arrive as int (native) or int/str (chdb JSON); None means 0."""
    return int(value or 0)


def partial_note(results: tuple[QueryResult | None, ...]) -> str:
    """Why any of `results` stopped early (a read budget), or ''."""
    return "; ".join(r.partial_reason for r in results if r is not None and r.partial)


def tables(ctx: Context) -> dict[str, str]:
    """Name -> engine of every table and view in PostHog's database, read once per run."""
    return ctx.shared("clickhouse.tables", ctx.clickhouse.tables)


def events_data_table(ctx: Context) -> str | None:
    """The table holding the events' parts: `sharded_events` on sharded installs (behind a Distributed
    `events`), `events` itself on single-node installs from 2021-22; None when neither exists."""
    names = tables(ctx)
    return next((name for name in ("sharded_events", "events") if name in names), None)


def server_now(ctx: Context) -> int:
    """The server's clock as Unix time: ages are measured against it, not against the doctor's clock."""
    return as_int(ctx.clickhouse.query(SERVER_NOW).scalar(0))
