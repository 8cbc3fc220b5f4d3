"""postgres.event_volume against a real Postgres seeded like a Postgres-era PostHog, at several volumes.

Each scenario's true counts are arithmetic (events spread evenly over time segments), so the check's
estimates are held to tolerances, and every run is checked against posthog_event's scan counters: the
events table is never read sequentially, while its index is (which also proves the counters moved).
"""

from __future__ import annotations

import glob
import re
import shlex
import subprocess

import psycopg
import pytest

from posthog_doctor.checks.common.docs import MIGRATE_TO_CLICKHOUSE, MIGRATOR_PLUGIN
from posthog_doctor.checks.postgres.event_volume.migration import METADATA_TABLES, metadata_dump_command
from tests.conftest import target, unavailable
from tests.postgres_support import Segment, deployment, partitioned_deployment, scan_counters, true_count

pytestmark = pytest.mark.postgres

# Days ago: (count, newest, oldest). BUSY ends past the 5M/month limit after a tenfold month.
BUSY = (Segment(5_500_000, 0, 30), Segment(750_000, 30, 75))
GROWING = (Segment(2_500_000, 0, 30), Segment(150_000, 30, 90))
QUIET = (Segment(300_000, 0, 30), Segment(450_000, 30, 90))
BEFORE_ANALYZE, AFTER_ANALYZE = (Segment(50_000, 40, 90),), (Segment(150_000, 0, 5),)
NEVER_ANALYSED = (Segment(120_000, 0, 60),)


@pytest.fixture(scope="module")
def busy(postgres_server):
    return deployment(postgres_server, "phd_busy", BUSY)


@pytest.fixture(scope="module")
def growing(postgres_server):
    return deployment(postgres_server, "phd_growing", GROWING)


@pytest.fixture(scope="module")
def quiet(postgres_server):
    return deployment(postgres_server, "phd_quiet", QUIET)


def run_volume(doctor, dep, *flags, **components):
    """Run the check; assert the events table was not scanned and its index was read. Returns the result."""
    before = scan_counters(dep)
    result = doctor("run", "--only", "postgres.event_volume", *flags, *target(postgres=dep.url, **components))
    after = scan_counters(dep)
    assert (after.seq_scan, after.seq_tup_read) == (before.seq_scan, before.seq_tup_read), "posthog_event was scanned"
    assert after.idx_scan > before.idx_scan, "the run did not read the timestamp index (or statistics were not flushed)"
    return result.check("postgres.event_volume")


def item(check, title, key):
    values = next(e for e in check["evidence"] if e["title"] == title)
    return next(i["value"] for i in values["items"] if i["key"] == key)


def series(check, title):
    return next(e for e in check["evidence"] if e["title"] == title)["points"]


def test_past_the_hard_limit_the_verdict_is_move_to_clickhouse_with_numbers_and_steps(busy, doctor, fake_http):
    fake_http.route("/_livez", {"http": True})
    fake_http.route(
        "/_preflight/",
        {
            "django": True,
            "db": True,
            "realm": "hosted",
            "is_clickhouse_enabled": False,
            "db_backend": "postgres",
            "posthog_version": "1.28.0",
        },
    )
    check = run_volume(doctor, busy, posthog_api=fake_http.url)

    assert check["status"] == "fail"
    assert "move to ClickHouse" in check["summary"] and "5M/month" in check["summary"]
    per_month = item(check, "posthog_event", "events_per_month")
    assert per_month == pytest.approx(true_count(BUSY, 0, 30), rel=0.03)
    # The tenfold step at 30 days falls inside one histogram bucket, which smears it a little.
    assert item(check, "Trend", "previous_30_days") == pytest.approx(true_count(BUSY, 30, 60), rel=0.1)
    assert 8.0 <= float(item(check, "Trend", "growth").rstrip("%")) / 100 <= 12.5  # tenfold: +1000%
    assert item(check, "posthog_event", "live_rows") == pytest.approx(6_250_000, rel=0.01)
    full_days = [p["value"] for p in series(check, "Events per day (estimated)") if "so far" not in p["label"]]
    assert len(full_days) == 13 and sum(full_days) == pytest.approx(13 * 5_500_000 / 30, rel=0.05)
    assert all(v == pytest.approx(5_500_000 / 30, rel=0.25) for v in full_days)  # one day is a few buckets

    advice = " ".join(a["text"] for a in check["advice"])
    links = {link for a in check["advice"] for link in a["links"]}
    assert "Migrator 3000" in advice and "pg_dump" in " ".join(c for a in check["advice"] for c in a["commands"])
    assert "This PostHog is 1.28.0: upgrade it to 1.30.0 first" in advice
    assert re.search(r"give Postgres at least [\d.]+ GiB of memory", advice)
    assert {MIGRATE_TO_CLICKHOUSE, MIGRATOR_PLUGIN} <= links


