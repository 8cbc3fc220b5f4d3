"""posthog.preflight, posthog.readiness (a real local HTTP server playing Django) and celery.workers (real Redis)."""

from __future__ import annotations

import pytest

from tests.conftest import target
from tests.service_support import (
    CELERY_HEARTBEAT_KEY,
    PREFLIGHT_OK,
    PREFLIGHT_OLD,
    READYZ_OK,
    seed_redis,
    unix_ago,
    web_app,
)

PREFLIGHT = ["--only", "posthog.preflight"]
READINESS = ["--only", "posthog.readiness"]
WORKERS = ["--only", "celery.workers"]


# --- posthog.preflight ---


def test_preflight_all_services_up_reports_realm(doctor, fake_http):
    web_app(fake_http)
    check = doctor("run", *target(posthog_api=fake_http.url), *PREFLIGHT).check("posthog.preflight")
    assert check["status"] == "ok"
    assert check["summary"] == (
        "Django sees every service up (django, db, redis, clickhouse, kafka, plugins, celery, "
        "object_storage) (realm hosted-clickhouse)"
    )


def test_preflight_false_flags_name_the_services(doctor, fake_http):
    web_app(fake_http, preflight={**PREFLIGHT_OK, "plugins": False, "celery": False})
    check = doctor("run", *target(posthog_api=fake_http.url), *PREFLIGHT).check("posthog.preflight")
    assert check["status"] == "fail"
    assert check["summary"].startswith(
        "Django reports down: the plugin server (plugins: false), the Celery workers (celery: false)"
    )
    assert "CDP_API_URL" in check["advice"][0]["text"] and "celery.workers" in check["advice"][1]["text"]


def test_preflight_object_storage_off_is_only_a_warning(doctor, fake_http):
    web_app(fake_http, preflight={**PREFLIGHT_OK, "object_storage": False})
    check = doctor("run", *target(posthog_api=fake_http.url), *PREFLIGHT).check("posthog.preflight")
    assert check["status"] == "warn" and "object storage (object_storage: false)" in check["summary"]


def test_preflight_of_an_old_postgres_instance_shows_version_and_backend(doctor, fake_http):
    web_app(fake_http, preflight={**PREFLIGHT_OLD, "initiated": False})
    check = doctor("run", *target(posthog_api=fake_http.url), *PREFLIGHT).check("posthog.preflight")
    assert check["status"] == "warn"
    assert check["summary"] == "no organization has been created yet (initiated: false) (realm hosted, version 1.29.1)"
    instance = {i["key"]: i["value"] for i in check["evidence"][1]["items"]}
    assert instance["db_backend"] == "postgres" and instance["is_clickhouse_enabled"] is False


def test_preflight_answered_by_something_else_is_not_taken_for_healthy(doctor, fake_http):
    fake_http.route("/_livez", {"http": True})
    fake_http.route("/_preflight/", "<html>Login</html>", content_type="text/html")
    check = doctor("run", *target(posthog_api=fake_http.url), *PREFLIGHT).check("posthog.preflight")
    assert check["status"] == "error" and "not JSON (text/html)" in check["summary"]


# --- posthog.readiness ---


def test_ready_web_app(doctor, fake_http):
    web_app(fake_http)
    check = doctor("run", *target(posthog_api=fake_http.url), *READINESS).check("posthog.readiness")
    assert check["status"] == "ok" and "every dependency ready (clickhouse, postgres" in check["summary"]


def test_pending_migrations_fail_with_advice(doctor, fake_http):
    web_app(fake_http, migrations_pending=True)
    check = doctor("run", *target(posthog_api=fake_http.url), *READINESS).check("posthog.readiness")
    assert check["status"] == "fail"
    assert check["summary"] == "Django migrations are not up to date (/_health answered HTTP 503)"
    assert "migrate" in check["advice"][0]["text"]


def test_readyz_names_each_false_dependency(doctor, fake_http):
    web_app(fake_http, readyz={**READYZ_OK, "kafka_connected": False, "clickhouse": False})
    check = doctor("run", *target(posthog_api=fake_http.url), *READINESS).check("posthog.readiness")
    assert check["status"] == "fail"
    assert (
        check["summary"] == "not ready: ClickHouse (HTTP ping) (clickhouse), Kafka (kafka_connected) false in /_readyz"
    )
    assert len(check["advice"]) == 2 and "KAFKA_HOSTS" in check["advice"][1]["text"]


