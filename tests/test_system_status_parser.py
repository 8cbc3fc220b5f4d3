"""The System Status parser: PostHog's old and new API responses, pasted pages in several shapes, and anything else.

The fixtures in tests/fixtures/status/ are written from PostHog's source (see their README).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posthog_doctor.checks.common.status_page import StatusPage, catalog, parse_status, status_from_api
from posthog_doctor.checks.common.status_page.values import normalise, parse_age, parse_size
from posthog_doctor.checks.system_status.findings import Thresholds, evaluate
from tests.service_support import STATUS_FIXTURES

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DEGRADED_PASTES = [
    "paste_new_degraded_chrome.txt",
    "paste_new_degraded_firefox.txt",
    "paste_new_degraded_slack.txt",
    "paste_new_degraded_markdown.md",
]


def fixture(name: str) -> str:
    return (STATUS_FIXTURES / name).read_text(encoding="utf-8")


def values(page: StatusPage) -> dict:
    """Every row's value; times are left out (an ISO timestamp in the API, "3 minutes ago" on the page)."""
    return {m.key: m.value for m in page.metrics if m.kind != "time"}


def findings(page: StatusPage, now: datetime = NOW) -> list[tuple[str, str, str]]:
    return [(f.key, f.status.value, f.text) for f in evaluate(page, Thresholds(), now)]


# --- API responses ---


def test_old_postgres_response_maps_the_typo_and_labels_keyless_rows():
    page = parse_status(fixture("api_old_postgres.json"))
    assert page.source == "json" and not page.problems
    assert page.value("analytics_database") == "Postgres"
    assert page.value("plugin_server_alive") is True and page.value("plugin_sever_alive") is True
    assert page.value("plugin_server_version") == "0.23.3" and page.value("plugin_sever_job_queues") == "Graphile"
    events = page.metric("postgres_events_table_size")
    assert events.source_key is None and events.label == "Postgres events table size"
    assert events.value == "6.12M rows (~3890 MB)"  # compact_number, as PostHog wrote it
    assert page.value("redis_queue_depth") == 12 and page.value("redis_memory_used") == "2.31MB"
    assert [m.key for m in page.metrics][:3] == ["posthog_version", "analytics_database", "plugin_server_alive"]


def test_old_clickhouse_response_keeps_subrows_and_reads_the_single_disk():
    page = status_from_api(json.loads(fixture("api_old_clickhouse.json")))
    assert page.source == "api"
    assert page.metric("clickhouse_disk_0_free_space").label == "Clickhouse disk free space"
    assert page.value("clickhouse_event_count") == 48213977
    sizes = page.metric("clickhouse_table_sizes")
    assert sizes.value is None and sizes.subrows.columns == ["Table", "Size", "Rows"]
    assert sizes.subrows.rows[0] == ["sharded_events", "14.10 GiB", 48213977]
    helm = page.metric("helm").subrows
    assert ["chart_version", "10.0.0"] in helm.rows and ["release_revision", 7] in helm.rows


def test_new_response_keeps_both_object_storage_rows_apart():
    page = parse_status(fixture("api_new_degraded.json"))
    assert page.value("object_storage_enabled") is True and page.value("object_storage_healthy") is False
    assert page.value("object_storage") is True  # PostHog's own key names the first row
    assert [m.source_key for m in page.metrics if m.key.startswith("object_storage")] == ["object_storage"] * 2
    assert page.value("clickhouse_session_recordings_count_month_to_date") is None  # "N/A"
    assert page.value("plugin_server_version") is None  # "unknown"
    assert page.value("analytics_database") is None  # new PostHog no longer sends it
    keys = [m.key for m in page.metrics]
    assert len(keys) == len(set(keys)) == 35


def test_repeated_unknown_keys_stay_apart_and_rows_without_key_or_metric_are_counted():
    page = status_from_api(
        {
            "results": {
                "overview": [
                    {"key": "future_thing", "metric": "A future row", "value": 1},
                    {"key": "future_thing", "metric": "Another future row", "value": 2},
                    {"metric": "Redis alive", "value": True},
                    {"key": "only_a_key", "value": "x"},
                    {"value": "orphan"},
                    "not a row",
                    7,
                    {"key": "plugin_sever_alive", "metric": "Plugin server alive", "value": True},
                    {"key": "db_alive", "metric": "Postgres database alive", "value": True},
                ]
            }
        }
    )
    assert [m.key for m in page.metrics] == [
        "future_thing",
        "future_thing_2",
        "redis_alive",
        "only_a_key",
        "plugin_server_alive",
        "db_alive",
    ]
    assert page.metric("only_a_key").label == "only_a_key"
    assert page.value("future_thing_2") == 2
    assert page.problems == ["3 row(s) had neither a metric nor a key and were ignored"]


