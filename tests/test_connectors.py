"""Connectors against real servers: they only read, they stop on time, and they say what went wrong."""

from __future__ import annotations

import re
import threading
import time

import pytest

from posthog_doctor.connectors import ConnectorError, MissingObject
from posthog_doctor.connectors.base import Deadline, strip_comments
from posthog_doctor.connectors.clickhouse import ClickHouse
from posthog_doctor.connectors.http import Http
from posthog_doctor.connectors.postgres import Postgres
from posthog_doctor.connectors.redis import Redis
from posthog_doctor.endpoints import parse_endpoint
from tests.conftest import require_module
from tests.servers import REDIS_PASSWORD, start_redis


def ch(url: str, seconds: float = 10.0) -> ClickHouse:
    return ClickHouse(parse_endpoint("clickhouse", "clickhouse", url), Deadline(seconds), tag="test")


def pg(url: str, seconds: float = 10.0) -> Postgres:
    return Postgres(parse_endpoint("postgres", "postgres", url), Deadline(seconds))


# --- ClickHouse ---


def test_clickhouse_reads_and_reports_what_it_read(clickhouse_server):
    client = ch(clickhouse_server.url)
    result = client.query("SELECT number AS n FROM system.numbers LIMIT %(n)s", {"n": 5})
    assert [r[0] for r in result.rows] == [0, 1, 2, 3, 4] and result.columns == ["n"]
    assert result.rows_read >= 5 and not result.partial
    assert result.query_id.startswith("posthog-doctor:test:")
    assert client.version()[:2] == (18, 16)
    client.close()


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t VALUES (1)",
        "DROP TABLE events",
        "ALTER TABLE x DELETE WHERE 1",
        "OPTIMIZE TABLE x",
        "SYSTEM FLUSH LOGS",
        "SELECT * FROM posthog.kafka_events_json",
        "SELECT 1 FROM kafka_events_dead_letter_queue",
        "SELECT 1 FROM events JOIN `posthog`.`kafka_x` USING (id)",
        "-- a comment first\nINSERT INTO t VALUES (1)",
    ],
)
def test_clickhouse_refuses_anything_but_a_plain_read(clickhouse_server, sql):
    with pytest.raises(ConnectorError) as err:
        ch(clickhouse_server.url).query(sql)
    assert err.value.kind == "not_allowed"


def test_clickhouse_reads_system_kafka_consumers_and_commented_sql(clickhouse_server):
    client = ch(clickhouse_server.url)
    assert client.query("-- what it does\n/* and why */ SELECT 1 AS one").scalar() == 1
    with pytest.raises(MissingObject):  # 18.16 has no such table; the guard let the read through
        client.query("SELECT count() FROM system.kafka_consumers")


def test_clickhouse_session_is_readonly_on_the_server(clickhouse_server, monkeypatch):
    # Behind the client-side check, the server itself refuses writes under the settings the connector
    # sends: switch the client-side check off and let the connector send a write as it sends any query.
    from posthog_doctor.connectors import clickhouse

    monkeypatch.setattr(clickhouse, "_READ_STATEMENT", re.compile(".*", re.S))
    client = ch(clickhouse_server.url)
    with pytest.raises(ConnectorError) as err:
        client.query("CREATE TABLE posthog.doctor_write_probe (x UInt8) ENGINE = Memory")
    assert err.value.kind == "permission" and "readonly" in str(err.value).lower()
    assert "doctor_write_probe" not in client.tables()


def test_clickhouse_read_budget_marks_the_result_partial(clickhouse_server):
    result = ch(clickhouse_server.url).query(
        "SELECT count() AS c FROM (SELECT number FROM system.numbers LIMIT 10000000)", max_rows_to_read=100_000
    )
    assert result.partial and "budget 100,000" in result.partial_reason
    assert result.scalar() < 10_000_000


def test_clickhouse_server_side_time_limit(clickhouse_server):
    started = time.monotonic()
    with pytest.raises(ConnectorError) as err:
        ch(clickhouse_server.url, seconds=1.5).query("SELECT count() FROM system.numbers WHERE sipHash64(number) = 0")
    assert err.value.kind == "timeout" and time.monotonic() - started < 6


def test_clickhouse_partial_on_timeout_answers_from_what_it_read(clickhouse_server):
    # An aggregate over more than the time allows: the server stops at the limit and answers, marked partial.
    started = time.monotonic()
    result = ch(clickhouse_server.url).query(
        "SELECT count() FROM system.numbers WHERE sipHash64(number) = 0", timeout=1.0, partial_on_timeout=True
    )
    assert time.monotonic() - started < 5
    assert result.partial and "time limit (1 s)" in result.partial_reason
    assert result.rows_read > 0 and result.scalar() is not None


def test_clickhouse_missing_table_is_a_missing_object(clickhouse_server):
    with pytest.raises(MissingObject):
        ch(clickhouse_server.url).query("SELECT count() FROM events_that_do_not_exist")


