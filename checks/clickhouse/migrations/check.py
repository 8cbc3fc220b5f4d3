"""The clickhouse.migrations check: the migration record against the tables it says exist."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    Finding,
    Item,
    Outcome,
    Query,
    Skip,
    Table,
    Values,
    conclude,
    load_yaml,
    units,
)

from ...common import docs
from .._common import as_int, tables

INFI_TABLE, SCHEMA_TABLE = "infi_clickhouse_orm_migrations", "clickhouse_schema_migrations"
INFI_RECORD = Query.from_file(__file__, "infi_record.sql", "clickhouse", "clickhouse_migrations_record")
SCHEMA_RECORD = Query.from_file(__file__, "schema_record.sql", "clickhouse", "clickhouse_schema_migrations")
CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")
READ_BUDGET = 1_000_000  # rows: the record tables hold hundreds
SHOWN = 5  # names listed in a finding's sentence

RERUN = Advice(
    "Make PostHog create the missing tables again: delete those migrations' rows from the record, then run "
    "migrate_clickhouse, which runs every migration it has no row for (PostHog's migrations create their tables "
    "with IF NOT EXISTS, so the others are untouched).",
    commands=[
        "ALTER TABLE infi_clickhouse_orm_migrations DELETE WHERE module_name IN ('<migration>', ...)",
        "docker compose exec web python manage.py migrate_clickhouse",
        "kubectl -n posthog exec deploy/posthog-web -- python manage.py migrate_clickhouse",
    ],
    links=[docs.MIGRATE_CLICKHOUSE, docs.CLICKHOUSE_MIGRATIONS_SOURCE, docs.TROUBLESHOOTING],
)
RECORD_BEHIND = Advice(
    "The record is behind the schema (restored from another backup, or tables made by hand), so migrate_clickhouse "
    "will run these migrations again; older ones without IF NOT EXISTS stop it with 'Table ... already exists' and "
    "the upgrade hangs on it. `migrate_clickhouse --plan` lists what it would run; if those tables are complete, "
    "record the migrations without running them (`--fake --upto <number>`), or ask PostHog first.",
    commands=["docker compose exec web python manage.py migrate_clickhouse --plan"],
    links=[docs.MIGRATE_CLICKHOUSE, docs.UPGRADE_NOTES],
)
FAILED_STEP = Advice(
    "A ch_migrate step failed and has not succeeded since: the schema is part-way through that migration. Run "
    "`ch_migrate plan` to see what is left, fix the error ClickHouse logged for it (system.query_log, "
    "exception), and apply again.",
    links=[docs.CLICKHOUSE_MIGRATIONS_SOURCE, docs.CLICKHOUSE_RUNBOOK],
)


@dataclass(frozen=True)
class Creates:
    """A migration and the tables it creates (any one of them), unless a later migration dropped them."""

    module: str
    tables: tuple[str, ...]
    dropped_by: str = ""


def load_catalogue(path: Path = CATALOGUE_FILE) -> tuple[Creates, ...]:
    entries = (load_yaml(path.read_text(encoding="utf-8")) or {}).get("migrations") or []
    return tuple(Creates(str(e["module"]), tuple(e["tables"]), str(e.get("dropped_by") or "")) for e in entries)


CATALOGUE = load_catalogue()


@dataclass(frozen=True)
class Record:
    """What infi_clickhouse_orm_migrations says: module -> first day applied, and rows per package."""

    applied: dict[str, str]
    packages: dict[str, int]

    @property
    def newest(self) -> str:
        return max(self.applied, key=migration_order, default="")


class ClickHouseMigrations(Check):
    """ClickHouse's migration record (`infi_clickhouse_orm_migrations`, both package names, and ch_migrate's
    `clickhouse_schema_migrations`) against the schema: migrations recorded whose tables are missing, tables whose
    migration is not recorded, failed ch_migrate steps."""

    id = "clickhouse.migrations"
    title = "ClickHouse migration record"
    needs = ("clickhouse",)
    tags = ("clickhouse", "migrations", "upgrade")
    category = "Deployments/Upgrading"
    timeout = 15.0
    queries = (INFI_RECORD, SCHEMA_RECORD)

    def run(self, ctx: Context) -> Outcome:
        present = tables(ctx)
        database = ctx.clickhouse.database
        if INFI_TABLE not in present and SCHEMA_TABLE not in present:
            raise Skip(
                f"no ClickHouse migration record in database {database!r}: recent PostHog single-node installs apply "
                "a declared schema and keep none (clickhouse.schema checks the tables themselves)"
            )
        record = read_record(ctx) if INFI_TABLE in present else None
        steps = (
            ctx.clickhouse.query(SCHEMA_RECORD, max_rows_to_read=READ_BUDGET).dicts() if SCHEMA_TABLE in present else []
        )
        findings: list[Finding] = []
        rows: list[list] = []
        if record is not None:
            findings += record_findings(record, present, rows)
        findings += step_findings(steps)
        return conclude(
            findings,
            healthy_summary(record, rows, steps),
            evidence=evidence(record, rows, steps),
            metrics={
                "recorded_migrations": len(record.applied) if record else None,
                "recorded_but_missing": sum(1 for r in rows if r[1] != "no" and r[3] == "missing"),
                "unrecorded_tables": sum(1 for r in rows if r[1] == "no" and r[3] != "missing"),
                "failed_migration_steps": sum(1 for s in steps if _failed(s)),
            },
        )


def read_record(ctx: Context) -> Record:
    applied: dict[str, str] = {}
    packages: dict[str, int] = {}
    for row in ctx.clickhouse.query(INFI_RECORD, max_rows_to_read=READ_BUDGET).dicts():
        module, day = str(row["module_name"]), str(row["applied"])
        applied[module] = min(day, applied.get(module, day))  # the same module under both package names
        packages[str(row["package_name"])] = packages.get(str(row["package_name"]), 0) + 1
    return Record(applied, packages)


def record_findings(record: Record, present: dict[str, str], rows: list[list]) -> list[Finding]:
    """Compare each catalogued migration with the tables; fills `rows` for the evidence table."""
    missing, unrecorded = [], []
    for entry in CATALOGUE:
        if entry.dropped_by and entry.dropped_by in record.applied:
            continue
        found = [t for t in entry.tables if t in present]
        day = record.applied.get(entry.module)
        rows.append([entry.module, day or "no", " or ".join(entry.tables), ", ".join(found) or "missing"])
        if day and not found:
            missing.append(f"{entry.module} ({entry.tables[0]})")
        elif not day and found and record.applied:
            unrecorded.append(f"{found[0]} ({entry.module})")
    findings = []
    if not record.applied:
        if any(r[3] != "missing" for r in rows):
            findings.append(
                Finding.warn(
                    f"the migration record ({INFI_TABLE}) is empty while PostHog's tables exist: migrate_clickhouse "
                    "will run every migration again",
                    RECORD_BEHIND,
                )
            )
        return findings
    if missing:
        findings.append(
            Finding.fail(
                f"{len(missing)} ClickHouse migration(s) recorded as applied but their tables are missing: "
                f"{_list(missing)}: faked (--fake) or dropped since, so migrate_clickhouse will not create them again",
                RERUN,
            )
        )
    if unrecorded:
        findings.append(
            Finding.warn(
                f"{len(unrecorded)} table(s) exist whose migration is not recorded: {_list(unrecorded)}: the record "
                f"(newest {record.newest}) is behind the schema, so migrate_clickhouse will run them again",
                RECORD_BEHIND,
            )
        )
    return findings


def step_findings(steps: list[dict]) -> list[Finding]:
    failed = [s for s in steps if _failed(s)]
    if not failed:
        return []
    shown = [
        f"{s['migration_name']} step {as_int(s['step_index'])} on {s['host']} at {units.utc(as_int(s['last_at']))}"
        for s in failed
    ]
    return [
        Finding.fail(
            f"{len(failed)} ch_migrate step(s) failed and have not succeeded since: {_list(shown)}",
            FAILED_STEP,
        )
    ]


def healthy_summary(record: Record | None, rows: list[list], steps: list[dict]) -> str:
    parts = []
    if record is not None:
        checked = sum(1 for r in rows if r[1] != "no")
        parts.append(
            f"{len(record.applied)} migrations recorded (newest {record.newest or 'none'}); the tables of the "
            f"{checked} recorded ones compared all exist"
        )
    if steps:
        parts.append(f"{len(steps)} ch_migrate steps recorded, none failed")
    return "; ".join(parts)


def evidence(record: Record | None, rows: list[list], steps: list[dict]) -> list:
    found: list = []
    if record is not None:
        implied = max((r[0] for r in rows if r[3] != "missing"), key=migration_order, default="")
        found.append(
            Values(
                "Migration record",
                [
                    Item("Migrations recorded", len(record.applied), "recorded"),
                    Item(
                        "Rows per package",
                        ", ".join(f"{p}: {n}" for p, n in sorted(record.packages.items())) or "none",
                        "packages",
                    ),
                    Item("Newest recorded", record.newest or None, "newest_recorded"),
                    Item("Newest the tables imply", implied or None, "newest_implied"),
                ],
                note="PostHog's package was ee.clickhouse.migrations until 2022, posthog.clickhouse.migrations since.",
            )
        )
        found.append(
            Table(
                "Migrations and the tables they create",
                ["Migration", "Recorded (first applied)", "Creates", "Found"],
                rows,
                note="Only migrations whose tables PostHog keeps are compared (catalogue.yaml).",
            )
        )
    if steps:
        found.append(
            Table(
                "ch_migrate steps",
                ["Migration", "Step", "Host", "Direction", "Last attempt", "Succeeded", "Attempts"],
                [
                    [
                        f"{as_int(s['migration_number']):04d} {s['migration_name']}",
                        as_int(s["step_index"]),
                        s["host"],
                        s["direction"],
                        units.utc(as_int(s["last_at"])),
                        bool(as_int(s["last_success"])),
                        as_int(s["attempts"]),
                    ]
                    for s in steps
                ],
            )
        )
    return found


def migration_order(module: str) -> tuple[int, str]:
    """Order migrations by their number, then name (PostHog's history has several with the same number)."""
    number = re.match(r"\d+", module)
    return (int(number.group()) if number else -1, module)


def _failed(step: dict) -> bool:
    return step["direction"] == "up" and not as_int(step["last_success"])


def _list(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more
