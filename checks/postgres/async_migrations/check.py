"""The postgres.async_migrations check: each async migration's state, its errors, and whether a running one moves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    Finding,
    Option,
    Outcome,
    Query,
    Skip,
    Table,
    conclude,
    load_yaml,
    units,
)

from ...common import docs

LAYOUT = Query.from_file(__file__, "layout.sql", "postgres", "async_migrations_layout")
MIGRATIONS = Query.from_file(__file__, "migrations.sql", "postgres", "async_migrations")
MIGRATIONS_2021 = Query.from_file(__file__, "migrations_2021.sql", "postgres", "async_migrations_2021")
RUNNING_QUERY = Query.from_file(__file__, "running_query.sql", "clickhouse", "async_migration_query")
STATUSES_FILE = Path(__file__).with_name("statuses.yaml")
RUNNING, COMPLETED = 1, 2
FINDING_ERROR_CHARS = 150  # a finding is one line of about 300 characters: the cause comes first

LONG_RUNNING = Advice(
    "Some async migrations (the 0007 persons-on-events backfill) take days on a large install, so compare its "
    "operation and progress with a run of the doctor an hour later. If they do not move, the Celery worker running "
    "it has died: with ASYNC_MIGRATIONS_AUTO_CONTINUE (on by default) PostHog's periodic health check resumes it; "
    "otherwise stop it, or stop and roll back, from Instance > Async migrations (/instance/async_migrations). If "
    "an upgrade crash-loops on it, PostHog's runbook says to mark it as errored in Postgres to get the app up, then "
    "roll it back from the UI.",
    commands=["UPDATE posthog_asyncmigration SET status = 3 WHERE name = '<name>';  -- errored, per PostHog's runbook"],
    links=[docs.ASYNC_MIGRATIONS_RUNBOOK, docs.ASYNC_MIGRATIONS],
)
SET_BY_HAND = Advice(
    "An async migration marked complete without finishing hides a data change that never happened (a column never "
    "backfilled, a table never swapped), and later upgrades build on it. Read what it does in PostHog's source "
    "(posthog/async_migrations/migrations/<name>.py) and its last error, then run it properly: set it back to not "
    "started (status 0) and start it from /instance/async_migrations, or ask PostHog whether it can be skipped.",
    links=[docs.ASYNC_MIGRATIONS_RUNBOOK, docs.ASYNC_MIGRATION_MODEL],
)


@dataclass(frozen=True)
class State:
    """One MigrationStatus value and PostHog's word on it (statuses.yaml)."""

    value: int
    name: str
    severity: str  # ok | warn | fail | none
    says: str = ""
    advice: Advice | None = None


def load_states(path: Path = STATUSES_FILE) -> dict[int, State]:
    entries = (load_yaml(path.read_text(encoding="utf-8")) or {}).get("statuses") or []
    states = {}
    for e in entries:
        advice = None
        if e.get("advice"):
            advice = Advice(" ".join(str(e["advice"]).split()), links=[getattr(docs, d) for d in e.get("docs") or ()])
        states[int(e["value"])] = State(
            int(e["value"]), str(e["name"]), str(e["severity"]), str(e.get("says", "")), advice
        )
    return states


STATES = load_states()


@dataclass(frozen=True)
class Migration:
    """One row of posthog_asyncmigration with its error summary; times are Unix seconds of the server's clock."""

    name: str
    status: int
    progress: int
    operation: int
    query_id: str
    started_at: float | None
    finished_at: float | None
    max_version: str | None
    errors: int
    errors_in_last_run: int
    last_error_at: float | None
    last_error: str | None

    @classmethod
    def from_row(cls, row: dict) -> Migration:
        return cls(
            name=str(row["name"]),
            status=int(row["status"]),
            progress=int(row["progress"] or 0),
            operation=int(row["current_operation_index"] or 0),
            query_id=str(row["current_query_id"] or ""),
            started_at=_float(row["started_at"]),
            finished_at=_float(row["finished_at"]),
            max_version=row["posthog_max_version"],
            errors=int(row["errors"] or 0),
            errors_in_last_run=int(row["errors_in_last_run"] or 0),
            last_error_at=_float(row["last_error_at"]),
            last_error=row["last_error"],
        )

    @property
    def state(self) -> State:
        return STATES.get(self.status) or State(self.status, f"unknown status {self.status}", "warn")