@pytest.mark.parametrize(
    "body, words",
    [
        ({"detail": "Authentication credentials were not provided."}, "holds no System Status rows"),
        ({"results": {"overview": []}}, "no System Status rows found"),
        ("just a string", "holds no System Status rows"),
    ],
)
def test_json_that_is_not_a_status_page_says_so(body, words):
    page = status_from_api(body)
    assert page.metrics == [] and words in page.problems[0]


def test_response_cut_short_is_salvaged_row_by_row():
    text = fixture("api_new_degraded.json")
    cut = text[: text.index('"key": "last_event_ingested_timestamp"') + 20]
    page = parse_status(cut)
    assert page.source == "json"
    assert page.value("plugin_server_alive") is False and page.value("clickhouse_disk_1_total_space") == "196.73 GiB"
    assert page.metric("clickhouse_table_sizes").subrows.rows[0][0] == "sharded_events"
    assert page.metric("redis_alive") is None
    assert any("not complete (cut short?)" in p for p in page.problems)
    assert any("Redis alive" in p for p in page.problems)  # a row every PostHog sends is missing


# --- pasted pages ---


@pytest.mark.parametrize("name", DEGRADED_PASTES)
def test_every_paste_shape_reads_the_same_values_as_the_api(name):
    api = parse_status(fixture("api_new_degraded.json"))
    pasted = parse_status(fixture(name))
    assert pasted.source == "text"
    assert values(pasted) == values(api)
    assert findings(pasted) == findings(api)


def test_expanded_sub_table_is_read_from_a_tab_separated_paste_and_from_one_cell_per_line():
    for name in ("paste_new_degraded_chrome.txt", "paste_new_degraded_firefox.txt"):
        sizes = parse_status(fixture(name)).metric("clickhouse_table_sizes").subrows
        assert sizes.rows == [
            ["sharded_events", "812.44 MiB", 1523774],
            ["events_dead_letter_queue", "96.01 MiB", 51234],
            ["person_distinct_id2", "21.18 MiB", 301122],
        ], name


def test_page_chrome_is_skipped_but_chat_noise_is_reported():
    assert parse_status(fixture("paste_new_degraded_chrome.txt")).problems == []
    slack = parse_status(fixture("paste_new_degraded_slack.txt"))
    assert slack.problems == ["1 line(s) were not understood and were ignored, e.g. 'here is our system status page:'"]


def test_old_postgres_page_pasted_as_markdown_matches_its_api_response():
    pasted = parse_status(fixture("paste_old_postgres.md"))
    api = parse_status(fixture("api_old_postgres.json"))
    assert values(pasted) == values(api)
    assert findings(pasted) == findings(api)
    assert pasted.value("analytics_database") == "Postgres"


def test_garbled_paste_gives_what_it_can_and_says_what_is_missing():
    page = parse_status(fixture("paste_garbled.txt"))
    assert page.value("plugin_server_alive") is False and page.value("clickhouse_event_count") == 1523774
    assert page.metric("clickhouse_disk_0_total_space") is None
    assert page.problems[0].startswith("4 line(s) were not understood and were ignored")
    assert "rows every PostHog sends are missing (Redis alive)" in page.problems[1]
    assert ("plugin_server_alive", "fail") in [(f[0], f[1]) for f in findings(page)]
    assert not [f for f in findings(page) if f[0].startswith("clickhouse_disk")]  # no verdict on half a disk


def test_single_space_separated_lines_use_the_longest_known_label():
    page = parse_status(
        "Session recordings events month to date 12\nSession recordings month to date 3\n"
        "Redis 'maxmemory-policy' setting noeviction\nClickhouse disk 2 free space 1.5 GiB"
    )
    assert values(page) == {
        "clickhouse_session_recordings_events_count_month_to_date": 12,
        "clickhouse_session_recordings_count_month_to_date": 3,
        "redis_maxmemory_policy": "noeviction",
        "clickhouse_disk_2_free_space": "1.5 GiB",
    }


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "the page is empty"),
        ("   \n\t\n", "the page is empty"),
        ("hello\nthere", "2 line(s) were not understood"),
        ("{not json at all", "no System Status rows found"),
    ],
)
def test_nothing_readable_gives_an_empty_page_with_the_reason(text, problem):
    page = parse_status(text)
    assert isinstance(page, StatusPage) and page.metrics == []
    assert any(problem in p for p in page.problems), page.problems


# --- values and findings ---


