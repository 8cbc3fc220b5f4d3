"""deployment.analytics_database against real Postgres and ClickHouse servers and a fake PostHog web app.

Postgres databases are seeded like PostHog deployments of each kind (tests/postgres_support.py);
ClickHouse gets PostHog's events table (the 18.16 variant of posthog/models/event/sql.py).
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.conftest import target
from tests.postgres_support import Segment, deployment, scan_counters

pytestmark = [pytest.mark.postgres]

RECENT = (Segment(20_000, 0, 30),)  # a Postgres deployment still receiving events
BEFORE_THE_MOVE = (Segment(20_000, 200, 400),)  # what a moved deployment leaves in posthog_event

# sharded_events of posthog/models/event/sql.py, on ClickHouse 18.16 (DateTime for DateTime64, hashing
# toString(uuid)); the check only looks for the table, the columns keep it honest.
EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS posthog.sharded_events (
    uuid UUID, event String, properties String, timestamp DateTime, team_id Int64, distinct_id String,
    elements_chain String, created_at DateTime, _timestamp DateTime, _offset UInt64
) ENGINE = ReplacingMergeTree(_timestamp)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (team_id, toDate(timestamp), event, cityHash64(distinct_id), cityHash64(toString(uuid)))
SAMPLE BY cityHash64(distinct_id)
"""

OLD_STATUS_CLICKHOUSE = {
    "results": {
        "overview": [
            {"key": "posthog_version", "metric": "PostHog version", "value": "1.30.0"},
            {"key": "analytics_database", "metric": "Analytics database in use", "value": "ClickHouse"},
            {"key": "clickhouse_alive", "metric": "ClickHouse alive", "value": True},
        ]
    }
}
OLD_STATUS_POSTGRES = {
    "results": {
        "overview": [
            {"key": "posthog_version", "metric": "PostHog version", "value": "1.29.1"},
            {"key": "analytics_database", "metric": "Analytics database in use", "value": "Postgres"},
            {"metric": "Postgres events table size", "value": "20000 rows (~6 MB)"},
        ]
    }
}


@pytest.fixture(scope="module")
def clickhouse_with_posthog(clickhouse_server):
    from clickhouse_driver import Client

    admin = urlparse(clickhouse_server.admin_url)
    client = Client(admin.hostname, admin.port, user=admin.username or "default")
    client.execute("CREATE DATABASE IF NOT EXISTS posthog")
    client.execute(EVENTS_DDL)
    return clickhouse_server


def web_app(fake_http, preflight: dict, status: dict | None = None) -> str:
    fake_http.route("/_livez", {"http": True})
    fake_http.route("/_preflight/", preflight)
    if status is not None:
        fake_http.route("/api/instance_status", status)
    return fake_http.url


def run(doctor, *flags, **components):
    return doctor("run", "--only", "deployment.analytics_database", *flags, *target(**components)).check(
        "deployment.analytics_database"
    )


def signals(check) -> dict[str, tuple[str, str]]:
    table = next(e for e in check["evidence"] if e["title"] == "Signals")
    return {row[0]: (row[2], row[3]) for row in table["rows"]}


def test_a_clickhouse_deployment_is_recognised(postgres_server, clickhouse_with_posthog, doctor, fake_http):
    moved = deployment(postgres_server, "phd_clickhouse_era", BEFORE_THE_MOVE)
    api = web_app(
        fake_http,
        {"django": True, "realm": "hosted-clickhouse", "is_clickhouse_enabled": True, "db_backend": "clickhouse"},
        OLD_STATUS_CLICKHOUSE,
    )
    before = scan_counters(moved)
    check = run(
        doctor, "--api-key", "phx_test_key", postgres=moved.url, clickhouse=clickhouse_with_posthog.url, posthog_api=api
    )
    after = scan_counters(moved)

    assert check["status"] == "ok", check["summary"]
    assert check["summary"].startswith("events live in ClickHouse: 4 signals agree")
    seen = signals(check)
    assert seen["ClickHouse tables"] == ("ClickHouse", "yes")
    assert seen["System Status (/api/instance_status) analytics_database"] == ("ClickHouse", "yes")
    assert seen["Postgres posthog_event"] == ("ClickHouse", "hint only")  # old rows only: a hint, never a vote
    assert (after.seq_scan, after.seq_tup_read) == (before.seq_scan, before.seq_tup_read)


