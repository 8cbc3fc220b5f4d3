"""zookeeper.health against a real Apache ZooKeeper (Debian's 3.8 package, started from its jar), a real
ClickHouse 18.16 configured to use it, the in-process current engine (chdb), and a real local TCP server in
the exact formats of ClickHouse Keeper and of ZooKeeper 3.7.0 (see tests/zookeeper_support.py for which
stands in for which)."""

from __future__ import annotations

import socket
import time

import pytest

from tests import servers
from tests.clickhouse_support import ENGINES, make_deployment
from tests.conftest import COMPONENT_FLAGS, target, unavailable
from tests.http_server import closed_port
from tests.zookeeper_support import (
    KEEPER_NOT_SERVING,
    FourLetterServer,
    start_clickhouse_with_zookeeper,
    start_zookeeper,
)

ONLY = ["--only", "zookeeper.health"]


def _start(make, *args, **kwargs):
    try:
        return make(*args, **kwargs)
    except servers.Unavailable as exc:
        unavailable("a real ZooKeeper", str(exc))


@pytest.fixture(scope="module")
def zk_default():
    """ZooKeeper's own 4lw default (srvr only), as the zookeeper:3.7.0 image PostHog's hobby stack runs."""
    server = _start(start_zookeeper)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def zk_open():
    server = _start(start_zookeeper, "srvr,mntr,ruok")
    yield server
    server.stop()


