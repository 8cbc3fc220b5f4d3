"""Proof that the doctor only reads: every statement it sent during a full run, as the servers recorded
them (ClickHouse's system.query_log, Postgres's statement log, Redis's MONITOR, the HTTP server's log, the
four-letter words the ZooKeeper stand-in received). The HTTP log may hold one other method than GET: an
OPTIONS preflight on a capture path, as browsers send before every event (SECURITY.md)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from posthog_doctor.connectors.base import strip_comments
from tests.capture_support import PATHS as CAPTURE_PATHS
from tests.capture_support import TOKEN, capture_service, early_access, remote_config, rust_capture
from tests.conftest import COMPONENT_FLAGS, CliResult, run_process
from tests.zookeeper_support import FourLetterServer

READ = re.compile(r"^\(*\s*(SELECT|WITH|SHOW|EXPLAIN|DESCRIBE|EXISTS)\b", re.I)
REDIS_READS = {"PING", "INFO", "GET", "STRLEN", "TTL", "TYPE", "EXISTS", "LLEN", "SELECT", "AUTH"}


@pytest.fixture(scope="module")
def keeper():
    """A ZooKeeper stand-in (ClickHouse Keeper's formats) that records every word it is sent."""
    server = FourLetterServer.keeper()
    yield server
    server.close()


@pytest.fixture(scope="module")
def full_run(posthog, keeper, clickhouse_server, postgres_server, redis_server, tmp_path_factory):
    """Run every check once, recording Redis's MONITOR stream while it runs. The web app's HTTP server also
    plays the capture path (Rust capture, its service health, the token lookups)."""
    import redis

    rust_capture(posthog.http)
    capture_service(posthog.http)
    remote_config(posthog.http, TOKEN, known=False)
    early_access(posthog.http, known=True)
    extra = [
        COMPONENT_FLAGS["capture"],
        posthog.http.url,
        COMPONENT_FLAGS["zookeeper"],
        keeper.url,
        "--project-token",
        TOKEN,
        "--set",
        f"capture.service.service_url={posthog.http.url}",
    ]

    monitor_client = redis.Redis.from_url(redis_server.admin_url, protocol=2)  # RESP2: no HELLO of its own
    seen: list[str] = []
    stop = threading.Event()

    def record():
        with monitor_client.monitor() as m:
            for event in m.listen():
                seen.append(event["command"])
                if stop.is_set():
                    return

    recorder = threading.Thread(target=record, daemon=True)
    recorder.start()
    time.sleep(0.3)
    log = Path(postgres_server.details["log"])
    log_start = log.stat().st_size
    out = tmp_path_factory.mktemp("readonly")
    done = run_process("run", *posthog.flags, *extra, "--output", str(out), "--quiet", "--timeout", "90")
    stop.set()
    monitor_client.ping()  # one more event, so the recorder sees `stop`
    recorder.join(5)
    assert done.returncode in (0, 1, 2, 3), done.stderr
    result = CliResult(done.returncode, done.stdout, done.stderr, out)
    return result, log.read_text(errors="replace")[log_start:], list(seen)


def test_every_check_ran(full_run):
    result, _, _ = full_run
    statuses = {c["id"]: c["status"] for c in result.report["checks"]}
    ran = [cid for cid, status in statuses.items() if status in ("ok", "warn", "fail")]
    assert len(ran) >= 15, statuses


def test_clickhouse_saw_only_readonly_reads(full_run, clickhouse_server):
    from clickhouse_driver import Client

    result, _, _ = full_run
    admin = urlsplit(clickhouse_server.admin_url)
    client = Client(admin.hostname, admin.port)
    client.execute("SYSTEM FLUSH LOGS")
    run_id = result.report["run"]["id"]
    rows = client.execute(
        "SELECT query_id, query, Settings.Values[indexOf(Settings.Names, 'readonly')] AS readonly, written_rows, type "
        "FROM system.query_log WHERE query_id LIKE %(prefix)s AND type != 1",  # 1 = start; then finish or error
        {"prefix": f"posthog-doctor:{run_id}:%"},
    )
    assert len(rows) >= 12, f"only {len(rows)} queries recorded"
    for query_id, query, readonly, written, kind in rows:
        assert READ.match(strip_comments(query)), (query_id, query[:200])
        assert written == 0, (query_id, written)
        # 3 = refused before it started (e.g. a system table 18.16 lacks): nothing ran, no settings recorded
        assert readonly == "2" or kind == 3, (query_id, readonly, kind)
    assert sum(1 for r in rows if r[2] == "2") >= 10
    checks = {r[0].split(":")[2] for r in rows}
    assert {"probe", "clickhouse.dead_letter_queue", "clickhouse.ingestion", "clickhouse.schema"} <= checks, checks


def test_postgres_saw_only_reads_in_read_only_transactions(full_run):
    _, log, _ = full_run
    statements = re.findall(r"app=posthog-doctor:LOG:\s+(?:statement|execute [^:]*): (.*)", log)
    assert len(statements) >= 20, log[-2000:]
    for text in statements:
        verb = strip_comments(text).split(None, 1)[0].upper().rstrip(";")
        if verb == "BEGIN":
            assert text.strip().upper() == "BEGIN READ ONLY", text
        elif verb == "SET":
            assert re.match(r"SET LOCAL (statement_timeout|lock_timeout) = \d+$", text.strip()), text
        elif verb != "ROLLBACK":
            assert READ.match(strip_comments(text)), text[:300]


def test_redis_saw_only_read_commands(full_run):
    _, _, commands = full_run
    verbs = {c.split()[0].upper() for c in commands if c}
    assert {"GET", "LLEN"} <= verbs, verbs
    assert verbs <= REDIS_READS | {"MONITOR"}, verbs - REDIS_READS


def test_http_saw_only_gets_and_capture_preflights(full_run, posthog):
    result, _, _ = full_run
    methods = {m for m, _, _ in posthog.http.requests}
    paths = {p.split("?", 1)[0] for _, p, _ in posthog.http.requests}
    assert methods == {"GET", "OPTIONS"} and {"/_health", "/_preflight/", "/_ready", "/_liveness"} <= paths
    for method, path, headers in posthog.http.requests:
        assert int(headers.get("Content-Length") or 0) == 0, (method, path)  # no request ever carries a body
        if method == "OPTIONS":  # the one non-GET: a CORS preflight on a capture path, nothing more
            assert path in CAPTURE_PATHS, path
            assert headers.get("Access-Control-Request-Method") == "POST" and headers.get("Origin"), headers
            assert "Authorization" not in headers and "Cookie" not in headers
    assert sum(1 for m, _, _ in posthog.http.requests if m == "OPTIONS") == 1
    statuses = {c["id"]: c["status"] for c in result.report["checks"]}
    assert statuses["capture.endpoints"] == "ok" and statuses["capture.service"] == "ok"
    assert statuses["capture.token_lookup"] == "ok"  # known through /api/early_access_features/


def test_zookeeper_saw_only_read_only_words(full_run, keeper):
    result, _, _ = full_run
    assert keeper.words and set(keeper.words) <= {b"srvr", b"mntr", b"ruok"}, keeper.words
    assert {c["id"]: c["status"] for c in result.report["checks"]}["zookeeper.health"] == "ok"
