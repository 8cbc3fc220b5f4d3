"""The Postgres every PostHog keeps its metadata in: is it healthy, and is it the right one?

Version and size, connections against max_connections (PostHog's web, worker and plugin server all hold
pools), transactions left open (they hold back VACUUM and, idle, hold locks), the latest PostHog
migration applied, and replication: a standby is read-only, and an abandoned replication slot keeps
WAL until the disk is full.

Through PgBouncer (Helm puts PostHog behind it: POSTHOG_POSTGRES_HOST `<release>-pgbouncer`, port 6543,
USING_PGBOUNCER=true; charts-clickhouse `_postgresql.tpl`) the server sees PgBouncer's pool, not PostHog's
clients, so the counts are named as the pool's; PgBouncer's own SHOW commands need its admin console, which a
read-only doctor does not use.
"""

from __future__ import annotations

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    ErrorKind,
    Evidence,
    Finding,
    Item,
    MissingObject,
    Option,
    Outcome,
    Query,
    Table,
    Values,
    conclude,
    units,
)

from ..common import docs

SERVER_QUERY = Query.from_file(__file__, "health_server.sql", "postgres")
CONNECTIONS_QUERY = Query.from_file(__file__, "health_connections.sql", "postgres")
SESSIONS_QUERY = Query.from_file(__file__, "health_sessions.sql", "postgres")
MIGRATIONS_QUERY = Query.from_file(__file__, "health_migrations.sql", "postgres")
REPLICATION_QUERY = Query.from_file(__file__, "health_replication.sql", "postgres")
SLOTS_QUERY = Query.from_file(__file__, "health_slots.sql", "postgres")
STANDBY_QUERY = Query.from_file(__file__, "health_standby.sql", "postgres")
GiB = 1024**3
HELM_PGBOUNCER_PORT = 6543  # charts-clickhouse _postgresql.tpl: posthog.pgbouncer.port


class PostgresHealth(Check):
    """Server version, database size, connections used against max_connections, long-open and idle-in-transaction
    sessions, PostHog's latest migration, and replication or standby state."""

    id = "postgres.health"
    title = "Postgres health"
    needs = ("postgres",)
    tags = ("postgres",)
    category = "Deployments/Maintenance"
    options = {
        "connections_warn_pct": Option(80.0, "warn when this share of the usable connections is taken"),
        "connections_fail_pct": Option(95.0, "fail when this share of the usable connections is taken"),
        "long_transaction_minutes": Option(60.0, "warn when a transaction has been open longer than this"),
        "idle_in_transaction_minutes": Option(10.0, "warn when a session has sat idle inside a transaction this long"),
        "slot_retained_wal_gb": Option(5.0, "warn when a replication slot holds back more WAL than this (GiB)"),
        "standby_delay_seconds": Option(300.0, "warn when a standby replays this far behind its primary"),
    }
    queries = (
        SERVER_QUERY,
        CONNECTIONS_QUERY,
        SESSIONS_QUERY,
        MIGRATIONS_QUERY,
        REPLICATION_QUERY,
        SLOTS_QUERY,
        STANDBY_QUERY,
    )

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        server = ctx.postgres.query(SERVER_QUERY).one()
        connections = ctx.postgres.query(CONNECTIONS_QUERY).one()
        sessions = ctx.postgres.query(SESSIONS_QUERY).dicts()
        migrations, migrations_note = _migrations(ctx)
        replication = _replication(ctx, server["in_recovery"])
        pool = pooler(ctx.postgres.endpoint, server.get("server_port"))

        findings = [
            *connection_findings(server, connections, o, pool),
            *transaction_findings(connections, o),
            *migration_findings(server, migrations, migrations_note),
            *replication_findings(server, replication, o),
        ]
        evidence: list[Evidence] = [
            server_evidence(server),
            connections_evidence(server, connections, pool),
            sessions_evidence(sessions, ctx.include_payloads),
            Table(
                "Django migrations",
                ["App", "Applied", "Latest", "Last applied"],
                [[m["app"], m["applied"], m["latest"], m["last_applied_at"]] for m in migrations],
                note=migrations_note,
            ),
            *replication_evidence(server, replication),
        ]
        headline = (
            f"Postgres {server['server_version'].split()[0]}, database {server['database']} "
            f"{units.size(server['database_bytes'])}, {connections['connections']} of "
            f"{server['max_connections']} connections" + (" (through PgBouncer: the pool's)" if pool else "")
        )
        latest = next((m["latest"] for m in migrations if m["app"] == "posthog"), None)
        return conclude(
            findings, headline + (f", latest PostHog migration {latest}" if latest else ""), evidence=evidence
        )


# --- reading ------------------------------------------------------------------------------------


def _migrations(ctx: Context) -> tuple[list[dict], str]:
    """Applied Django migrations per app; a missing or unreadable table is a finding, not a failure."""
    try:
        return ctx.postgres.query(MIGRATIONS_QUERY).dicts(), ""
    except MissingObject:
        return [], "no django_migrations table"
    except ConnectorError as exc:
        if exc.kind != ErrorKind.PERMISSION:
            raise
        return [], f"django_migrations not readable: {exc}"