def test_thresholds_are_data_the_config_file_and_flags_override(busy, doctor, tmp_path):
    config = tmp_path / "doctor.yaml"
    config.write_text("checks:\n  postgres.event_volume: {limit_events_per_month: 8000000}\n")
    assert run_volume(doctor, busy, "--config", str(config))["status"] == "warn"
    relaxed = run_volume(
        doctor,
        busy,
        "-O",
        "postgres.event_volume.struggle_events_per_month=7000000",
        "-O",
        "postgres.event_volume.limit_events_per_month=9000000",
    )
    assert relaxed["status"] == "ok" and "below the 7M/month" in relaxed["summary"]


def test_from_2m_a_month_postgres_struggles(growing, doctor):
    check = run_volume(doctor, growing)
    assert check["status"] == "warn"
    assert "past the 2M/month where Postgres starts to struggle" in check["summary"]
    assert item(check, "posthog_event", "events_per_month") == pytest.approx(true_count(GROWING, 0, 30), rel=0.03)
    assert "Check the PostHog version first" in " ".join(a["text"] for a in check["advice"])


def test_below_2m_a_month_is_fine_and_the_growth_is_projected(quiet, doctor):
    check = run_volume(doctor, quiet)
    assert check["status"] == "ok"
    assert item(check, "posthog_event", "events_per_month") == pytest.approx(true_count(QUIET, 0, 30), rel=0.03)
    growth = float(item(check, "Trend", "growth").rstrip("%")) / 100
    assert growth == pytest.approx(300_000 / 225_000 - 1, abs=0.05)
    assert 5.5 <= item(check, "Trend", "months_to_struggle") <= 8.0  # ln(2M/300k) / ln(1.33) = 6.6
    assert re.search(r"reaches 2M events a month in about \d+ months", check["advice"][0]["text"])
    months = series(check, "Events per month (estimated)")
    assert len(months) == 6 and months[-1]["label"].endswith("(so far)")
    tables = next(e for e in check["evidence"] if e["title"] == "Event-scale tables")
    rows = {r[0]: r[1] for r in tables["rows"]}
    assert rows["posthog_person"] == 2000 and rows["posthog_sessionrecordingevent"] == 3000
    assert rows["posthog_element"] == 5000 and rows["posthog_event"] == pytest.approx(750_000, rel=0.01)


def test_stale_statistics_are_reported_and_analyze_fixes_them(postgres_server, doctor):
    stale = deployment(postgres_server, "phd_stale", BEFORE_ANALYZE, late=AFTER_ANALYZE)
    check = run_volume(doctor, stale)
    assert check["status"] == "warn"
    assert "statistics are stale (150,000 rows changed since the last ANALYZE" in check["summary"]
    assert item(check, "posthog_event", "statistics_fresh") is False
    # The rows added since ANALYZE all arrived within 30 days: a floor that keeps the volume visible.
    assert item(check, "posthog_event", "events_per_month") == pytest.approx(150_000, rel=0.01)
    assert any("ANALYZE" in c for a in check["advice"] for c in a["commands"])
    assert "stale" in next(e for e in check["evidence"] if e["title"] == "Events per day (estimated)")["note"]

    with psycopg.connect(stale.admin_url, autocommit=True) as admin:
        admin.execute("ANALYZE posthog_event")
    fixed = run_volume(doctor, stale)
    assert fixed["status"] == "ok" and item(fixed, "posthog_event", "statistics_fresh") is True
    assert item(fixed, "posthog_event", "events_per_month") == pytest.approx(150_000, rel=0.05)


