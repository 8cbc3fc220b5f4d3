"""Reading the web app's answers as analytics-database signals, and what a set of signals adds up to."""

from __future__ import annotations

from posthog_doctor.checks.common.analytics_backend import (
    CLICKHOUSE,
    POSTGRES,
    BackendVerdict,
    Signal,
    from_preflight,
    from_system_status,
    overview_rows,
    reported_version,
)

# /_preflight/ of a logged-in user on a 2021 PostHog (posthog/views.py preflight_check at that time).
OLD_PREFLIGHT_POSTGRES = {
    "django": True,
    "redis": True,
    "plugins": True,
    "celery": True,
    "db": True,
    "initiated": True,
    "cloud": False,
    "realm": "hosted",
    "ee_available": False,
    "is_clickhouse_enabled": False,
    "db_backend": "postgres",
    "posthog_version": "1.29.1",
}


def test_old_preflight_gives_two_strong_signals_and_a_realm_hint():
    signals = from_preflight(OLD_PREFLIGHT_POSTGRES)
    assert [(s.points_to, s.strong) for s in signals] == [(POSTGRES, True), (POSTGRES, True), (POSTGRES, False)]


def test_anonymous_preflight_says_nothing_strong():
    signals = from_preflight({"django": True, "realm": "hosted-clickhouse", "cloud": False})
    assert [s for s in signals if s.strong and s.points_to] == []
    assert signals[0].points_to is None and "logged-in users only" in signals[0].observed
    assert signals[-1] == Signal("web app /_preflight/ realm", '"hosted-clickhouse"', CLICKHOUSE, strong=False)


def test_system_status_analytics_database_row_decides():
    rows = overview_rows(
        {
            "results": {
                "overview": [
                    {"key": "posthog_version", "metric": "PostHog version", "value": "1.30.0"},
                    {"key": "analytics_database", "metric": "Analytics database in use", "value": "ClickHouse"},
                ]
            }
        }
    )
    assert from_system_status(rows).points_to == CLICKHOUSE
    assert reported_version(None, rows) == "1.30.0"


def test_new_system_status_has_no_analytics_row_but_clickhouse_rows():
    rows = overview_rows(
        {
            "results": {
                "overview": [
                    {"key": "posthog_git_sha", "metric": "PostHog Git SHA", "value": "abc"},
                    {"key": "clickhouse_alive", "metric": "ClickHouse alive", "value": True},
                ]
            }
        }
    )
    assert from_system_status(rows).points_to == CLICKHOUSE


def test_oldest_system_status_is_a_plain_list_with_postgres_rows():
    rows = overview_rows(
        {
            "results": [
                {"key": "db_alive", "metric": "Postgres database alive", "value": True},
                {"metric": "Postgres events table size", "value": "~6120000 rows (~4 GB)"},
            ]
        }
    )
    assert from_system_status(rows).points_to == POSTGRES


def test_verdict_agreement_disagreement_and_hints():
    agree = BackendVerdict((Signal("a", "", CLICKHOUSE), Signal("b", "", CLICKHOUSE), Signal("c", "", POSTGRES, False)))
    assert agree.backend == CLICKHOUSE and not agree.disagree and len(agree.weak) == 1
    split = BackendVerdict((Signal("a", "", CLICKHOUSE), Signal("b", "", POSTGRES)))
    assert split.disagree and split.backend is None
    hints = BackendVerdict((Signal("a", "", POSTGRES, False), Signal("b", "not read", None)))
    assert hints.backend is None and not hints.strong