def _replication(ctx: Context, in_recovery: bool) -> dict:
    """Standby delay on a standby; streaming standbys and slots on a primary (WAL positions exist only there)."""
    if in_recovery:
        return {"standby": ctx.postgres.query(STANDBY_QUERY).first()}
    return {"primary": ctx.postgres.query(REPLICATION_QUERY).first(), "slots": ctx.postgres.query(SLOTS_QUERY).dicts()}


# --- judging ------------------------------------------------------------------------------------


def pooler(endpoint, server_port) -> str:
    """Why the doctor believes it talks to PostHog's Postgres through PgBouncer ('' when it does not)."""
    reasons = []
    if endpoint.param("pgbouncer").lower() in ("1", "true", "yes", "on"):
        reasons.append("USING_PGBOUNCER is set")
    if endpoint.port == HELM_PGBOUNCER_PORT:
        reasons.append(f"port {HELM_PGBOUNCER_PORT}, the Helm chart's PgBouncer")
    if "pgbouncer" in endpoint.host.lower():
        reasons.append(f"host {endpoint.host}")
    if reasons and server_port is not None and int(server_port) != endpoint.port:
        reasons.append(f"the server listens on {server_port}, not on the {endpoint.port} dialled")
    return "; ".join(reasons)


def connection_findings(server: dict, connections: dict, o, pool: str = "") -> list[Finding]:
    usable = max(1, server["max_connections"] - server["reserved_connections"])
    used_pct = 100 * connections["connections"] / usable
    if used_pct >= o["connections_fail_pct"]:
        found = Finding.fail
    elif used_pct >= o["connections_warn_pct"]:
        found = Finding.warn
    else:
        return []
    if pool:
        advice = Advice(
            "These are PgBouncer's server connections: its pools (default_pool_size per database and user, "
            "max_db_connections) nearly fill Postgres' max_connections. Lower PgBouncer's pool sizes or raise "
            "max_connections (needs a restart); clients waiting for a connection show only in PgBouncer's admin "
            "console (SHOW POOLS, column cl_waiting).",
            links=[docs.ENV_VARS],
        )
    else:
        advice = Advice(
            "Postgres is close to refusing new connections, which PostHog's web, worker and plugin server report "
            "as database errors. Put PgBouncer in front (the Helm chart has one; set USING_PGBOUNCER), lower the "
            "pools of the PostHog containers, or raise max_connections (needs a restart).",
            links=[docs.ENV_VARS],
        )
    whose = " (PgBouncer's pool)" if pool else ""
    return [
        found(f"{connections['connections']} of {usable} usable connections taken{whose} ({used_pct:.0f}%)", advice)
    ]


def transaction_findings(connections: dict, o) -> list[Finding]:
    found = []
    oldest = connections["oldest_transaction_seconds"]
    if oldest is not None and oldest >= 60 * o["long_transaction_minutes"]:
        found.append(
            Finding.warn(
                f"a transaction has been open for {_duration(oldest)}",
                Advice(
                    "A long-open transaction holds back VACUUM on every table, so tables bloat and queries slow down. "
                    "Find it in the sessions table below (pg_stat_activity) and end it if it is stuck.",
                    commands=["SELECT pg_cancel_backend(<pid>);  -- or pg_terminate_backend(<pid>)"],
                    links=[docs.PG_ACTIVITY],
                ),
            )
        )
    idle = connections["oldest_idle_in_transaction_seconds"]
    if idle is not None and idle >= 60 * o["idle_in_transaction_minutes"]:
        found.append(
            Finding.warn(
                f"{connections['idle_in_transaction']} session(s) idle inside a transaction, the "
                f"oldest for {_duration(idle)}",
                Advice(
                    "A session idle inside a transaction keeps its locks and holds back VACUUM. Setting "
                    "idle_in_transaction_session_timeout (e.g. 10min) makes Postgres end such sessions.",
                    links=[docs.PG_ACTIVITY],
                ),
            )
        )
    return found


def migration_findings(server: dict, migrations: list[dict], note: str) -> list[Finding]:
    if note.startswith("django_migrations not readable"):
        return []  # shown in the evidence; says nothing about the database itself
    if not any(m["app"] == "posthog" for m in migrations):
        return [
            Finding.warn(
                f"database {server['database']} has no PostHog migrations ({note or 'no posthog app'}): is "
                "this PostHog's database?",
                Advice(
                    "Point the doctor at the database PostHog uses: DATABASE_URL, or POSTHOG_DB_NAME with the host and "
                    "port (hobby and Helm: database 'posthog').",
                    links=[docs.ENV_VARS],
                ),
            )
        ]
    return []