def test_on_clickhouse_the_postgres_volume_check_stands_aside(postgres_server, clickhouse_with_posthog, doctor):
    moved = deployment(postgres_server, "phd_clickhouse_era", BEFORE_THE_MOVE)
    check = doctor(
        "run", "--only", "postgres.event_volume", *target(postgres=moved.url, clickhouse=clickhouse_with_posthog.url)
    ).check("postgres.event_volume")
    assert check["status"] == "skipped"
    assert "events live in ClickHouse (ClickHouse tables)" in check["summary"] and "~20k rows" in check["summary"]


def test_a_postgres_deployment_is_recognised_by_every_signal(postgres_server, doctor, fake_http):
    live = deployment(postgres_server, "phd_postgres_live", RECENT)
    api = web_app(
        fake_http,
        {"django": True, "realm": "hosted", "is_clickhouse_enabled": False, "db_backend": "postgres"},
        OLD_STATUS_POSTGRES,
    )
    check = run(doctor, "--api-key", "phx_test_key", postgres=live.url, posthog_api=api)
    assert check["status"] == "ok"
    assert check["summary"].startswith("events live in Postgres: 4 signals agree")
    assert "deprecated" in check["summary"] and "1.29.0" in check["advice"][0]["text"]
    assert signals(check)["Postgres posthog_event"] == ("Postgres", "yes")


def test_events_arriving_in_postgres_while_clickhouse_holds_posthog_is_a_warning(
    postgres_server, clickhouse_with_posthog, doctor
):
    live = deployment(postgres_server, "phd_postgres_live", RECENT)
    check = run(doctor, postgres=live.url, clickhouse=clickhouse_with_posthog.url)
    assert check["status"] == "warn"
    assert check["summary"] == (
        "signals disagree on where events live (ClickHouse: ClickHouse tables; Postgres: Postgres posthog_event)"
    )
    assert "still arriving in Postgres" in check["advice"][0]["text"]
    assert "PRIMARY_DB" in check["advice"][1]["text"]


def test_the_web_app_disagreeing_with_the_data_is_a_warning(
    postgres_server, clickhouse_with_posthog, doctor, fake_http
):
    moved = deployment(postgres_server, "phd_clickhouse_era", BEFORE_THE_MOVE)
    api = web_app(fake_http, {"django": True, "is_clickhouse_enabled": False, "db_backend": "postgres"})
    check = run(doctor, postgres=moved.url, clickhouse=clickhouse_with_posthog.url, posthog_api=api)
    assert check["status"] == "warn"
    assert "Postgres: web app /_preflight/ is_clickhouse_enabled, web app /_preflight/ db_backend" in check["summary"]


def test_with_only_hints_the_check_says_it_could_not_tell(postgres_server, doctor):
    bare = deployment(postgres_server, "phd_no_events", events_table=False)
    check = run(doctor, postgres=bare.url)
    assert check["status"] == "error"
    assert "only weak hints (Postgres posthog_event suggests ClickHouse)" in check["summary"]
    assert "--api-key" in check["advice"][0]["text"]


def test_with_nothing_reachable_the_check_says_so(doctor):
    check = run(doctor)
    assert check["status"] == "error" and check["summary"].endswith("no signal could be read")


def test_both_checks_in_one_run_share_one_reading_of_the_signals(postgres_server, doctor):
    live = deployment(postgres_server, "phd_postgres_live", RECENT)
    result = doctor(
        "run",
        "--only",
        "deployment.analytics_database",
        "--only",
        "postgres.event_volume",
        "--concurrency",
        "1",
        *target(postgres=live.url),
    )  # one after the other: a cache hit
    assert result.check("deployment.analytics_database")["status"] == "ok"
    assert result.check("postgres.event_volume")["status"] == "ok"


@pytest.mark.parametrize("status_file", ["api_old_postgres.json", "paste_old_postgres.md"])
def test_a_saved_system_status_page_is_a_signal(doctor, status_file):
    from pathlib import Path

    path = Path(__file__).parent / "fixtures" / "status" / status_file
    result = doctor("run", "--only", "deployment.analytics_database", "--status-file", str(path), *target())
    check = result.check("deployment.analytics_database")
    signals = next(e for e in check["evidence"] if e["type"] == "table")
    rows = [r for r in signals["rows"] if "saved System Status page" in str(r[0])]
    assert rows and "Postgres" in str(rows[0]), signals["rows"]
    assert check["status"] == "ok" and "Postgres" in check["summary"]
