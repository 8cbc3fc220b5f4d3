"""postgres.health against a real Postgres 15: connections, open transactions, migrations, replication slots."""

from __future__ import annotations

import re
import time

import psycopg
import pytest

from tests.conftest import target
from tests.postgres_support import Segment, deployment

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def posthog_db(postgres_server):
    return deployment(postgres_server, "phd_postgres_live", (Segment(20_000, 0, 30),))


def run(doctor, dep, *flags):
    return doctor("run", "--only", "postgres.health", *flags, *target(postgres=dep.url)).check("postgres.health")


def evidence(check, title):
    return next(e for e in check["evidence"] if e["title"] == title)


def test_a_healthy_posthog_database(posthog_db, doctor):
    check = run(doctor, posthog_db)
    assert check["status"] == "ok", check["summary"]
    assert re.match(
        r"Postgres \d+\.\d+, database phd_postgres_live [\d.]+ (KiB|MiB), \d+ of 100 connections, latest "
        r"PostHog migration 0171_cohort_description$",
        check["summary"],
    )
    migrations = {row[0]: row for row in evidence(check, "Django migrations")["rows"]}
    assert migrations["posthog"][1:3] == [3, "0171_cohort_description"] and "ee" in migrations
    assert {i["key"]: i["value"] for i in evidence(check, "Replication")["items"]}["role"] == "primary"


def test_long_and_idle_transactions_are_found_and_their_queries_masked(posthog_db, doctor):
    with psycopg.connect(posthog_db.url, application_name="posthog-web") as held:
        held.execute("SELECT txid_current()")  # a transaction with an id, left idle: psycopg does not commit
        time.sleep(1.2)
        flags = (
            "-O",
            "postgres.health.long_transaction_minutes=0.01",
            "-O",
            "postgres.health.idle_in_transaction_minutes=0.01",
        )
        check = run(doctor, posthog_db, *flags)
        revealed = run(doctor, posthog_db, *flags, "--include-payloads")
    assert check["status"] == "warn"
    assert re.search(r"a transaction has been open for \d+ s", check["summary"])
    assert re.search(r"\d+ session\(s\) idle inside a transaction, the oldest for \d+ s", check["summary"])
    session = next(r for r in evidence(check, "Oldest open transactions")["rows"] if r[2] == "posthog-web")
    assert session[3] == "idle in transaction" and session[7] == "SELECT …"
    shown = next(r for r in evidence(revealed, "Oldest open transactions")["rows"] if r[2] == "posthog-web")
    assert shown[7] == "SELECT txid_current()"
    assert any("idle_in_transaction_session_timeout" in a["text"] for a in check["advice"])


def test_connections_near_max_connections(posthog_db, doctor):
    check = run(doctor, posthog_db, "-O", "postgres.health.connections_warn_pct=1")
    assert check["status"] == "warn" and re.search(r"\d+ of 97 usable connections taken", check["summary"])
    strict = run(doctor, posthog_db, "-O", "postgres.health.connections_fail_pct=1")
    assert strict["status"] == "fail" and "PgBouncer" in strict["advice"][0]["text"]


def test_a_database_without_posthog_migrations_is_questioned(postgres_server, doctor):
    bare = deployment(postgres_server, "phd_no_events", events_table=False)  # shared with other modules
    other = deployment(postgres_server, "phd_not_posthog", events_table=False, related=False, migrations=False)
    check = run(doctor, other)
    assert check["status"] == "warn"
    assert check["summary"] == (
        "database phd_not_posthog has no PostHog migrations (no django_migrations table): is this PostHog's database?"
    )
    assert run(doctor, bare)["status"] == "ok"