@pytest.fixture
def fake_zk():
    made: list[FourLetterServer] = []

    def make(server: FourLetterServer) -> FourLetterServer:
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def srvr_fields(port: int) -> dict[str, str]:
    """What the server itself says to `srvr`, read by the test on its own."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"srvr")
        text = b""
        while chunk := sock.recv(4096):
            text += chunk
    return dict(line.split(": ", 1) for line in text.decode().splitlines() if ": " in line)


def values(check: dict, title: str) -> dict:
    found = next(e for e in check["evidence"] if e["title"] == title)
    return {i["key"]: i["value"] for i in found["items"]}


def said(check: dict) -> str:
    """Every finding's sentence (the summary is cut to the report's bound)."""
    return " | ".join(f["text"] for f in check["findings"])


def words(check: dict) -> dict[str, str]:
    found = next(e for e in check["evidence"] if e["title"] == "Four-letter words")
    return {row[0]: row[1] for row in found["rows"]}


# --- the hobby default and a whitelisted ZooKeeper (real) ---


def test_hobby_default_zookeeper_is_healthy_and_quiet_about_words_it_may_not_answer(doctor, zk_default):
    check = doctor("run", *target(zookeeper=zk_default.url), *ONLY).check("zookeeper.health")
    said = srvr_fields(zk_default.port)
    assert check["status"] == "ok", check["summary"]
    assert check["advice"] == []  # a healthy hobby install gets no advice, however its whitelist is set
    assert f"{said['Mode']}" in check["summary"] and f"{said['Node count']} znodes" in check["summary"]
    said_words = words(check)
    assert said_words["srvr"].startswith("answered")
    assert said_words["mntr"] == said_words["ruok"] == "not in the whitelist"
    note = next(e for e in check["evidence"] if e["title"] == "Four-letter words not allowed")
    assert "4lw.commands.whitelist=srvr,mntr,ruok" in note["text"] and "ZOO_4LW_COMMANDS_WHITELIST" in note["text"]
    assert values(check, "ZooKeeper")["data_size"] == "— (needs mntr)"


def test_whitelisted_zookeeper_reports_its_data_size_and_znodes(doctor, zk_open):
    check = doctor("run", *target(zookeeper=zk_open.url), *ONLY).check("zookeeper.health")
    assert check["status"] == "ok", check["summary"]
    assert sorted(words(check)) == ["mntr", "ruok", "srvr"]
    assert all(v.startswith("answered") for v in words(check).values())
    shown = values(check, "ZooKeeper")
    assert shown["version"].startswith("ZooKeeper 3.") and shown["mode"] == "standalone"
    assert check["metrics"]["zookeeper_data_bytes"] > 0
    assert check["metrics"]["zookeeper_znodes"] == int(srvr_fields(zk_open.port)["Node count"])
    assert "of data" in check["summary"]


def test_a_member_that_lost_its_quorum_is_a_failure_with_its_cause(doctor):
    lost = _start(start_zookeeper, lost_quorum=True)
    try:
        check = doctor("run", *target(zookeeper=lost.url), *ONLY).check("zookeeper.health")
    finally:
        lost.stop()
    assert check["status"] == "fail"
    assert "not serving requests: it has lost its quorum" in check["summary"]
    assert words(check) == {"srvr": "not currently serving requests"}  # nothing else is asked
    assert any("more than half of the ensemble" in a["text"] for a in check["advice"])


def test_refused_port_named_by_the_user_is_a_failure(doctor):
    port = closed_port()
    result = doctor("run", *target(zookeeper=f"zk://127.0.0.1:{port}"), *ONLY)
    check = result.check("zookeeper.health")
    assert check["status"] == "fail" and result.code == 2
    assert f"ZooKeeper at 127.0.0.1:{port} refuses connections: ZooKeeper is not running there" == check["summary"]
    assert any("docker compose logs --tail 200 zookeeper" in c for a in check["advice"] for c in a["commands"])


def test_silent_port_costs_its_time_limit_and_says_so(doctor, silent_server):
    started = time.monotonic()
    check = doctor("run", *target(zookeeper=f"zk://127.0.0.1:{silent_server.port}"), *ONLY).check("zookeeper.health")
    assert time.monotonic() - started < 15
    assert check["status"] == "fail" and "does not answer: it is hung or overloaded" in check["summary"]


def test_nothing_at_the_default_address_is_skipped_not_failed(doctor):
    flags = target()
    del flags[flags.index(COMPONENT_FLAGS["zookeeper"]) : flags.index(COMPONENT_FLAGS["zookeeper"]) + 2]
    check = doctor("run", *flags, *ONLY).check("zookeeper.health")
    if check["status"] != "skipped":  # something listens on this machine's port 2181: not this test's case
        pytest.skip(f"a ZooKeeper answers at the default address here: {check['summary']}")
    assert "no ZooKeeper at the default address" in check["summary"] and "--zookeeper-url" in check["summary"]


def test_bad_zookeeper_url_is_a_one_line_error(doctor):
    result = doctor("run", *target(zookeeper="http://zookeeper:2181"), *ONLY)
    assert result.code == 4 and "zk://" in result.stderr and "Traceback" not in result.stderr


# --- ClickHouse Keeper and ZooKeeper 3.7 (the real local TCP server in their formats) ---


def test_clickhouse_keeper_leader_reports_its_figures(doctor, fake_zk):
    keeper = fake_zk(FourLetterServer.keeper())
    check = doctor("run", *target(zookeeper=keeper.url), *ONLY).check("zookeeper.health")
    assert check["status"] == "ok", check["summary"]
    shown = values(check, "ZooKeeper")
    assert shown["version"] == "ClickHouse Keeper v23.8.2.7" and shown["mode"] == "leader"
    assert shown["followers"] == "2 of 2" and shown["data_size"] == "2.3 MiB" and shown["znodes"] == 5321
    assert set(keeper.words) <= {b"srvr", b"mntr", b"ruok"}  # the only words ever sent


def test_keeper_under_pressure_names_the_numbers(doctor, fake_zk):
    keeper = fake_zk(FourLetterServer.keeper(outstanding=250, znodes=2_500_000, data_size=700 * 1024**2, synced=1))
    check = doctor("run", *target(zookeeper=keeper.url), *ONLY).check("zookeeper.health")
    assert check["status"] == "warn"
    assert check["summary"].startswith("250 requests queued in ZooKeeper (more than 10)")
    assert "ZooKeeper holds 2.5M znodes" in said(check)
    assert "700.0 MiB of data in memory" in said(check)
    assert "only 1 of 2 followers are in sync" in said(check)
    assert any("autopurge" in a["text"] for a in check["advice"])


def test_keeper_refusing_mntr_closes_silently_and_gets_the_allow_list_advice(doctor, fake_zk):
    keeper = fake_zk(FourLetterServer.keeper(outstanding=40, words=("srvr",)))
    check = doctor("run", *target(zookeeper=keeper.url), *ONLY).check("zookeeper.health")
    assert check["status"] == "warn" and "40 requests queued" in check["summary"]
    assert words(check)["mntr"] == "closed without an answer (not allowed)"
    assert any("four_letter_word_allow_list" in a["text"] for a in check["advice"])


def test_keeper_not_serving_is_a_failure(doctor, fake_zk):
    keeper = fake_zk(FourLetterServer({"srvr": KEEPER_NOT_SERVING, "mntr": KEEPER_NOT_SERVING}))
    check = doctor("run", *target(zookeeper=keeper.url), *ONLY).check("zookeeper.health")
    assert check["status"] == "fail" and "lost its quorum" in check["summary"]


def test_zookeeper_37_in_read_only_mode_refuses_writes(doctor, fake_zk):
    zk = fake_zk(FourLetterServer.zookeeper_37(mode="read-only"))
    check = doctor("run", *target(zookeeper=zk.url), *ONLY).check("zookeeper.health")
    assert check["status"] == "fail"
    assert "is in read-only mode: it lost its quorum and refuses writes" in check["summary"]
    assert values(check, "ZooKeeper")["version"] == "ZooKeeper 3.7.0"


# --- ClickHouse's own view ---


def test_clickhouse_view_of_its_zookeeper_healthy_then_down(doctor):
    """A real ClickHouse 18.16 with a <zookeeper> section and one replicated table, then its ZooKeeper stops."""
    from clickhouse_driver import Client

    zk = _start(start_zookeeper, "srvr,mntr,ruok")
    try:
        ch = _start(start_clickhouse_with_zookeeper, zk.port)
    except BaseException:
        zk.stop()
        raise
    try:
        Client("127.0.0.1", ch.port).execute(
            "CREATE TABLE posthog.events_r (x UInt64) "
            "ENGINE = ReplicatedMergeTree('/clickhouse/tables/0/posthog.events_r', 'r1') ORDER BY x"
        )
        both = target(zookeeper=zk.url, clickhouse=ch.url)
        healthy = doctor("run", *both, *ONLY).check("zookeeper.health")
        assert healthy["status"] == "ok" and healthy["summary"].endswith("; ClickHouse reaches it")
        seen = values(healthy, "ClickHouse's view of ZooKeeper")
        assert seen["configured"] == "yes" and seen["replicated_tables"] == 1 and "clickhouse" in seen["root"]

        only_clickhouse = doctor("run", *target(clickhouse=ch.url), *ONLY).check("zookeeper.health")
        assert only_clickhouse["status"] == "ok" and "ClickHouse reaches its ZooKeeper" in only_clickhouse["summary"]

        zk.stop()
        down = doctor("run", *both, *ONLY).check("zookeeper.health")
        assert down["status"] == "fail"
        assert down["summary"].startswith(f"ZooKeeper is down: 127.0.0.1:{zk.port} refuses connections")
        assert "ClickHouse cannot reach it either (All connection tries failed" in down["summary"]
        assert "its replicated table cannot take inserts" in down["summary"]

        seen_by_clickhouse = doctor("run", *target(clickhouse=ch.url), *ONLY).check("zookeeper.health")
        assert seen_by_clickhouse["status"] == "fail"
        assert seen_by_clickhouse["summary"].startswith("ClickHouse cannot reach its ZooKeeper")

        if not _listening(2181):  # the hobby default, found nowhere: the outage is still said, as such
            defaults = target(clickhouse=ch.url)
            at = defaults.index(COMPONENT_FLAGS["zookeeper"])
            del defaults[at : at + 2]
            by_default = doctor("run", *defaults, *ONLY).check("zookeeper.health")
            assert by_default["status"] == "fail"
            assert by_default["summary"].startswith("ZooKeeper is down: none answers at the default addresses")
    finally:
        ch.stop()
        zk.stop()


@pytest.fixture(scope="module", params=ENGINES)
def plain_clickhouse(request):
    return make_deployment(request, "zookeeper_view")


def test_clickhouse_without_zookeeper_on_both_engines(doctor, plain_clickhouse, tmp_path):
    """Neither test engine has a ZooKeeper configured: system.zookeeper is absent on both, and
    system.zookeeper_connection too (18.16 predates it; the current engine attaches it only with one)."""
    check = doctor("run", *target(clickhouse=plain_clickhouse.url), *ONLY).check("zookeeper.health")
    assert check["status"] == "ok", check["summary"]
    assert check["summary"] == "ClickHouse has no ZooKeeper configured (a single server without replication)"
    seen = values(check, "ClickHouse's view of ZooKeeper")
    assert seen["configured"] == "no" and seen["replicated_tables"] == 0
    assert not plain_clickhouse.has_system_table("zookeeper")  # what the doctor read, checked on the engine


def test_explain_lists_the_words_and_queries(doctor):
    result = doctor("explain", *target(zookeeper="zk://zookeeper:2181", clickhouse="clickhouse://h:9000/posthog"))
    assert "zookeeper query srvr:" in result.stdout and "zookeeper query mntr:" in result.stdout
    assert "FROM system.zookeeper WHERE path = '/'" in result.stdout


def test_the_connector_sends_no_other_word(fake_zk):
    from posthog_doctor.check import ConnectorError, ErrorKind, ZooKeeper
    from posthog_doctor.connectors.base import Deadline
    from posthog_doctor.endpoints import parse_endpoint

    keeper = fake_zk(FourLetterServer.keeper())
    zk = ZooKeeper(parse_endpoint("zookeeper", "zookeeper", keeper.url), Deadline(5))
    for word in ("srst", "crst", "csnp", "rcvr", "ydld", "kill"):
        with pytest.raises(ConnectorError) as refused:
            zk.command(word)
        assert refused.value.kind == ErrorKind.NOT_ALLOWED
    assert keeper.words == []
    assert zk.command("ruok").text == "imok"


def test_an_answer_larger_than_the_cap_is_cut(fake_zk):
    from posthog_doctor.check import ZooKeeper
    from posthog_doctor.connectors.base import Deadline
    from posthog_doctor.connectors.zookeeper import MAX_ANSWER_BYTES
    from posthog_doctor.endpoints import parse_endpoint

    flood = fake_zk(FourLetterServer({"mntr": "zk_x\t1\n" * (MAX_ANSWER_BYTES // 4)}))
    answer = ZooKeeper(parse_endpoint("zookeeper", "zookeeper", flood.url), Deadline(5)).command("mntr")
    assert answer.truncated and len(answer.text) == MAX_ANSWER_BYTES
