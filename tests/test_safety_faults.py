"""The fault matrix: every way a component can be broken, each against real servers or real sockets.

For each scenario, the doctor runs as a real process against a whole deployment with one kind of fault,
and the test checks that: the reports are written; the affected checks say what happened in plain
words; unaffected checks still run; the exit code is right; nothing prints a traceback; and the run ends
within --timeout plus a small margin.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import COMPONENT_FLAGS, run_process
from tests.http_server import FakeServer, SilentServer, closed_port
from tests.safety_support import DLQ_WINDOW, fresh_heartbeats
from tests.servers import CH_PASSWORD, PG_PASSWORD, REDIS_PASSWORD, self_signed_certificate, start_redis
from tests.service_support import CELERY_HEARTBEAT_KEY, PING_KEY, seed_redis

TIMEOUT = 15
MARGIN = 6  # start-up, probes and writing the reports


@dataclass
class Outcome:
    code: int
    report: dict
    stderr: str
    elapsed: float
    folder: Path

    def check(self, check_id: str) -> dict:
        return next(c for c in self.report["checks"] if c["id"] == check_id)

    def status(self, check_id: str) -> str:
        return self.check(check_id)["status"]


@pytest.fixture(autouse=True)
def heartbeats(redis_server):
    fresh_heartbeats(redis_server)


def run_with(flags: list[str], tmp_path: Path, *extra: str) -> Outcome:
    out = tmp_path / "report"
    started = time.monotonic()
    done = run_process("run", *flags, "--output", str(out), "--quiet", "--timeout", str(TIMEOUT), *extra)
    elapsed = time.monotonic() - started
    assert "Traceback" not in done.stderr, done.stderr
    assert elapsed < TIMEOUT + MARGIN, f"the run took {elapsed:.1f} s"
    for name in ("report.json", "report.md", "report.html"):
        assert (out / name).is_file(), f"{name} was not written: {done.stderr}"
    return Outcome(done.returncode, json.loads((out / "report.json").read_text()), done.stderr, elapsed, out)


def replace(flags: list[str], **urls: str) -> list[str]:
    """The deployment's flags with some components' URLs replaced."""
    out = list(flags)
    for component, url in urls.items():
        out[out.index(COMPONENT_FLAGS[component]) + 1] = url
    return out


def assert_unaffected_still_run(outcome: Outcome, *check_ids: str) -> None:
    for check_id in check_ids + ("host.resources",):
        assert outcome.status(check_id) in ("ok", "warn"), (check_id, outcome.check(check_id)["summary"])


def test_the_healthy_baseline(posthog, tmp_path):
    """Without a fault every check passes or does not apply, so each fault below shows as itself."""
    outcome = run_with(posthog.flags, tmp_path)
    statuses = {c["id"]: c["status"] for c in outcome.report["checks"]}
    assert outcome.code == 0, {k: v for k, v in statuses.items() if v not in ("ok", "skipped")}
    assert sum(1 for v in statuses.values() if v == "ok") >= 14, statuses


# --- every component at once ---


def test_every_component_refused(posthog, tmp_path):
    urls = {
        c: u.replace("{p}", str(closed_port()))
        for c, u in (
            ("clickhouse", "clickhouse://127.0.0.1:{p}/posthog"),
            ("postgres", "postgres://u:p@127.0.0.1:{p}/posthog"),
            ("redis", "redis://127.0.0.1:{p}/0"),
            ("posthog_api", "http://127.0.0.1:{p}"),
            ("plugin_server", "http://127.0.0.1:{p}"),
        )
    }
    outcome = run_with(replace(posthog.flags, **urls), tmp_path)
    assert outcome.code == 2
    for component in ("clickhouse", "postgres", "redis", "posthog", "plugin_server"):
        check = outcome.check(f"{component}.connection")
        assert check["status"] == "fail" and "connection refused" in check["summary"], check
    skipped = outcome.check("clickhouse.dead_letter_queue")
    assert skipped["status"] == "skipped" and "ClickHouse unavailable: connection refused" in skipped["summary"]
    assert outcome.check("plugin_server.health")["status"] == "fail"  # a down plugin server is the finding itself
    assert_unaffected_still_run(outcome)


def test_unresolvable_hosts(posthog, tmp_path):
    host = "doctor-fault-test.invalid"
    outcome = run_with(
        replace(
            posthog.flags,
            clickhouse=f"clickhouse://{host}:9000/posthog",
            postgres=f"postgres://u:p@{host}:5432/posthog",
            redis=f"redis://{host}:6379/0",
        ),
        tmp_path,
    )
    assert outcome.code == 2
    for component in ("clickhouse", "postgres", "redis"):
        assert "cannot resolve the host" in outcome.check(f"{component}.connection")["summary"]
    assert_unaffected_still_run(outcome, "posthog.connection", "plugin_server.health", "posthog.preflight")


def test_silent_servers_cost_their_deadline_not_the_run(posthog, tmp_path):
    silent = SilentServer()
    try:
        address = f"127.0.0.1:{silent.port}"
        outcome = run_with(
            replace(
                posthog.flags,
                clickhouse=f"clickhouse://{address}/posthog",
                postgres=f"postgres://u:p@{address}/posthog",
                redis=f"redis://{address}/0",
                plugin_server=f"http://{address}",
            ),
            tmp_path,
        )
    finally:
        silent.close()
    assert outcome.code == 2
    for component in ("clickhouse", "postgres", "redis", "plugin_server"):
        summary = outcome.check(f"{component}.connection")["summary"]
        assert "no answer" in summary or "timed out" in summary or "timeout" in summary, summary
    assert_unaffected_still_run(outcome, "posthog.connection", "posthog.preflight")


# --- one fault at a time ---


def test_slow_web_app_answers_after_the_deadline(posthog, tmp_path):
    slow = FakeServer()
    try:
        slow.route("/_livez", {"http": True})
        slow.route("/_preflight/", {"django": True}, delay=60)
        slow.route("/_health", "ok", delay=60)
        outcome = run_with(replace(posthog.flags, posthog_api=slow.url), tmp_path)
    finally:
        slow.close()
    assert outcome.code == 3  # could not determine; nothing failed
    preflight, readiness = outcome.check("posthog.preflight"), outcome.check("posthog.readiness")
    assert preflight["status"] == "error" and "no answer" in preflight["summary"], preflight
    assert readiness["status"] in ("warn", "error") and "did not answer" in readiness["summary"], readiness
    assert_unaffected_still_run(outcome, "clickhouse.connection", "postgres.connection", "plugin_server.health")


def test_wrong_passwords(posthog, tmp_path):
    locked = start_redis(password=REDIS_PASSWORD)
    try:
        flags = replace(
            posthog.flags,
            clickhouse=_flag(posthog.flags, "clickhouse").replace(CH_PASSWORD, "wrong-pass-1"),
            postgres=_flag(posthog.flags, "postgres").replace(PG_PASSWORD, "wrong-pass-2"),
            redis=locked.url.replace(REDIS_PASSWORD, "wrong-pass-3"),
        )
        outcome = run_with(flags, tmp_path)
    finally:
        locked.stop()
    assert outcome.code == 2
    for component in ("clickhouse", "postgres", "redis"):
        summary = outcome.check(f"{component}.connection")["summary"]
        assert "rejected the password" in summary or "rejected the user or password" in summary, summary
    text = "".join(p.read_text() for p in outcome.folder.iterdir())
    assert "wrong-pass" not in text
    assert_unaffected_still_run(outcome, "posthog.preflight", "plugin_server.health")


def test_tls_expected_but_the_servers_speak_plain(posthog, tmp_path):
    flags = replace(
        posthog.flags,
        clickhouse=_flag(posthog.flags, "clickhouse") + "?secure=true",
        postgres=_flag(posthog.flags, "postgres") + "?sslmode=require",
        redis=_flag(posthog.flags, "redis").replace("redis://", "rediss://"),
        posthog_api=_flag(posthog.flags, "posthog_api").replace("http://", "https://"),
    )
    outcome = run_with(flags, tmp_path)
    assert outcome.code == 2
    for component in ("clickhouse", "postgres", "redis", "posthog"):
        summary = outcome.check(f"{component}.connection")["summary"]
        assert outcome.status(f"{component}.connection") == "fail"
        assert "tls" in summary.lower(), summary  # says TLS, whether the server hung up or waited
    assert_unaffected_still_run(outcome, "plugin_server.health")


def test_plain_clients_meeting_tls_servers(posthog, tmp_path):
    tls_redis = start_redis(tls=True)
    folder = tmp_path / "cert"
    folder.mkdir()
    tls_web = FakeServer(tls_certificate=self_signed_certificate(folder))
    tls_web.route("/_livez", {"http": True})
    try:
        flags = replace(
            posthog.flags,
            redis=tls_redis.url.replace("rediss://", "redis://"),
            posthog_api=tls_web.url.replace("https://", "http://"),
        )
        outcome = run_with(flags, tmp_path)
    finally:
        tls_redis.stop()
        tls_web.close()
    assert outcome.code == 2
    for component in ("redis", "posthog"):
        check = outcome.check(f"{component}.connection")
        assert check["status"] == "fail" and check["advice"], check
    assert_unaffected_still_run(outcome, "clickhouse.connection", "plugin_server.health")


def test_missing_databases(posthog, tmp_path):
    flags = replace(
        posthog.flags,
        clickhouse=_flag(posthog.flags, "clickhouse").rsplit("/", 1)[0] + "/no_such_db",
        postgres=_flag(posthog.flags, "postgres").rsplit("/", 1)[0] + "/no_such_db",
    )
    outcome = run_with(flags, tmp_path)
    assert outcome.code == 2
    for component in ("clickhouse", "postgres"):
        check = outcome.check(f"{component}.connection")
        assert "no_such_db" in check["summary"] and "database" in check["advice"][0]["text"].lower(), check
    assert_unaffected_still_run(outcome, "redis.connection", "plugin_server.health")


def test_missing_tables(posthog, clickhouse_server, postgres_server, tmp_path):
    from tests.clickhouse_support import server_deployment
    from tests.postgres_support import deployment

    empty_ch = server_deployment(clickhouse_server, "phd_empty")
    empty_pg = deployment(postgres_server, "phd_empty_pg", events_table=False, related=False, migrations=False)
    outcome = run_with(replace(posthog.flags, clickhouse=empty_ch.url, postgres=empty_pg.url), tmp_path)
    assert outcome.code == 2  # the schema check fails: PostHog's tables are not there
    schema = outcome.check("clickhouse.schema")
    assert schema["status"] == "fail" and "wrong database" in schema["summary"]
    for check_id in ("clickhouse.dead_letter_queue", "postgres.event_volume"):
        check = outcome.check(check_id)
        assert check["status"] == "skipped", check
    assert outcome.check("clickhouse.dead_letter_queue")["summary"].startswith(
        "this PostHog has no events_dead_letter_queue table in database 'phd_empty'"
    )
    assert (
        outcome.check("postgres.event_volume")["summary"]
        == "Postgres has no posthog_event table: this PostHog keeps no events in Postgres"
    )
    assert_unaffected_still_run(outcome, "clickhouse.connection", "postgres.connection", "redis.connection")


def test_permission_denied(posthog, clickhouse_server, postgres_server, tmp_path):
    import psycopg

    with psycopg.connect(posthog.postgres.admin_url.replace("postgres://", "postgresql://"), autocommit=True) as admin:
        admin.execute(
            "DO $$ BEGIN CREATE ROLE doctor_limited LOGIN PASSWORD 'limited-pass-9'; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        admin.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM doctor_limited")
    pg = _flag(posthog.flags, "postgres")
    limited_pg = pg.replace(f"posthog:{PG_PASSWORD}@", "doctor_limited:limited-pass-9@")
    limited_ch = _flag(posthog.flags, "clickhouse").replace("doctor:", "limited:")
    outcome = run_with(replace(posthog.flags, postgres=limited_pg, clickhouse=limited_ch), tmp_path)
    assert outcome.code in (2, 3)
    # ClickHouse 18.16 hangs up on a refused database instead of saying why; newer servers say "denied"
    summary = outcome.check("clickhouse.connection")["summary"]
    assert "denied" in summary or "may not use database" in summary, summary
    volume = outcome.check("postgres.event_volume")
    assert volume["status"] in ("error", "skipped") and "denied" in volume["summary"], volume
    assert_unaffected_still_run(outcome, "postgres.connection", "redis.connection", "plugin_server.health")


def test_garbage_and_oversized_http_bodies(posthog, tmp_path):
    bad = FakeServer()
    try:
        bad.route("/_livez", {"http": True})
        bad.route("/_health", b"\x00\xffgarbage{{not json", content_type="application/json")
        bad.route("/_ready", b"", endless=True)
        bad.route("/_preflight/", b"", endless=True)
        outcome = run_with(replace(posthog.flags, posthog_api=bad.url, plugin_server=bad.url), tmp_path)
    finally:
        bad.close()
    assert outcome.code in (1, 2, 3)
    health = outcome.check("plugin_server.health")
    assert health["status"] in ("warn", "fail") and "not" in health["summary"] and "JSON" in health["summary"], health
    preflight = outcome.check("posthog.preflight")
    assert preflight["status"] == "error" and "more than" in preflight["summary"] and "bytes" in preflight["summary"]
    assert_unaffected_still_run(outcome, "clickhouse.connection", "postgres.connection")


def test_redis_keys_of_the_wrong_type(posthog, redis_server, tmp_path):
    url = seed_redis(
        redis_server,
        **{PING_KEY: ["not", "a", "timestamp"], CELERY_HEARTBEAT_KEY: ["a", "list"], "celery": "a string, not a queue"},
    )
    try:
        outcome = run_with(replace(posthog.flags, redis=url), tmp_path)
    finally:
        seed_redis(redis_server)
    for check_id in ("plugin_server.heartbeat", "celery.workers"):
        check = outcome.check(check_id)
        assert check["status"] in ("warn", "fail", "error") and (
            "list" in check["summary"] or "type" in check["summary"]
        ), check
    assert_unaffected_still_run(outcome, "redis.connection", "clickhouse.connection")


def test_clickhouse_query_over_its_read_budget_is_marked_partial(posthog, tmp_path):
    outcome = run_with(
        posthog.flags,
        tmp_path,
        "--only",
        "clickhouse.dead_letter_queue",
        "--set",
        f"clickhouse.dead_letter_queue.window={DLQ_WINDOW}",
        "-Oclickhouse.dead_letter_queue.max_rows_to_read=20",
    )
    dlq = outcome.check("clickhouse.dead_letter_queue")
    assert dlq["partial"] is True and "at least" in dlq["summary"], dlq["summary"]
    assert "partial" in (outcome.folder / "report.md").read_text()


def _flag(flags: list[str], component: str) -> str:
    return flags[flags.index(COMPONENT_FLAGS[component]) + 1]
