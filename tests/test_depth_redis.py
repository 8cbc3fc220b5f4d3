"""redis.memory and the shared Redis-memory fact, on real Redis servers filled until they evict or refuse writes.

Each test starts its own throwaway Redis (they start in milliseconds), so a tiny maxmemory never touches the
session's shared Redis. Keys are written by a test client exactly as an application would, until Redis
itself evicts (allkeys-lru, PostHog's policy) or answers OOM (noeviction); the numbers the doctor reports
are compared with what Redis and the writing client saw.
"""

from __future__ import annotations

import re

import pytest

from tests import servers
from tests.conftest import target, unavailable

pytestmark = pytest.mark.redis

CHECK = "redis.memory"
HEARTBEAT = "POSTHOG_HEARTBEAT"
VALUE = "x" * 10_000


@pytest.fixture
def redis_node():
    """A Redis of this test's own, and an admin client to configure and fill it."""
    import redis

    try:
        server = servers.start_redis()
    except servers.Unavailable as exc:
        unavailable("a redis-server binary", str(exc))
    client = redis.Redis.from_url(server.admin_url, protocol=2)
    yield server, client
    client.close()
    server.stop()


def cap(client, policy: str, headroom: int = 1024 * 1024) -> int:
    """Limit Redis to what it uses now plus `headroom` bytes, under `policy`; returns the limit."""
    limit = int(client.info("memory")["used_memory"]) + headroom
    client.config_set("maxmemory", limit)
    client.config_set("maxmemory-policy", policy)
    return limit


def fill_until_evicted(client, key: str | None = None) -> None:
    """Write 10 kB values until Redis has evicted something (and `key`, when given)."""
    for n in range(20_000):
        client.set(f"filler:{n}", VALUE)
        evicted = int(client.info("stats")["evicted_keys"])
        if evicted and (key is None or not client.exists(key)):
            return
    raise AssertionError("Redis never evicted")


def fill_until_refused(client, refusals: int) -> int:
    """Write until Redis has answered OOM `refusals` times; returns how many writes it refused."""
    import redis

    refused = 0
    for n in range(20_000):
        try:
            client.set(f"filler:{n}", VALUE)
        except redis.exceptions.ResponseError as exc:
            assert str(exc).startswith("command not allowed when used memory"), exc
            refused += 1
            if refused == refusals:
                return refused
    raise AssertionError("Redis never refused a write")


def run(doctor, server, *checks: str):
    result = doctor("run", "--only", ",".join(checks or (CHECK,)), *target(redis=server.url))
    return result


def items(check: dict) -> dict:
    return {i["key"]: i["value"] for e in check["evidence"] for i in e.get("items", [])}


def test_a_healthy_redis_is_quiet(redis_node, doctor):
    server, client = redis_node
    client.config_set("maxmemory", "200mb")  # PostHog's hobby setting
    client.config_set("maxmemory-policy", "allkeys-lru")
    client.set(HEARTBEAT, "1700000000")
    check = run(doctor, server).check(CHECK)
    assert check["status"] == "ok", check["summary"]
    assert re.fullmatch(
        r"Redis \d+\.\d+\.\d+: [\d.]+ (KiB|MiB) of maxmemory 200\.0 MiB used \(\d+(\.\d)?%\), policy allkeys-lru, "
        r"no key evicted and no write refused",
        check["summary"],
    ), check["summary"]
    assert check["metrics"]["evicted_keys"] == 0 and check["metrics"]["oom_rejections"] == 0
    assert not check["advice"]


def test_evictions_under_allkeys_lru_are_counted_and_explained(redis_node, doctor):
    server, client = redis_node
    cap(client, "allkeys-lru")
    fill_until_evicted(client)
    before = int(client.info("stats")["evicted_keys"])
    check = run(doctor, server).check(CHECK)
    after = int(client.info("stats")["evicted_keys"])  # a new connection's buffers can evict a few more keys
    assert check["status"] == "warn", check["summary"]
    evicted = int(check["metrics"]["evicted_keys"])
    assert 0 < before <= evicted <= after
    assert re.match(rf"Redis evicted {evicted:,} keys in the \d+ s since it started", check["summary"])
    assert "Celery's heartbeat, queued tasks and the plugin server's ping are keys like any other" in check["summary"]
    assert "policy allkeys-lru" in check["summary"]
    assert check["advice"][0]["text"].startswith("Give Redis room")
    assert "https://redis.io/docs/latest/develop/reference/eviction/" in check["advice"][0]["links"]


