"""The connection checks against real servers: all reachable, then each way of not being reachable."""

from __future__ import annotations

import pytest

from tests.conftest import run_process, target
from tests.http_server import closed_port
from tests.servers import CH_PASSWORD, PG_PASSWORD

CONNECTIONS = ["--only", "connection"]


def test_every_connection_ok_against_real_servers(
    doctor, clickhouse_server, postgres_server, redis_server, fake_http, kafka_server
):
    fake_http.route("/_livez", {"http": True})
    fake_http.route("/_health", {"status": "ok", "checks": {"kafka": "ok"}})
    result = doctor(
        "run",
        *target(
            clickhouse=clickhouse_server.url,
            postgres=postgres_server.url,
            redis=redis_server.url,
            posthog_api=fake_http.url,
            plugin_server=fake_http.url,
            kafka=kafka_server.url,
        ),
        *CONNECTIONS,
    )
    checks = {c["id"]: c for c in result.report["checks"]}
    assert {k: c["status"] for k, c in checks.items()} == {
        "clickhouse.connection": "ok",
        "postgres.connection": "ok",
        "redis.connection": "ok",
        "posthog.connection": "ok",
        "plugin_server.connection": "ok",
        "kafka.connection": "ok",
    }
    assert result.code == 0
    # The versions the servers report about themselves, asked directly (the suite may run on other servers).
    import psycopg
    import redis
    from clickhouse_driver import Client

    ch_version = Client.from_url(clickhouse_server.admin_url).execute("SELECT version()")[0][0]
    with psycopg.connect(postgres_server.admin_url.replace("postgres://", "postgresql://")) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis.from_url(redis_server.url).info("server")["redis_version"]
    assert checks["clickhouse.connection"]["summary"].startswith(f"ClickHouse {ch_version} answered in ")
    assert checks["postgres.connection"]["summary"].startswith(f"Postgres {pg_version} answered in ")
    assert checks["redis.connection"]["summary"].startswith(f"Redis {redis_version} answered in ")
    versions = {
        c["id"]: next(i["value"] for i in c["evidence"][0]["items"] if i["key"] == "version") for c in checks.values()
    }
    assert versions["clickhouse.connection"] == ch_version
    probes = result.report["target"]["probes"]
    assert all(p["reachable"] for p in probes.values())
    assert CH_PASSWORD not in result.text("json") and PG_PASSWORD not in result.text("json")