def test_older_web_app_without_readyz_is_fine(doctor, fake_http):
    web_app(fake_http, readyz_served=False)
    check = doctor("run", *target(posthog_api=fake_http.url), *READINESS).check("posthog.readiness")
    assert check["status"] == "ok" and "no /_readyz (an older PostHog)" in check["summary"]


# --- celery.workers ---


def test_workers_alive(doctor, redis_server):
    url = seed_redis(redis_server, **{CELERY_HEARTBEAT_KEY: unix_ago(7), "celery": ["task"] * 3})
    check = doctor("run", *target(redis=url), *WORKERS).check("celery.workers")
    assert check["status"] == "ok" and check["summary"] in (
        "workers alive: heartbeat 7 s old, 3 tasks queued",
        "workers alive: heartbeat 8 s old, 3 tasks queued",
    )


def test_workers_offline_after_300_seconds(doctor, redis_server):
    url = seed_redis(redis_server, **{CELERY_HEARTBEAT_KEY: unix_ago(900)})
    check = doctor("run", *target(redis=url), *WORKERS).check("celery.workers")
    assert check["status"] == "fail"
    assert check["summary"] == "workers offline: last heartbeat 15 min ago (offline after 300 s) (0 tasks queued)"
    assert "docker compose restart worker" in check["advice"][0]["commands"]


def test_late_heartbeat_warns(doctor, redis_server):
    url = seed_redis(redis_server, **{CELERY_HEARTBEAT_KEY: unix_ago(100)})
    check = doctor("run", *target(redis=url), *WORKERS).check("celery.workers")
    assert check["status"] == "warn" and check["summary"].startswith("heartbeat late: 1 min old")


def test_missing_heartbeat_fails(doctor, redis_server):
    url = seed_redis(redis_server)
    check = doctor("run", *target(redis=url), *WORKERS).check("celery.workers")
    assert check["status"] == "fail" and "POSTHOG_HEARTBEAT is missing" in check["summary"]


@pytest.mark.parametrize("depth, status", [(1500, "warn"), (12000, "fail")])
def test_deep_queue_with_live_workers_advises_scaling(doctor, redis_server, depth, status):
    url = seed_redis(redis_server, **{CELERY_HEARTBEAT_KEY: unix_ago(2), "celery": ["t"] * depth})
    check = doctor("run", *target(redis=url), *WORKERS).check("celery.workers")
    assert check["status"] == status and f"{depth:,} tasks waiting in the celery queue" in check["summary"]
    assert "alive but behind" in check["advice"][0]["text"]


def test_queue_thresholds_are_options(doctor, redis_server):
    url = seed_redis(redis_server, **{CELERY_HEARTBEAT_KEY: unix_ago(2), "celery": ["t"] * 30})
    check = doctor("run", *target(redis=url), *WORKERS, "--option", "celery.workers.queue_warn=10").check(
        "celery.workers"
    )
    assert check["status"] == "warn" and "more than 10)" in check["summary"]


@pytest.mark.parametrize(
    "keys, words",
    [
        ({CELERY_HEARTBEAT_KEY: "yesterday"}, "holds 'yesterday', not a Unix time"),
        ({CELERY_HEARTBEAT_KEY: ["1"]}, "holds a list, not the Unix time"),
    ],
)
def test_odd_heartbeat_values_are_explained(doctor, redis_server, keys, words):
    check = doctor("run", *target(redis=seed_redis(redis_server, **keys)), *WORKERS).check("celery.workers")
    assert check["status"] == "fail" and words in check["summary"]


def test_celery_key_of_the_wrong_type_is_explained(doctor, redis_server):
    url = seed_redis(redis_server, **{CELERY_HEARTBEAT_KEY: unix_ago(1), "celery": "not a list"})
    check = doctor("run", *target(redis=url), *WORKERS).check("celery.workers")
    assert check["status"] == "ok" and "the 'celery' key is a string, not Celery's list" in check["summary"]


def test_proxy_asking_for_a_login_on_health_is_a_warning_not_a_key_problem(doctor, fake_http):
    web_app(fake_http)
    fake_http.route("/_health", "<html>401 Authorization Required</html>", status=401, content_type="text/html")
    check = doctor("run", *target(posthog_api=fake_http.url), *READINESS).check("posthog.readiness")
    assert check["status"] == "warn"
    assert check["summary"] == "/_health answered HTTP 401: '<html>401 Authorization Required</html>'"