@pytest.mark.parametrize(
    "text, size",
    [
        ("45.23 GiB", 45.23 * 1024**3),
        ("1.05MB", 1.05 * 1024**2),
        ("200.00MB", 200 * 1024**2),
        ("7.77GB", 7.77 * 1024**3),
        ("0BB", 0.0),
        ("512 bytes", 512.0),
        ("?B", None),
        ("soon", None),
        (None, None),
        (1024, 1024.0),
    ],
)
def test_sizes_as_posthog_formats_them(text, size):
    assert parse_size(text) == (pytest.approx(size) if size is not None else None)


@pytest.mark.parametrize(
    "text, age, never",
    [
        ("a few seconds ago", 5.0, False),
        ("a minute ago", 60.0, False),
        ("3 minutes ago", 180.0, False),
        ("an hour ago", 3600.0, False),
        ("2 days ago", 172800.0, False),
        ("in 2 minutes", -120.0, False),
        ("Never", None, True),
        ("1970-01-01T00:00:00Z", None, True),
        ("2026-11-27T08:57:00Z", 180.0, False),
        ("2026-11-27T08:57:00", 180.0, False),
        ("last tuesday", None, False),
        ("3 minutes", None, False),
    ],
)
def test_ages_from_timestamps_and_from_the_pages_relative_times(text, age, never):
    assert parse_age(text, NOW) == (age, never)


def test_the_epoch_shown_in_a_non_utc_browser_is_never():
    # The page compares with a local-time epoch, so outside UTC it shows "56 years ago" instead of "Never".
    assert parse_age(f"{NOW.year - 1970} years ago", NOW) == (None, True)
    assert parse_age("3 years ago", NOW)[1] is False


def test_same_last_ingestion_time_gives_the_same_finding_from_api_and_paste():
    api = status_from_api(
        [
            {
                "key": "last_event_ingested_timestamp",
                "metric": "Last event ingested",
                "value": (NOW - timedelta(minutes=3)).isoformat(),
            }
        ]
    )
    pasted = parse_status("Last event ingested\t3 minutes ago")
    assert findings(api) == findings(pasted) == [("last_event_ingested", "ok", "last event ingested 3 min ago")]
    late = parse_status("Last event ingested\tan hour ago")
    assert findings(late)[0][1] == "warn" and "more than 30 min" in findings(late)[0][2]


def test_thresholds_move_the_verdicts():
    page = parse_status(
        "Clickhouse disk free space\t15 GiB\nClickhouse disk total space\t100 GiB\n"
        "Redis memory used\t95MB\nRedis 'maxmemory' setting\t100MB\n"
        "Redis 'maxmemory-policy' setting\tnoeviction"
    )
    by_id = {f.key: f for f in evaluate(page, Thresholds(), NOW)}
    assert by_id["clickhouse_disk_0"].status == "warn" and "(15%)" in by_id["clickhouse_disk_0"].text
    assert by_id["redis_memory"].status == "fail"  # noeviction: writes fail when full
    relaxed = {
        f.key: f.status for f in evaluate(page, Thresholds(disk_warn_free_pct=10, redis_memory_warn_pct=99), NOW)
    }
    assert relaxed["clickhouse_disk_0"] == "ok" and relaxed["redis_memory"] == "ok"


def test_no_maxmemory_limit_is_reported_not_judged():
    page = parse_status("Redis memory used\t1.05MB\nRedis 'maxmemory' setting\t0BB")
    assert findings(page) == [("redis_memory", "ok", "Redis uses 1.1 MiB with no maxmemory limit")]


def test_normalise_by_kind():
    assert normalise("bool", "YES") is True and normalise("bool", "no") is False
    assert normalise("int", "1,523,774") == 1523774 and normalise("int", "N/A") is None
    assert normalise("text", 12) == "12" and normalise("table", "Unknown") is None
    assert normalise(None, "maybe") == "maybe" and normalise(None, "Unknown") is None


def test_every_label_in_the_data_resolves_to_its_own_key():
    for spec in catalog().specs:
        for label in spec.labels:
            assert catalog().from_label(label)[0] == spec.key
            assert parse_status(f"{label}\t1").metrics[0].key == spec.key


