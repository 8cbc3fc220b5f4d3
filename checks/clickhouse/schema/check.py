"""The check itself: reading, judging and reporting (the package's docstring says what it looks at)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    Finding,
    Option,
    Outcome,
    Query,
    Status,
    Table,
    conclude,
    load_yaml,
    worst,
)

from ...common import docs
from .._common import as_int, tables

REPLICAS = Query.from_file(__file__, "replicas.sql", "clickhouse")


@dataclass(frozen=True)
class Requirement:
    any_of: tuple[str, ...]
    role: str
    severity: str
    when: str = ""


REQUIREMENTS_FILE = Path(__file__).with_name("pipeline_tables.yaml")


def load_requirements(path: Path = REQUIREMENTS_FILE) -> tuple[Requirement, ...]:
    entries = (load_yaml(path.read_text(encoding="utf-8")) or {}).get("tables") or []
    return tuple(
        Requirement(tuple(e["any_of"]), " ".join(str(e["role"]).split()), str(e["severity"]), str(e.get("when") or ""))
        for e in entries
    )


REQUIREMENTS = load_requirements()
MIGRATIONS = Advice(
    "Missing tables usually mean migrations did not finish: look at the migrate job or the web "
    "container's start-up logs, fix the failing migration and rerun it.",
    links=[docs.TROUBLESHOOTING],
)
REPLICATION = Advice(
    "A read-only replica has lost its ZooKeeper/Keeper session and refuses inserts: check "
    "ZooKeeper's health and ClickHouse's logs; a long replication queue means the replicas cannot "
    "fetch or merge parts fast enough.",
    links=[docs.CLICKHOUSE_REPLICATION],
)


def wrong_database(database: str) -> Advice:
    return Advice(
        f"No PostHog table is in {database!r}: is this PostHog's database (CLICKHOUSE_DATABASE; hobby and "
        "Helm use 'posthog')?",
        links=[docs.ENV_VARS],
    )


class Schema(Check):
    """Whether the tables PostHog's pipeline needs exist (events or sharded_events, writable_events, the DLQ,
    the person tables) and, on clusters, whether any replica is read-only or far behind."""

    id = "clickhouse.schema"
    title = "ClickHouse schema: PostHog's tables and replicas"
    needs = ("clickhouse",)
    tags = ("clickhouse", "schema")
    category = "Deployments/Upgrading"
    timeout = 15.0
    options = {
        "queue_warn": Option(100, "warn when a replica's replication queue holds more entries than this"),
        "delay_warn_seconds": Option(300, "warn when a replica is this many seconds behind"),
    }
    queries = (REPLICAS,)

    def run(self, ctx: Context) -> Outcome:
        present = tables(ctx)
        database = ctx.clickhouse.database
        missing, rows = [], []
        for req in REQUIREMENTS:
            if req.when and req.when not in present:
                continue
            found = [n for n in req.any_of if n in present]
            shown = ", ".join(f"{n} ({present[n]})" for n in found) or "missing"
            rows.append([" or ".join(req.any_of), shown, req.role])
            if not found:
                missing.append(Finding(Status(req.severity), f"{' or '.join(req.any_of)} missing", (MIGRATIONS,)))
        if missing and not present.keys() & {"events", "sharded_events", "events_dead_letter_queue"}:
            # Nothing of PostHog's here: the likeliest cause is the wrong database, so say that first.
            missing = [
                Finding(
                    worst(f.status for f in missing),
                    f"no PostHog table in database {database!r}: wrong "
                    f"database? ({'; '.join(f.text for f in missing)})",
                    (wrong_database(database), MIGRATIONS),
                )
            ]
        replicas = ctx.clickhouse.query(REPLICAS, {"database": database}).dicts()
        evidence = [
            Table(
                f"PostHog's tables in database {database!r}",
                ["Needed", "Found", "Role"],
                rows,
                note=f"{len(present)} tables and views in the database",
            ),
            self._replica_table(replicas),
        ]
        metrics = {
            "missing_tables": sum(1 for r in rows if r[1] == "missing"),
            "readonly_replicas": sum(
                1 for r in replicas if as_int(r["is_readonly"]) or as_int(r["is_session_expired"])
            ),
            "max_replication_queue": max((as_int(r["queue_size"]) for r in replicas), default=0),
        }
        cluster = f"; {len(replicas)} replicated tables, all writable" if replicas else "; no replicated tables"
        return conclude(
            missing + self._replica_findings(replicas, ctx.options),
            f"all {len(rows)} tables the pipeline needs exist{cluster}",
            evidence=evidence,
            metrics=metrics,
        )

    @staticmethod
    def _replica_findings(replicas, o) -> list[Finding]:
        readonly = [r["table"] for r in replicas if as_int(r["is_readonly"]) or as_int(r["is_session_expired"])]
        backlog = [
            f"{r['table']} ({as_int(r['queue_size'])})" for r in replicas if as_int(r["queue_size"]) > o["queue_warn"]
        ]
        # A read-only replica reads no replication log: ClickHouse then counts its delay from the epoch (decades).
        behind = [
            f"{r['table']} ({as_int(r['absolute_delay'])} s)"
            for r in replicas
            if as_int(r["absolute_delay"]) > o["delay_warn_seconds"] and r["table"] not in readonly
        ]
        down = [r["table"] for r in replicas if as_int(r["active_replicas"]) < as_int(r["total_replicas"])]
        findings = []
        if readonly:
            findings.append(Finding.fail(f"read-only replica of {', '.join(readonly[:5])}", REPLICATION))
        if backlog:
            findings.append(
                Finding.warn(f"replication queue above {o['queue_warn']}: {', '.join(backlog[:5])}", REPLICATION)
            )
        if behind:
            findings.append(Finding.warn(f"replica behind: {', '.join(behind[:5])}", REPLICATION))
        if down:
            findings.append(Finding.warn(f"inactive replicas of {', '.join(down[:5])}", REPLICATION))
        return findings

    @staticmethod
    def _replica_table(replicas) -> Table:
        return Table(
            "Replicated tables",
            [
                "Table",
                "Read-only",
                "Session expired",
                "Queue",
                "Inserts queued",
                "Merges queued",
                "Delay (s)",
                "Replicas active / total",
            ],
            [
                [
                    r["table"],
                    bool(as_int(r["is_readonly"])),
                    bool(as_int(r["is_session_expired"])),
                    as_int(r["queue_size"]),
                    as_int(r["inserts_in_queue"]),
                    as_int(r["merges_in_queue"]),
                    as_int(r["absolute_delay"]),
                    f"{as_int(r['active_replicas'])} / {as_int(r['total_replicas'])}",
                ]
                for r in replicas
            ],
            note="" if replicas else "no replicated tables: a single ClickHouse node",
        )