def test_closed_ports_fail_every_connection_check_with_exit_2(tmp_path):
    ports = {name: closed_port() for name in ("clickhouse", "postgres", "redis", "web", "plugins", "kafka")}
    done = run_process(
        "run",
        *target(
            clickhouse=f"clickhouse://127.0.0.1:{ports['clickhouse']}/posthog",
            postgres=f"postgres://u:p@127.0.0.1:{ports['postgres']}/posthog",
            redis=f"redis://127.0.0.1:{ports['redis']}/0",
            posthog_api=f"http://127.0.0.1:{ports['web']}",
            plugin_server=f"http://127.0.0.1:{ports['plugins']}",
            kafka=f"kafka://127.0.0.1:{ports['kafka']}",
        ),
        *CONNECTIONS,
        "--output",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    import json

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    for check in report["checks"]:
        assert check["status"] == "fail", check
        assert "connection refused" in check["summary"]
        assert check["advice"], check["id"]
    assert (tmp_path / "out" / "report.md").is_file() and (tmp_path / "out" / "report.html").is_file()


def test_wrong_passwords_are_explained(doctor, clickhouse_server, postgres_server):
    ch = clickhouse_server.url.replace(CH_PASSWORD, "wrong-password-1")
    pg = postgres_server.url.replace(PG_PASSWORD, "wrong-password-2")
    result = doctor("run", *target(clickhouse=ch, postgres=pg), *CONNECTIONS)
    for check_id in ("clickhouse.connection", "postgres.connection"):
        check = result.check(check_id)
        assert check["status"] == "fail" and "rejected the user or password" in check["summary"]
        assert "password" in check["advice"][0]["text"].lower()
    assert "wrong-password" not in result.text("json")


def test_missing_database_is_explained(doctor, clickhouse_server, postgres_server):
    ch = clickhouse_server.url.rsplit("/", 1)[0] + "/no_such_db"
    pg = postgres_server.url.rsplit("/", 1)[0] + "/no_such_db"
    result = doctor("run", *target(clickhouse=ch, postgres=pg), *CONNECTIONS)
    for check_id in ("clickhouse.connection", "postgres.connection"):
        check = result.check(check_id)
        assert check["status"] == "fail" and "no_such_db" in check["summary"], check["summary"]
        assert "database" in check["advice"][0]["text"].lower()


def test_a_silent_server_costs_only_its_probe_time(doctor, silent_server):
    import time

    url = f"127.0.0.1:{silent_server.port}"
    started = time.monotonic()
    result = doctor(
        "run",
        *target(
            clickhouse=f"clickhouse://{url}/posthog",
            redis=f"redis://{url}/0",
            posthog_api=f"http://{url}",
            plugin_server=f"http://{url}",
        ),
        *CONNECTIONS,
        "--timeout",
        "12",
    )
    elapsed = time.monotonic() - started
    for check_id in ("clickhouse.connection", "redis.connection", "posthog.connection", "plugin_server.connection"):
        check = result.check(check_id)
        assert check["status"] == "fail" and ("no answer" in check["summary"] or "timed out" in check["summary"]), check
    assert elapsed < 9, f"silent servers held the run for {elapsed:.1f} s"


@pytest.mark.parametrize(
    "status, body, expected, words",
    [
        (200, {"http": True}, "ok", "answered"),
        (503, "Migrations are not up to date", "fail", "HTTP 503"),
        (404, "nope", "warn", "is this PostHog's address"),
    ],
)
def test_web_app_health_answers(doctor, fake_http, status, body, expected, words):
    fake_http.route("/_livez", body, status=status, content_type="text/plain" if isinstance(body, str) else None)
    result = doctor("run", *target(posthog_api=fake_http.url), "--only", "posthog.connection")
    check = result.check("posthog.connection")
    assert check["status"] == expected and words in check["summary"], check["summary"]


def test_old_web_app_without_livez_falls_back_to_health(doctor, fake_http):
    fake_http.route("/_health", "ok", content_type="text/plain")
    result = doctor("run", *target(posthog_api=fake_http.url), "--only", "posthog.connection")
    assert result.check("posthog.connection")["status"] == "ok"
    assert [path for _, path, _ in fake_http.requests] == ["/_livez", "/_health"]


def test_unhealthy_plugin_server_fails_with_restart_advice(doctor, fake_http):
    fake_http.route("/_health", {"status": "error", "checks": {"ingestion-consumer": "error"}}, status=503)
    result = doctor("run", *target(plugin_server=fake_http.url), "--only", "plugin_server.connection")
    check = result.check("plugin_server.connection")
    assert check["status"] == "fail" and "HTTP 503" in check["summary"]
    assert "Restart it (safe" in check["advice"][0]["text"]
    assert result.code == 2


def test_slow_component_is_a_warning(doctor, fake_http):
    fake_http.route("/_livez", {"http": True}, delay=0.4)
    result = doctor(
        "run", *target(posthog_api=fake_http.url), "--only", "posthog.connection", "-Oposthog.connection.slow_ms=100"
    )
    check = result.check("posthog.connection")
    assert check["status"] == "warn" and "slower than 100 ms" in check["summary"]


def test_disabled_component_is_skipped_not_failed(doctor):
    result = doctor("run", *target(), "--only", "redis.connection")
    check = result.check("redis.connection")
    assert check["status"] == "skipped" and "disabled" in check["summary"] and result.code == 0


def test_defaults_fall_back_to_localhost_when_service_names_do_not_resolve():
    # The hobby names (redis, redis7) do not resolve on this machine, so the default endpoint resolves to
    # localhost: the endpoint the probe would use is checked, without connecting.
    from posthog_doctor.config import load_settings
    from posthog_doctor.connectors import resolve_endpoint

    ep = load_settings({}, {}).endpoints["redis"]
    assert ep.host == "redis" and ep.fallback_hosts == ("redis7", "localhost")
    assert resolve_endpoint(ep).host == "localhost"