def replication_findings(server: dict, replication: dict, o) -> list[Finding]:
    found = []
    standby = replication.get("standby")
    if standby is not None:
        found.append(
            Finding.warn(
                "this Postgres is a read-only standby",
                Advice(
                    "PostHog writes to the primary: check that the doctor (and PostHog's DATABASE_URL) point at the "
                    "primary, not at a replica."
                ),
            )
        )
        delay = standby.get("replay_delay_seconds")
        if delay is not None and not standby.get("caught_up") and delay >= o["standby_delay_seconds"]:
            found.append(Finding.warn(f"the standby replays {_duration(delay)} behind its primary"))
    for slot in replication.get("slots", ()):
        retained = slot["retained_wal_bytes"] or 0
        if not slot["active"] and retained >= o["slot_retained_wal_gb"] * GiB:
            found.append(
                Finding.warn(
                    f"inactive replication slot {slot['slot_name']} holds {units.size(retained)} of WAL",
                    Advice(
                        "An inactive slot keeps WAL until its consumer returns, until the disk is full. "
                        "Drop it if nothing will use it again.",
                        commands=[f"SELECT pg_drop_replication_slot('{slot['slot_name']}');"],
                        links=[docs.PG_SLOTS],
                    ),
                )
            )
    return found


# --- evidence -----------------------------------------------------------------------------------


def server_evidence(server: dict) -> Values:
    return Values(
        "Server",
        [
            Item("Version", server["server_version"], "server_version"),
            Item("Database", server["database"], "database"),
            Item("Database size", units.size(server["database_bytes"]), "database_size"),
            Item("Running since", server["started_at"], "started_at"),
            Item("Standby (in recovery)", server["in_recovery"], "in_recovery"),
        ],
    )


def connections_evidence(server: dict, connections: dict, pool: str = "") -> Values:
    usable = max(1, server["max_connections"] - server["reserved_connections"])
    notes = []
    if pool:
        notes.append(
            f"Through PgBouncer ({pool}): these are the pool's server connections, not PostHog's clients; "
            "PgBouncer's own counts (SHOW POOLS, SHOW CLIENTS) need its admin console."
        )
    if connections["not_visible"]:
        notes.append("Sessions of other roles show no state unless the doctor's role has pg_read_all_stats.")
    return Values(
        "Connections",
        [
            Item(
                "Client connections" if not pool else "Connections (PgBouncer's pool)",
                connections["connections"],
                "connections",
            ),
            Item(
                "max_connections (reserved for superusers)",
                f"{server['max_connections']} ({server['reserved_connections']})",
                "max_connections",
            ),
            Item("Used (%)", round(100 * connections["connections"] / usable, 1), "used_pct"),
            Item("Active", connections["active"], "active"),
            Item("Idle", connections["idle"], "idle"),
            Item("Idle in transaction", connections["idle_in_transaction"], "idle_in_transaction"),
            Item("On this database", connections["on_this_database"], "on_this_database"),
            Item("Of other roles, details hidden", connections["not_visible"], "not_visible"),
            Item("Through PgBouncer", pool or "no sign of it", "pgbouncer"),
        ],
        note=" ".join(notes),
    )


def sessions_evidence(sessions: list[dict], include_payloads: bool) -> Table:
    rows = [
        [
            s["pid"],
            s["user"],
            s["application_name"] or "—",
            s["state"],
            _duration(s["transaction_seconds"]),
            _duration(s["state_seconds"]),
            ".".join(filter(None, (s["wait_event_type"], s["wait_event"]))) or "—",
            s["query"] if include_payloads else _statement_kind(s["query"]),
        ]
        for s in sessions
    ]
    return Table(
        "Oldest open transactions",
        ["PID", "User", "Application", "State", "Open for", "In state for", "Waiting on", "Query"],
        rows,
        note="" if include_payloads else "Query text is reduced to its first word (--include-payloads keeps it).",
    )


def replication_evidence(server: dict, replication: dict) -> list:
    if "standby" in replication:
        standby = replication["standby"] or {}
        return [
            Values(
                "Replication",
                [
                    Item("Role", "standby", "role"),
                    Item("Replay delay", _duration(standby.get("replay_delay_seconds")), "replay_delay"),
                    Item("Caught up with what it received", standby.get("caught_up"), "caught_up"),
                ],
            )
        ]
    primary = replication["primary"] or {}
    evidence: list[Evidence] = [
        Values(
            "Replication",
            [
                Item("Role", "primary", "role"),
                Item("Streaming standbys", primary.get("standbys"), "standbys"),
                Item("Largest replay lag", _duration(primary.get("max_replay_lag_seconds")), "max_replay_lag"),
            ],
        )
    ]
    if replication["slots"]:
        evidence.append(
            Table(
                "Replication slots",
                ["Slot", "Type", "Active", "WAL held"],
                [
                    [s["slot_name"], s["slot_type"], s["active"], units.size(s["retained_wal_bytes"] or 0)]
                    for s in replication["slots"]
                ],
            )
        )
    return evidence


def _statement_kind(query: str | None) -> str:
    words = (query or "").split()
    return f"{words[0].upper()} …" if words else "—"


def _duration(seconds) -> str | None:
    return None if seconds is None else units.duration(float(seconds))