def test_clickhouse_invalid_utf8_comes_back_as_text(clickhouse_server):
    value = ch(clickhouse_server.url).query("SELECT 'caf\\xe9 \\xff' AS s").scalar()
    assert isinstance(value, str) and value.startswith("caf")


def test_chdb_engine_runs_the_same_queries_read_only():
    require_module("chdb")
    from posthog_doctor.connectors.clickhouse import chdb_session
    from tests.clickhouse_support import chdb_path

    path = chdb_path()  # the embedded engine allows one data folder per process: share the suite's
    session = chdb_session(path)
    session.query("CREATE DATABASE IF NOT EXISTS conn_test")
    session.query("CREATE TABLE IF NOT EXISTS conn_test.t (x UInt64) ENGINE = MergeTree ORDER BY x")
    session.query("INSERT INTO conn_test.t SELECT number FROM numbers(1000)")
    client = ch(f"chdb://{path}?database=conn_test")
    assert client.query("SELECT count() AS c, max(x) AS m FROM t").first() == {"c": 1000, "m": 999}
    assert client.version()[0] >= 24
    partial = client.query("SELECT sum(x) AS s FROM t", max_rows_to_read=10)
    assert partial.partial


# --- Postgres ---


def test_postgres_transactions_are_read_only(postgres_server):
    import psycopg

    with psycopg.connect(postgres_server.admin_url.replace("postgres://", "postgresql://"), autocommit=True) as admin:
        admin.execute("CREATE SEQUENCE IF NOT EXISTS doctor_probe_seq")
        admin.execute("GRANT USAGE ON SEQUENCE doctor_probe_seq TO posthog")
    client = pg(postgres_server.url)
    assert client.query("SHOW transaction_read_only").scalar() == "on"
    assert client.query("SELECT current_setting('application_name')").scalar() == "posthog-doctor"
    with pytest.raises(ConnectorError, match="read-only transaction"):
        client.query("SELECT nextval('doctor_probe_seq')")  # a write hidden in a SELECT
    with pytest.raises(ConnectorError) as err:
        client.query("DELETE FROM pg_class")
    assert err.value.kind == "not_allowed"
    with pytest.raises(ConnectorError) as err:
        client.query("EXPLAIN ANALYZE SELECT 1")  # EXPLAIN ANALYZE runs the statement
    assert err.value.kind == "not_allowed"
    client.close()


def test_postgres_statement_timeout(postgres_server):
    started = time.monotonic()
    with pytest.raises(ConnectorError) as err:
        pg(postgres_server.url, seconds=1.0).query("SELECT pg_sleep(10)")
    assert err.value.kind == "timeout" and time.monotonic() - started < 4


def test_postgres_gives_up_quickly_behind_a_lock(postgres_server):
    import psycopg

    url = postgres_server.admin_url.replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("CREATE TABLE IF NOT EXISTS locked_table (x int)")
        admin.execute("GRANT SELECT ON locked_table TO posthog")
    holder = psycopg.connect(url)
    holder.execute("LOCK TABLE locked_table IN ACCESS EXCLUSIVE MODE")
    try:
        started = time.monotonic()
        with pytest.raises(ConnectorError, match="lock"):
            pg(postgres_server.url).query("SELECT count(*) FROM locked_table")
        assert time.monotonic() - started < 3
    finally:
        holder.rollback()
        holder.close()


def test_postgres_missing_table_is_a_missing_object(postgres_server):
    with pytest.raises(MissingObject):
        pg(postgres_server.url).query("SELECT count(*) FROM posthog_table_that_does_not_exist")


# --- Redis ---


def test_redis_reads_and_reports_wrong_types(redis_server):
    import redis

    admin = redis.Redis.from_url(redis_server.admin_url)
    admin.set("doctor:string", "hello", ex=100)
    admin.rpush("doctor:list", "a", "b")
    admin.set("doctor:huge", "x" * 100_000)
    client = Redis(parse_endpoint("redis", "redis", redis_server.url), Deadline(5))
    assert client.get("doctor:string") == "hello" and 0 < client.ttl("doctor:string") <= 100
    assert client.get("doctor:missing") is None and client.ttl("doctor:missing") == -2
    assert client.llen("doctor:list") == 2 and client.type("doctor:list") == "list"
    assert "redis_version" in client.info("server")
    with pytest.raises(ConnectorError) as err:
        client.get("doctor:list")
    assert err.value.kind == "wrong_type"
    with pytest.raises(ConnectorError) as err:
        client.get("doctor:huge")
    assert err.value.kind == "too_large"
    client.close()