class AsyncMigrations(Check):
    """PostHog's async migrations from Postgres: which is running (and for how long, and whether its ClickHouse query
    still runs), failed, rolled back, failed at startup, or is marked complete without having finished, with its last
    error and PostHog's advice."""

    id = "postgres.async_migrations"
    title = "Async migrations"
    needs = ("postgres",)
    uses = ("clickhouse",)
    tags = ("postgres", "migrations", "upgrade")
    category = "Deployments/Upgrading"
    timeout = 15.0
    options = {
        "running_warn_hours": Option(24.0, "warn when an async migration has been running longer than this"),
        "error_chars": Option(400, "show at most this many characters of an error in the table (it may hold SQL)"),
    }
    queries = (LAYOUT, MIGRATIONS, MIGRATIONS_2021, RUNNING_QUERY)

    def run(self, ctx: Context) -> Outcome:
        layout = ctx.postgres.query(LAYOUT).one()
        if not layout["has_migrations"]:
            raise Skip(
                "no posthog_asyncmigration table: this PostHog predates async migrations (1.33), or this is not "
                "PostHog's database"
            )
        errors_table = bool(layout["has_error_table"])
        result = ctx.postgres.query(MIGRATIONS if errors_table else MIGRATIONS_2021)
        rows = result.dicts()
        now = max((_float(r["server_now"]) or 0.0 for r in rows), default=0.0)
        migrations = [Migration.from_row(r) for r in rows]
        o = ctx.options
        findings: list[Finding] = []
        for m in migrations:
            findings += judge(ctx, m, now, o)
        layout_note = (
            "errors from posthog_asyncmigrationerror (PostHog 2022+)"
            if errors_table
            else "errors from the last_error column (PostHog before 2022, Django migration 0198)"
        )
        running_since = [m.started_at for m in migrations if m.status == RUNNING and m.started_at]
        metrics = {
            "failed_async_migrations": sum(1 for m in migrations if m.state.severity == "fail"),
            "running_async_migration_hours": round((now - min(running_since)) / 3600, 1) if running_since else None,
        }
        if not migrations:
            healthy = (
                "no async migration recorded: Django fills posthog_asyncmigration when the web app starts "
                "(setup_async_migrations)"
            )
        else:
            healthy = f"{len(migrations)} async migrations: {tally(migrations)}"
        return conclude(
            findings,
            healthy,
            evidence=[evidence_table(migrations, o["error_chars"], layout_note)],
            metrics=metrics,
        )


def judge(ctx: Context, m: Migration, now: float, o) -> list[Finding]:
    """What is wrong with one migration, in a sentence a support engineer can act on."""
    error = _error_phrase(m, min(FINDING_ERROR_CHARS, o["error_chars"]))
    if m.status == RUNNING:
        return _running(ctx, m, now, o)
    if m.status == COMPLETED:
        return _completed(m, error)
    state = m.state
    if state.severity == "none":
        return []
    when = f" at {units.utc(m.finished_at)}" if m.finished_at else ""
    where = f" (operation {m.operation}, {m.progress}% done)" if m.status in (3, 4) else ""
    text = f"async migration {m.name} {state.says or state.name}{when}{where}{error}"
    found = Finding.fail if state.severity == "fail" else Finding.warn
    return [found(text, *([state.advice] if state.advice else []))]


def _running(ctx: Context, m: Migration, now: float, o) -> list[Finding]:
    if not m.started_at or now - m.started_at < o["running_warn_hours"] * 3600:
        return []
    age = units.duration(now - m.started_at)
    text = (
        f"async migration {m.name} has been running for {age} (since {units.utc(m.started_at)}), "
        f"at operation {m.operation} ({m.progress}% done)"
    )
    running = _query_in_clickhouse(ctx, m.query_id)
    if running is True:
        text += "; its current ClickHouse query is still running"
    elif running is False:
        text += "; no ClickHouse query of it is running now, so the worker running it has probably died"
    return [Finding.warn(text, LONG_RUNNING)]


def _completed(m: Migration, error: str) -> list[Finding]:
    if m.progress < 100 or m.finished_at is None:
        unfinished = f"progress {m.progress}%" + ("" if m.finished_at else ", no finish time")
        return [
            Finding.warn(
                f"async migration {m.name} is marked completed but never finished ({unfinished}): its status was "
                f"set by hand, so the data change it makes may not be done{error}",
                SET_BY_HAND,
            )
        ]
    if m.errors_in_last_run:
        return [
            Finding.warn(
                f"async migration {m.name} is marked completed but recorded {m.errors_in_last_run} error(s) during "
                f"its last run{error}: a failure was marked as success, likely by hand",
                SET_BY_HAND,
            )
        ]
    return []


def _query_in_clickhouse(ctx: Context, query_id: str) -> bool | None:
    """Whether a ClickHouse query carrying the migration's current query id runs now (None: cannot tell)."""
    if not query_id:
        return None
    try:
        return bool(ctx.clickhouse.query(RUNNING_QUERY, {"marker": query_id}).rows)
    except (Skip, ConnectorError):  # ClickHouse unreachable or not configured: say nothing about it
        return None


def _error_phrase(m: Migration, limit: int) -> str:
    if not m.last_error:
        return ""
    at = f" at {units.utc(m.last_error_at)}" if m.last_error_at else ""
    return f"; last error{at}: {clip(m.last_error, limit)}"


def clip(text: str, limit: int) -> str:
    """An error on one line, at most `limit` characters: it may quote long SQL."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 1)] + "…"


def tally(migrations: list[Migration]) -> str:
    counts: dict[str, int] = {}
    for m in migrations:
        counts[m.state.name] = counts.get(m.state.name, 0) + 1
    return ", ".join(f"{n} {name}" for name, n in counts.items())


def evidence_table(migrations: list[Migration], error_chars: int, note: str) -> Table:
    return Table(
        "Async migrations",
        ["Name", "Status", "Progress (%)", "Operation", "Started", "Finished", "Errors", "Last error"],
        [
            [
                m.name,
                m.state.name,
                m.progress,
                m.operation,
                units.utc(m.started_at) if m.started_at else None,
                units.utc(m.finished_at) if m.finished_at else None,
                m.errors,
                clip(m.last_error, error_chars) if m.last_error else None,
            ]
            for m in migrations
        ],
        note=f"Read from posthog_asyncmigration; {note}. Times in UTC.",
    )


def _float(value) -> float | None:
    return None if value is None else float(value)