# --- fuzzing: the parser never raises and always returns a page ---

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.sampled_from(["key", "metric", "value", "subrows", "columns", "rows", "results", "overview", "x"]),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)
LABELS = [label for spec in catalog().specs for label in spec.labels] + ["Metric", "Value", "TABLE", "Unknown"]
PAGE_LINES = st.lists(
    st.tuples(
        st.sampled_from(LABELS) | st.text(max_size=15),
        st.sampled_from(["\t", " ", "  ", " | ", "\n", ""]),
        st.sampled_from(
            [
                "Yes",
                "NO",
                "1,234",
                "45 GiB",
                "Never",
                "3 minutes ago",
                "",
                "9" * 400,
                "9" * 400 + " years ago",
                "9" * 400 + " GiB",
                "9999-12-31T23:59:59Z",
                "Infinity",
            ]
        )
        | st.text(max_size=10),
    ),
    max_size=40,
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_without_a_bug(page: StatusPage) -> StatusPage:
    """The page, checked not to come from the parser's last-resort handler (which would hide a bug)."""
    assert isinstance(page, StatusPage)
    assert not any(p.startswith("could not read the") for p in page.problems), page.problems
    json.dumps(page.to_dict(), allow_nan=False)  # what parse-status prints is valid JSON: no NaN, no Infinity
    return page


@FUZZ
@given(st.text(max_size=2000))
def test_fuzz_any_text(text):
    read_without_a_bug(parse_status(text))


@FUZZ
@given(JSON_VALUES)
def test_fuzz_any_json(body):
    read_without_a_bug(status_from_api(body))
    read_without_a_bug(parse_status(json.dumps(body)))


@FUZZ
@given(PAGE_LINES)
def test_fuzz_page_like_text(lines):
    page = read_without_a_bug(parse_status("\n".join(f"{a}{sep}{b}" for a, sep, b in lines)))
    assert len({m.key for m in page.metrics}) == len(page.metrics)
    evaluate(page, Thresholds(), NOW)  # the findings never raise either


@FUZZ
@given(
    st.sampled_from(["api_new_degraded.json", "paste_new_degraded_chrome.txt", "paste_new_degraded_firefox.txt"]),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.text(max_size=30),
)
def test_fuzz_damaged_fixtures(name, start, length, inserted):
    text = fixture(name)
    start = start % (len(text) + 1)
    page = read_without_a_bug(parse_status(text[:start] + inserted + text[start + length :]))
    evaluate(page, Thresholds(), NOW)


def test_huge_and_non_finite_values_are_kept_as_text_not_judged():
    page = read_without_a_bug(
        parse_status(
            f"Events in ClickHouse\t{'9' * 400}\nLast event ingested\t{'9' * 400} years ago\n"
            f"Clickhouse disk free space\t{'9' * 400} GiB\nClickhouse disk total space\t1 GiB"
        )
    )
    assert page.value("clickhouse_event_count") == "9" * 400
    summaries = dict((f[0], f[2]) for f in findings(page))
    assert summaries["last_event_ingested"].endswith("could not be read as a time")
    assert summaries["clickhouse_disk_0"].endswith("free of '1 GiB' could not be read")
    api = read_without_a_bug(
        parse_status(
            '[{"key": "dead_letter_queue_size", "metric": "Dead letter queue size", '
            '"value": NaN, "subrows": {"columns": ["x"], "rows": [[Infinity]]}}]'
        )
    )
    assert api.value("dead_letter_queue_size") == "NaN" and api.metrics[0].subrows.rows == [["Infinity"]]


def test_last_ingestion_far_in_the_future_points_at_clocks():
    assert (
        findings(parse_status("Last event ingested\t2026-11-28T09:00:00Z"))[0][2]
        == "last event ingested 24 h in the future: the clocks of ClickHouse and this machine differ, so its age "
        "cannot be judged"
    )


def test_an_enormous_paste_is_cut_at_a_bound_and_says_so():
    started = time.monotonic()
    page = read_without_a_bug(parse_status("Redis alive\tYes\n" + "some row\tsome value\n" * 100_000))
    assert time.monotonic() - started < 10
    assert len(page.metrics) == 2000 and page.metrics[-1].key == "some_row_1999"
    assert page.problems[:2] == [
        "only the first 50,000 of 100,001 lines were read",
        "only the first 2,000 rows were read; 48,000 more were left out",
    ]


def test_deeply_nested_json_does_not_raise():
    read_without_a_bug(parse_status("[" * 100_000 + "]" * 100_000))
    read_without_a_bug(parse_status('{"results": ' * 5000 + "1" + "}" * 5000))


# Audit row 18 (/work/shared/posthog-generations.md).
def test_the_newest_object_storage_probe_row_has_a_key_of_its_own():
    # {"key": "object_storage", "metric": "Object Storage", "value": "error: ..."} beside "Object Storage enabled".
    rows = [
        {"key": "object_storage", "metric": "Object Storage enabled", "value": True},
        {"key": "object_storage", "metric": "Object Storage", "value": "error: RuntimeError: boom"},
    ]
    page = status_from_api({"results": {"overview": rows}})
    assert page.value("object_storage_enabled") is True
    assert page.value("object_storage_probe") == "error: RuntimeError: boom"
    pasted = parse_status("Object Storage enabled\tYes\nObject Storage\terror: RuntimeError: boom\n")
    assert pasted.value("object_storage_probe") == "error: RuntimeError: boom"