def test_redis_password_is_required_and_explained():
    server = start_redis(password=REDIS_PASSWORD)
    try:
        anonymous = Redis(parse_endpoint("redis", "redis", server.url.replace(f":{REDIS_PASSWORD}@", "")), Deadline(5))
        with pytest.raises(ConnectorError) as err:
            anonymous.ping()
        assert err.value.kind == "auth" and REDIS_PASSWORD not in str(err.value)
        assert Redis(parse_endpoint("redis", "redis", server.url), Deadline(5)).ping()
    finally:
        server.stop()


# --- HTTP ---


def http(url: str, seconds: float = 5.0, **kwargs) -> Http:
    return Http(parse_endpoint("x", "http", url), Deadline(seconds), **kwargs)


def test_http_caps_the_body_size(fake_http):
    fake_http.route("/big", b"", endless=True)
    resp = http(fake_http.url, max_bytes=100_000).get("/big")
    assert resp.truncated and len(resp.body) == 100_000
    with pytest.raises(ConnectorError) as err:
        resp.json()
    assert err.value.kind == "too_large"


def test_http_never_follows_a_redirect_to_another_host(fake_http):
    fake_http.route("/away", b"", status=302, headers={"Location": "http://evil.example.com/steal"})
    fake_http.route("/here", b"", status=301, headers={"Location": "/_health"})
    fake_http.route("/_health", {"status": "ok"})
    client = http(fake_http.url, token="phx_secret_token_value_123456")
    with pytest.raises(ConnectorError) as err:
        client.get("/away", auth=True)
    assert err.value.kind == "redirect" and "evil.example.com" in str(err.value)
    assert client.get("/here").json() == {"status": "ok"}


def test_http_sends_the_key_only_when_asked(fake_http):
    route = fake_http.route("/api/x", {"ok": True})
    client = http(fake_http.url, token="phx_secret_token_value_123456")
    client.get("/api/x")
    client.get("/api/x", auth=True)
    assert route.seen_auth == ["", "Bearer phx_secret_token_value_123456"]


def test_http_non_json_body_is_described(fake_http):
    fake_http.route("/_health", "<html><body>502 Bad Gateway</body></html>", content_type="text/html")
    with pytest.raises(ConnectorError) as err:
        http(fake_http.url).get("/_health").json()
    assert "not JSON (text/html)" in str(err.value) and "502 Bad Gateway" in str(err.value)


def test_http_slow_sender_is_cut_at_the_deadline(fake_http):
    fake_http.route("/slow", b"x" * 200, trickle=0.05)
    started = time.monotonic()
    with pytest.raises(ConnectorError) as err:
        http(fake_http.url, seconds=1.0).get("/slow")
    assert err.value.kind == "timeout" and time.monotonic() - started < 3


def test_http_silent_server_times_out(silent_server):
    started = time.monotonic()
    with pytest.raises(ConnectorError) as err:
        http(f"http://127.0.0.1:{silent_server.port}", seconds=1.0).get("/_health")
    assert err.value.kind == "timeout" and time.monotonic() - started < 3


def test_http_dropped_connection_is_described(fake_http):
    fake_http.route("/_health", b"", drop=True)
    with pytest.raises(ConnectorError) as err:
        http(fake_http.url).get("/_health")
    assert err.value.kind == "protocol" and "closed the connection" in str(err.value)


def test_http_tls_to_a_plain_server_is_a_tls_error(fake_http):
    fake_http.route("/_health", {"status": "ok"})
    with pytest.raises(ConnectorError) as err:
        http(fake_http.url.replace("http://", "https://")).get("/_health")
    assert err.value.kind in ("tls", "protocol")


def test_concurrent_checks_get_independent_sessions(clickhouse_server):
    results, errors = [], []

    def work():
        try:
            results.append(ch(clickhouse_server.url).query("SELECT sum(number) AS s FROM numbers(1000)").scalar())
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors and results == [499500] * 6


@pytest.mark.parametrize(
    "sql, kept",
    [
        ("-- the znode's name\nSELECT 1", "SELECT 1"),  # a quote inside a comment is not a string
        ("SELECT '-- not a comment' AS x -- but this is", "SELECT '-- not a comment' AS x"),
        ("/* it's */ SELECT 'a''b' /* and 'this' */", "SELECT 'a''b'"),
        ("-- it's fine\nDROP TABLE events", "DROP TABLE events"),  # what hides behind a comment is seen
        ("SELECT 'unterminated -- still a string", "SELECT 'unterminated -- still a string"),
    ],
)
def test_comments_and_strings_are_told_apart_in_one_pass(sql, kept):
    assert strip_comments(sql) == kept


def test_a_read_with_an_apostrophe_in_its_comment_is_sent(clickhouse_server):
    assert ch(clickhouse_server.url).query("-- the table's rows\nSELECT 1 AS one").scalar() == 1
    with pytest.raises(ConnectorError, match="not a read"):
        ch(clickhouse_server.url).query("-- it's only a comment\nDROP TABLE posthog.events")