# --- every Celery queue, and the Redis they live in ---


# Audit row 6 (/work/shared/posthog-generations.md).
def test_a_backlog_on_any_celery_queue_is_found(doctor, redis_server):
    # posthog/tasks/utils.py @ ce59110: 14 queues; System Status shows only `celery`.
    url = seed_redis(
        redis_server, **{CELERY_HEARTBEAT_KEY: unix_ago(2), "celery": ["t"] * 3, "analytics_queries": ["t"] * 1500}
    )
    check = doctor("run", *target(redis=url), *WORKERS).check("celery.workers")
    assert check["status"] == "warn"
    assert check["summary"] == "1,500 tasks waiting in the analytics_queries queue (more than 1,000)"
    assert "alive but behind" in check["advice"][0]["text"]
    assert check["metrics"]["queue_depth"] == 1503 and check["metrics"]["queue_depth.analytics_queries"] == 1500
    table = next(e for e in check["evidence"] if e["title"] == "Celery queues")
    assert ["analytics_queries", 1500, "insight and query calculations"] in table["rows"]


# Audit row 6 (/work/shared/posthog-generations.md).
def test_the_total_over_all_queues_is_judged_too(doctor, redis_server):
    keys = {CELERY_HEARTBEAT_KEY: unix_ago(2), "exports": ["t"] * 800, "email": ["t"] * 700, "celery": ["t"] * 600}
    url = seed_redis(redis_server, **keys)
    check = doctor("run", *target(redis=url), *WORKERS, "--option", "celery.workers.total_warn=2000").check(
        "celery.workers"
    )
    assert check["status"] == "warn"
    assert check["summary"] == (
        "2,100 tasks waiting in all Celery queues together (more than 2,000): 2,100 tasks queued "
        "(exports 800, email 700, celery 600)"
    )


# Audit row 4 (/work/shared/posthog-generations.md).
def test_a_guessed_redis_without_a_fresh_heartbeat_never_says_the_workers_are_offline(
    doctor, redis_server, monkeypatch
):
    # The README's one-liner passes no env: the doctor guesses the hobby Redis. The newest hobby stack left an
    # old heartbeat in `redis` when Django and Celery moved to `redis7`: that is no proof the workers are down.
    from dataclasses import replace

    from posthog_doctor.topology import COMPONENTS

    url = seed_redis(redis_server, **{CELERY_HEARTBEAT_KEY: unix_ago(9 * 86400)})
    monkeypatch.setitem(COMPONENTS, "redis", replace(COMPONENTS["redis"], default_url=url, fallback_hosts=()))
    flags = target()
    i = flags.index("--redis-url")
    del flags[i : i + 2]  # no --redis-url at all: the default stands
    check = doctor("run", *flags, *WORKERS).check("celery.workers")
    assert check["status"] == "warn", check["summary"]
    assert "offline" not in check["summary"]
    assert check["summary"].startswith("an old Celery heartbeat in this Redis (127.0.0.1:")
    assert "PostHog may use another one (tried: 127.0.0.1:" in check["summary"] and "9 d old" in check["summary"]
    assert "REDIS_URL" in check["advice"][0]["text"]


# Audit row 4 (/work/shared/posthog-generations.md).
def test_django_seeing_its_workers_alive_outweighs_a_missing_heartbeat(doctor, redis_server, fake_http):
    web_app(fake_http)  # /_preflight/ says celery: true
    url = seed_redis(redis_server)
    check = doctor("run", *target(redis=url, posthog_api=fake_http.url), *WORKERS).check("celery.workers")
    assert check["status"] == "warn"
    assert (
        "yet Django sees its workers alive (/_preflight/ celery: true): PostHog uses another Redis" in check["summary"]
    )


def test_django_seeing_its_workers_down_confirms_a_missing_heartbeat(doctor, redis_server, fake_http):
    web_app(fake_http, preflight={**PREFLIGHT_OK, "celery": False})
    url = seed_redis(redis_server)
    check = doctor("run", *target(redis=url, posthog_api=fake_http.url), *WORKERS).check("celery.workers")
    assert check["status"] == "fail" and "POSTHOG_HEARTBEAT is missing" in check["summary"]