def test_an_unreadable_migrations_table_is_reported_not_judged(postgres_server, doctor):
    locked = deployment(postgres_server, "phd_locked_migrations", events_table=False, related=False, migrations=False)
    with psycopg.connect(locked.admin_url, autocommit=True) as admin:
        admin.execute(
            "CREATE TABLE IF NOT EXISTS django_migrations (id serial, app text, name text, applied timestamptz)"
        )  # owned by the superuser; PostHog's role gets no grant
    check = run(doctor, locked)
    assert check["status"] == "ok"
    assert evidence(check, "Django migrations")["note"].startswith("django_migrations not readable:")
    assert "permission denied" in evidence(check, "Django migrations")["note"]


def test_an_abandoned_replication_slot_is_found(postgres_server, posthog_db, doctor):
    with psycopg.connect(posthog_db.admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_create_physical_replication_slot('phd_abandoned', true)")
        try:
            check = run(doctor, posthog_db, "-O", "postgres.health.slot_retained_wal_gb=0")
        finally:
            admin.execute("SELECT pg_drop_replication_slot('phd_abandoned')")
    assert check["status"] == "warn"
    assert re.search(r"inactive replication slot phd_abandoned holds [\d.]+ (B|KiB|MiB) of WAL", check["summary"])
    assert "pg_drop_replication_slot('phd_abandoned')" in check["advice"][0]["commands"][0]
    assert evidence(check, "Replication slots")["rows"][0][:3] == ["phd_abandoned", "physical", False]


def test_counts_through_pgbouncer_are_named_as_the_pools(posthog_db, doctor):
    """USING_PGBOUNCER (Helm sets it with the PgBouncer host, port 6543) travels as ?pgbouncer=true: the counts are
    then PgBouncer's server pool, and the advice is about its pool sizes, not about adding one."""
    pooled = posthog_db.url + "?pgbouncer=true"
    check = run_url(doctor, pooled, "-O", "postgres.health.connections_warn_pct=1")
    assert check["status"] == "warn"
    assert re.search(r"\d+ of 97 usable connections taken \(PgBouncer's pool\)", check["summary"])
    assert check["advice"][0]["text"].startswith("These are PgBouncer's server connections")
    figures = {i["key"]: i for i in evidence(check, "Connections")["items"]}
    assert figures["pgbouncer"]["value"] == "USING_PGBOUNCER is set"
    assert figures["connections"]["label"] == "Connections (PgBouncer's pool)"
    direct = run(doctor, posthog_db)
    assert {i["key"]: i["value"] for i in evidence(direct, "Connections")["items"]}["pgbouncer"] == "no sign of it"
    assert "PgBouncer" not in direct["summary"]


def test_posthogs_ssl_mode_is_honoured(postgres_server, posthog_db, doctor, monkeypatch):
    """POSTHOG_POSTGRES_SSL_MODE reaches libpq: `require` against this server (no TLS) fails the way PostHog would,
    `disable` connects (audit row 42)."""
    user, password = postgres_server.url.split("//")[1].split("@")[0].split(":")
    host, port = postgres_server.url.split("@")[1].split("/")[0].split(":")
    env = {
        "POSTHOG_DB_NAME": "phd_postgres_live",
        "POSTHOG_DB_USER": user,
        "POSTHOG_DB_PASSWORD": password,
        "POSTHOG_POSTGRES_HOST": host,
        "POSTHOG_POSTGRES_PORT": port,
    }
    flags = [a for pair in zip(*[iter(target())] * 2, strict=True) if pair[0] != "--postgres-url" for a in pair]
    results = {}
    for mode in ("require", "disable"):
        for name, value in dict(env, POSTHOG_POSTGRES_SSL_MODE=mode).items():
            monkeypatch.setenv(name, value)
        results[mode] = doctor("run", "--only", "postgres.connection", *flags).check("postgres.connection")
    assert results["disable"]["status"] == "ok", results["disable"]["summary"]
    assert results["require"]["status"] == "fail"
    assert "TLS mismatch" in results["require"]["summary"]


def run_url(doctor, url, *flags):
    return doctor("run", "--only", "postgres.health", *flags, *target(postgres=url)).check("postgres.health")