def test_noeviction_rejections_fail_with_the_count_redis_kept(redis_node, doctor):
    server, client = redis_node
    cap(client, "noeviction")
    refused = fill_until_refused(client, refusals=7)
    check = run(doctor, server).check(CHECK)
    assert check["status"] == "fail", check["summary"]
    assert check["metrics"]["oom_rejections"] == refused == 7
    assert re.match(
        r"Redis is full and refuses writes: it refused 7 writes for lack of memory in the \d+ s since it started "
        r"\([\d.]+ MiB of maxmemory [\d.]+ MiB used \(\d+(\.\d)?%\), policy noeviction\)$",
        check["summary"],
    ), check["summary"]
    assert "OOM command not allowed" in check["advice"][0]["text"]
    assert items(check)["oom"] == 7 and items(check)["evicted_keys"] == 0


def test_noeviction_close_to_the_limit_warns_before_writes_fail(redis_node, doctor):
    server, client = redis_node
    limit = cap(client, "noeviction", headroom=4 * 1024 * 1024)
    while int(client.info("memory")["used_memory"]) < 0.91 * limit:
        client.set(f"filler:{client.dbsize()}", VALUE)
    check = run(doctor, server).check(CHECK)
    assert check["status"] == "warn", check["summary"]
    assert check["summary"].startswith("Redis is close to refusing writes: ")
    assert check["metrics"]["oom_rejections"] == 0


def test_an_evicted_heartbeat_is_explained_by_the_shared_fact(redis_node, doctor):
    """Celery says its heartbeat is missing; the shared fact says why: Redis evicted it."""
    from posthog_doctor.checks.common.redis_memory import redis_memory
    from posthog_doctor.connectors.base import Deadline, ProbeResult
    from posthog_doctor.context import Context, RunState
    from posthog_doctor.endpoints import parse_endpoint

    server, client = redis_node
    client.set(HEARTBEAT, "1700000000")
    cap(client, "allkeys-lru")
    fill_until_evicted(client, HEARTBEAT)
    result = run(doctor, server, "celery.workers", CHECK)
    celery = result.check("celery.workers")
    assert celery["status"] == "fail"
    # Redis's part comes first, before the missing heartbeat, so nobody restarts healthy workers for nothing.
    assert celery["summary"].startswith("Redis has evicted ") and "POSTHOG_HEARTBEAT is missing" in celery["summary"]
    assert celery["advice"][0]["text"] == result.check(CHECK)["advice"][0]["text"]
    assert result.check(CHECK)["status"] == "warn"

    endpoint = parse_endpoint("redis", "redis", server.url)
    state = RunState("run", {"redis": endpoint}, {"redis": ProbeResult(True, "answered")})
    ctx = Context("celery.workers", ("redis",), state, {}, Deadline(10))
    try:
        fact = redis_memory(ctx)
        assert redis_memory(ctx) is fact  # read once per run, shared by every check that asks
    finally:
        ctx.close()
    evicted = int(client.info("stats")["evicted_keys"])
    assert fact.evicts and fact.evicted_keys >= evicted - 1
    assert re.match(
        r"Redis has evicted [\d,]+ keys in the \d+ s since it started \(.* policy allkeys-lru\): a heartbeat or "
        r"queued task may have been evicted rather than never written$",
        fact.missing_key_cause(),
    ), fact.missing_key_cause()


def test_an_unbounded_redis_is_judged_against_the_host(redis_node, doctor):
    server, client = redis_node
    client.set(HEARTBEAT, "1700000000")
    check = run(doctor, server).check(CHECK)
    assert check["status"] == "ok" and "no maxmemory, policy noeviction" in check["summary"]
    strict = doctor(
        "run", "--only", CHECK, "-O", f"{CHECK}.unbounded_warn_pct=0.000001", *target(redis=server.url)
    ).check(CHECK)
    assert strict["status"] == "warn"
    assert re.match(r"Redis has no maxmemory and uses [\d.]+ (KiB|MiB), 0% of the host's [\d.]+ GiB", strict["summary"])