def test_a_table_never_analysed_falls_back_to_its_history(postgres_server, doctor):
    never = deployment(postgres_server, "phd_never_analysed", NEVER_ANALYSED, indexes_first=True, analyze=False)
    check = run_volume(doctor, never)
    assert check["status"] == "warn" and "never been analysed" in check["summary"]
    assert item(check, "posthog_event", "events_per_month") == pytest.approx(60_000, rel=0.02)  # 120k over 60 days
    assert "since the first event" in item(check, "posthog_event", "method")
    assert not any(e["title"].startswith("Events per day") for e in check["evidence"])  # no guesses shown


def test_a_partitioned_events_table_is_summed_over_its_partitions(postgres_server, doctor):
    """PostHog partitioned posthog_event by event and week for a while; every number spans the partitions."""
    segments = (Segment(200_000, 0, 30), Segment(100_000, 30, 60))
    dep = partitioned_deployment(postgres_server, "phd_partitioned", segments, weeks=6)
    check = run_volume(doctor, dep)  # counters summed over all 14 partitions
    assert check["status"] == "ok", check["summary"]
    assert item(check, "posthog_event", "partitions") == 2 * 7  # two event partitions, six weeks and a default each
    assert item(check, "posthog_event", "events_per_month") == pytest.approx(200_000, rel=0.05)
    assert item(check, "posthog_event", "live_rows") == pytest.approx(300_000, rel=0.01)


def test_without_read_permission_on_the_events_table_the_check_says_why(postgres_server, doctor):
    dep = deployment(postgres_server, "phd_locked_events", (Segment(1_000, 0, 30),))
    with psycopg.connect(dep.admin_url, autocommit=True) as admin:
        admin.execute("ALTER TABLE posthog_event OWNER TO postgres")
        admin.execute("REVOKE ALL ON posthog_event FROM posthog")
    check = doctor("run", "--only", "postgres.event_volume", *target(postgres=dep.url)).check("postgres.event_volume")
    assert check["status"] == "error"
    assert "denied the query: permission denied for table posthog_event" in check["summary"]


def test_without_a_posthog_event_table_the_check_is_skipped(postgres_server, doctor):
    bare = deployment(postgres_server, "phd_no_events", events_table=False)
    check = doctor("run", "--only", "postgres.event_volume", *target(postgres=bare.url)).check("postgres.event_volume")
    assert check["status"] == "skipped" and "no posthog_event table" in check["summary"]


def test_explain_shows_every_postgres_statement_and_none_counts_events(doctor, capsys):
    result = doctor("explain", "--only", "postgres", *target(postgres="postgres://posthog@db:5432/posthog"))
    assert result.code == 0
    for text in (
        "EXPLAIN (FORMAT JSON)",
        "pg_total_relation_size",
        "n_mod_since_analyze",
        "django_migrations",
        "pg_stat_activity",
        "pg_replication_slots",
    ):
        assert text in result.stdout
    statements = re.split(r"\n      postgres query ", result.stdout)
    assert not [s for s in statements if "FROM posthog_event" in s and "count(" in s.lower()]


def test_the_advised_pg_dump_copies_exactly_the_guides_tables(postgres_server):
    """The command in the advice, run for real: it copies the metadata tables, not the events."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
    if not binaries:
        unavailable("pg_dump", "not in Debian's PostgreSQL folders (/usr/lib/postgresql/*/bin)")
    dep = deployment(postgres_server, "phd_quiet", QUIET)
    with psycopg.connect(dep.url, autocommit=True) as conn:
        for table in METADATA_TABLES:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (id serial PRIMARY KEY)")
    argv = shlex.split(metadata_dump_command().replace("-d posthog -f export.sql", f"-d {dep.url}"))
    dumped = subprocess.run([binaries[-1], *argv[1:]], capture_output=True, text=True, timeout=60, check=True).stdout
    assert set(re.findall(r"^COPY public\.(\w+) ", dumped, re.M)) == set(METADATA_TABLES)
