"""Which system tables and columns this ClickHouse has, probed once per run (never guessed from the version)."""

from __future__ import annotations

from posthog_doctor.check import Context, Query

from ._common import as_int

SYSTEM_COLUMNS = Query.from_file(__file__, "system_columns.sql", "clickhouse")
UPTIME = Query.from_file(__file__, "server_uptime.sql", "clickhouse")


def system_columns(ctx: Context) -> dict[str, set[str]]:
    """Table -> column names, for the system tables the depth checks read (a missing table is absent)."""

    def read() -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for table, column in ctx.clickhouse.query(SYSTEM_COLUMNS).rows:
            found.setdefault(str(table), set()).add(str(column))
        return found

    return ctx.shared("clickhouse.system_columns", read)


def uptime(ctx: Context) -> tuple[int, int]:
    """(seconds since the server started, the server's clock as Unix time)."""
    row = ctx.clickhouse.query(UPTIME).one()
    return as_int(row["uptime"]), as_int(row["server_now"])


def server_version(ctx: Context) -> str:
    return ctx.probe("clickhouse").version or "this version"
