"""Components with several endpoints: a comma-separated list, every default host that resolves, and the other
Redis a PostHog deployment's settings name (roles). Each is probed; the checks see every candidate."""

from __future__ import annotations

from dataclasses import replace

import pytest

from posthog_doctor.config import ConfigError, load_settings
from posthog_doctor.connectors import candidate_endpoints, probe
from posthog_doctor.topology import COMPONENTS
from tests.http_server import closed_port


def test_several_plugin_server_urls_become_one_endpoint_with_alternates():
    s = load_settings({"plugin_server_url": "http://a:6738, http://b:6738?service=posthog-plugins-ingestion"}, {})
    ep = s.endpoints["plugin_server"]
    assert [c.url() for c in ep.candidates()] == [
        "http://a:6738",
        "http://b:6738?service=posthog-plugins-ingestion",
    ]
    assert s.target_summary()["candidates"] == {
        "plugin_server": ["http://a:6738", "http://b:6738?service=posthog-plugins-ingestion"]
    }


def test_a_comma_inside_a_password_does_not_split_the_list():
    s = load_settings({"redis_url": "redis://:pa,ss@r1:6379/0,redis://r2:6379/0"}, {})
    ep = s.endpoints["redis"]
    assert [(c.host, c.password) for c in ep.candidates()] == [("r1", "pa,ss"), ("r2", "")]
    assert "pa,ss" in s.secrets


def test_only_components_several_endpoints_may_play_take_a_list():
    with pytest.raises(ConfigError):
        load_settings({"posthog_url": "http://a:8000,http://b:8000"}, {})


def test_the_plugin_servers_own_redis_settings_become_role_endpoints():
    env = {
        "REDIS_URL": "redis://redis:6379/",
        "POSTHOG_REDIS_HOST": "redis-main",
        "POSTHOG_REDIS_PASSWORD": "s3cret-main",
        "CDP_REDIS_HOST": "redis7",
        "CDP_REDIS_PASSWORD": "s3cret-cdp",
        "COOKIELESS_REDIS_HOST": "redis7",
        "COOKIELESS_REDIS_PORT": "6379",
        "LOGS_REDIS_HOST": "logs-redis",
    }
    s = load_settings({}, env)
    ep = s.endpoints["redis"]
    assert ep.url() == "redis://redis:6379" and ep.source == "env:REDIS_URL"
    roles = {a.role: (a.url(), a.source) for a in ep.alternates}
    assert roles == {
        "plugin server": ("redis://:***@redis-main:6379", "env:POSTHOG_REDIS_HOST"),
        "cdp": ("redis://:***@redis7:6479", "env:CDP_REDIS_HOST"),  # the plugin server's default CDP port
        "cookieless": ("redis://redis7:6379", "env:COOKIELESS_REDIS_HOST"),
        "logs": ("rediss://logs-redis:6479", "env:LOGS_REDIS_HOST"),  # TLS unless LOGS_REDIS_TLS=false
    }
    assert {"s3cret-main", "s3cret-cdp"} <= set(s.secrets)
    plain = load_settings({}, {**env, "LOGS_REDIS_TLS": "false"}).endpoints["redis"]
    assert next(a for a in plain.alternates if a.role == "logs").scheme == "redis"


def test_every_default_host_that_resolves_is_a_candidate():
    comp = replace(COMPONENTS["redis"], fallback_hosts=("127.0.0.2", "no-such-host.invalid", "localhost"))
    ep = replace(load_settings({}, {}).endpoints["redis"], host="127.0.0.1", fallback_hosts=comp.fallback_hosts)
    assert [c.host for c in candidate_endpoints(comp, ep)] == ["127.0.0.1", "127.0.0.2"]
    nowhere = replace(ep, host="nowhere.invalid", fallback_hosts=("no-such-host.invalid", "localhost"))
    assert [c.host for c in candidate_endpoints(comp, nowhere)] == ["localhost"]
    single = replace(COMPONENTS["redis"], several=False)
    assert [c.host for c in candidate_endpoints(single, ep)] == ["127.0.0.1"]  # the first that resolves


def test_each_candidate_is_probed_and_the_first_that_answers_is_the_component(redis_server):
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    s = load_settings(
        {"redis_url": f"{dead},{redis_server.url}"},
        {"CDP_REDIS_HOST": "127.0.0.1", "CDP_REDIS_PORT": str(closed_port())},
    )
    result, used = probe(COMPONENTS["redis"], s.endpoints["redis"], seconds=3)
    assert result.reachable and used is not None and used.url() == redis_server.url
    assert result.summary.endswith("(1 of 2 candidates answered)")
    assert [(c.role, c.probe.reachable) for c in result.candidates] == [("", False), ("", True), ("cdp", False)]


def test_a_role_endpoint_never_stands_for_the_component(redis_server):
    dead = f"redis://127.0.0.1:{closed_port()}/0"
    port = redis_server.url.rsplit(":", 1)[1].split("/")[0]
    s = load_settings({"redis_url": dead}, {"CDP_REDIS_HOST": "127.0.0.1", "CDP_REDIS_PORT": port})
    result, _ = probe(COMPONENTS["redis"], s.endpoints["redis"], seconds=3)
    assert not result.reachable and "refused" in result.summary
    assert [(c.role, c.probe.reachable) for c in result.candidates] == [("", False), ("cdp", True)]


def test_a_check_connects_only_to_components_it_declared(redis_server):
    from posthog_doctor.connectors.base import Deadline
    from posthog_doctor.context import Context, RunState

    ep = load_settings({"redis_url": redis_server.url}, {}).endpoints["redis"]
    result, used = probe(COMPONENTS["redis"], ep, seconds=3)
    ctx = Context("x.check", ("redis",), RunState("run", {"redis": used}, {"redis": result}), {}, Deadline(5))
    try:
        [candidate] = ctx.candidates("redis")
        assert candidate.probe.reachable and ctx.connect("redis", candidate.endpoint).ping()
        assert ctx.connect("redis", candidate.endpoint) is ctx.connect("redis", candidate.endpoint)  # one per endpoint
        with pytest.raises(RuntimeError, match="without declaring it"):
            ctx.connect("plugin_server", candidate.endpoint)
    finally:
        ctx.close()
