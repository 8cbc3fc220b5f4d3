"""The pure parts of the ClickHouse checks: durations, day spreading, payload masking, the known-cause data,
month trends, and what `explain` prints. No server needed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posthog_doctor.check import Undetermined
from posthog_doctor.checks.clickhouse._common import parse_window
from posthog_doctor.checks.clickhouse._spread import spread_over_days
from posthog_doctor.checks.clickhouse.event_volume.check import EventVolume, month_trend
from posthog_doctor.checks.common.dead_letter_causes import CAUSES, cause_of, load_causes
from posthog_doctor.checks.common.payload import MAX_SHOWN, mask, show_payload, show_value

DAY = 86400
T0 = int(datetime(2024, 3, 10, tzinfo=UTC).timestamp())  # a midnight


@pytest.mark.parametrize("text", ["", "0h", "-1h", "soon", "24x", "1h30m"])
def test_bad_windows_name_the_option(text):
    with pytest.raises(Undetermined, match="clickhouse.dead_letter_queue.window"):
        parse_window(text, "clickhouse.dead_letter_queue.window")


def test_spreading_part_ranges_over_days():
    # One range of two whole days, one of six hours across midnight, one single-second part.
    ranges = [
        (T0, T0 + 2 * DAY - 1, 200),
        (T0 + 2 * DAY - 3 * 3600, T0 + 2 * DAY + 3 * 3600 - 1, 60),
        (T0 + 5, T0 + 5, 7),
    ]
    assert spread_over_days(ranges, T0, T0 + 3 * DAY) == {T0: 107.0, T0 + DAY: 130.0, T0 + 2 * DAY: 30.0}
    # Only the part of a range inside [since, until) counts.
    assert spread_over_days([(T0, T0 + 4 * DAY - 1, 400)], T0 + DAY, T0 + 2 * DAY) == {T0 + DAY: 100.0}
    assert spread_over_days([(T0 + 10, T0, 5), (T0, T0 + 10, 0)], T0, T0 + DAY) == {}


def test_masking_keeps_keys_and_types():
    payload = {
        "$browser": "Firefox",
        "seats": 3,
        "paid": True,
        "gone": None,
        "tags": ["a", "b", "c", "d"],
        "deep": {"a": {"b": {"c": {"d": {"e": 1}}}}},
    }
    assert mask(payload) == {
        "$browser": "<str>",
        "seats": "<num>",
        "paid": "<bool>",
        "gone": None,
        "tags": ["<str>", "<str>", "<str>", "<1 more items>"],
        "deep": {"a": {"b": {"c": {"d": "<…>"}}}},
    }
    assert show_payload(json.dumps({"k": "secret"}), 15, include_payloads=False) == '{"k": "<str>"}'
    assert show_payload(json.dumps({"k": "v"}), 10, include_payloads=True) == '{"k": "v"}'
    assert show_value("user-42", include_payloads=False) == "<masked, 7 chars>"


def test_payloads_too_large_or_broken_still_say_something_useful():
    cut = '{"big": "' + "y" * 20_000  # what the SQL's substring leaves of a 100 kB payload
    assert show_payload(cut, 100_012, include_payloads=False) == "<100,012 bytes, values masked; keys: big>"
    assert show_payload("\ufffd\x00", 2, include_payloads=False) == "<not JSON, 2 bytes, masked>"
    assert show_payload(cut, 100_012, include_payloads=True).endswith(" … [100,012 bytes in all]")
    nested = "[" * 100_000 + "]" * 100_000
    assert show_payload(nested, len(nested), include_payloads=False).startswith("<")


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=3000),
        st.binary(max_size=3000).map(lambda b: b.decode("utf-8", "replace")),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
        ).map(json.dumps),
    ),
    st.booleans(),
)
def test_payloads_never_raise_and_stay_short(text, include):
    shown = show_payload(text, len(text.encode()), include_payloads=include)
    assert isinstance(shown, str) and len(shown) <= MAX_SHOWN + 40


# PostHog's real DLQ strings (posthog/api/capture.py, plugin-server utils.ts and runner.ts) and the cause each gets.
@pytest.mark.parametrize(
    "location, error, cause",
    [
        (
            "django_server_capture_endpoint",
            "Unable to fetch team from Postgres. Error: Exception('<value>')",
            "capture_team_lookup",
        ),
        ("plugin_server_ingest_event:populateTeamDataStep", "Event ingestion failed. Error: boom", "plugin_team_step"),
        ("plugin_server_ingest_event:pluginsProcessEventStep", "Event ingestion failed. Error: x", "plugin_app_step"),
        ("plugin_server_ingest_event:runAsyncHandlersStep", "Event ingestion failed. Error: x", "plugin_app_step"),
        ("plugin_server_ingest_event:prepareEventStep", "Event ingestion failed. Error: x", "plugin_payload_step"),
        ("plugin_server_ingest_event:processPersonsStep", "Event ingestion failed. Error: x", "plugin_person_step"),
        ("plugin_server_ingest_event:createEventStep", "Event ingestion failed. Error: x", "plugin_emit_step"),
        ("plugin_server_ingest_event:emitToBufferStep", "Event ingestion failed. Error: x", "plugin_emit_step"),
        (
            "plugin_server_ingest_event",
            "ingestEvent failed. Error: connect ECONNREFUSED <n>:<n>",
            "dependency_unreachable",
        ),
        ("plugin_server_ingest_event", "ingestEvent failed. Error: x", "plugin_server_other"),
        # Steps the catalogue lacked (audit row 37), in the 2022-25 DLQ table and as 2025+ pipeline_step_dlq warnings.
        ("plugin_server_ingest_event:upsertPersonsStep", "Event ingestion failed. Error: x", "person_store_step"),
        ("pipeline_step_dlq:processPersonlessStep", "connection terminated", "person_store_step"),
        ("pipeline_step_dlq:prefetchPersonsStep", "x", "person_store_step"),
        ("plugin_server_ingest_event:updatePersonIfTouchedByPlugins", "x", "person_store_step"),
        ("pipeline_step_dlq:transformEventStep", "hog function failed", "transformation_step"),
        ("pipeline_step_dlq:dropOldEventsStep", "x", "drop_old_events_step"),
        ("plugin_server_ingest_event:cookielessServerHashStep", "Date is out of range", "cookieless_step"),
        ("plugin_server_ingest_event:produceExceptionSymbolificationEventStep", "x", "exception_symbolification_step"),
        ("pipeline_step_dlq:extractWebVitalsDataStep", "x", "web_vitals_step"),
        ("pipeline_step_dlq:processPersonsStep", "deadlock detected", "plugin_person_step"),
        ("pipeline_step_dlq:someFutureStep", "x", "kafka_dlq_other"),
        # 2022+ runners retry the outages they recognise; an unrecognised one still lands in the 2021 cause.
        ("pipeline_step_dlq:unknown", "connect ECONNREFUSED <n>:<n>", "kafka_dlq_other"),
        ("some_new_service", "anything", "unknown_location"),
        ("", "", "unknown_location"),
    ],
)
def test_known_causes(location, error, cause):
    assert cause_of(location, error, CAUSES).id == cause


def test_every_known_cause_links_to_posthog_docs():
    for cause in CAUSES:
        assert cause.docs and all(link.startswith("https://posthog.com/docs/") for link in cause.docs), cause.id
        assert cause.explanation and cause.next_step


def test_a_knowledge_file_without_a_fallback_is_refused(tmp_path):
    broken = tmp_path / "causes.yaml"
    broken.write_text("causes:\n  - {id: a, title: A, explanation: e, next_step: n, location: x}\n")
    with pytest.raises(ValueError, match="fallback"):
        load_causes(broken)


def test_month_trend():
    months = [
        {"partition": "202403", "stored_rows": 100},
        {"partition": "202402", "stored_rows": 1200},
        {"partition": "202401", "stored_rows": 1000},
        {"partition": "tuple()", "stored_rows": 5},
    ]
    now = T0 + 12 * 3600  # 2024-03-10 12:00, 9.5 days into a 31-day month
    assert month_trend(months, now) == {"growth_pct": 20.0, "projected": round(100 * 31 / 9.5)}
    assert month_trend([{"partition": "202403", "stored_rows": 10}], now) == {"projected": round(10 * 31 / 9.5)}


def test_too_many_parts_fails_at_the_throw_limit():
    months = [{"partition": "202403", "stored_rows": 1, "compressed_bytes": 1, "uncompressed_bytes": 1}]
    pressure = [{"table": "sharded_events", "partition": "202403", "parts": 300}]
    limits = {"parts_to_delay_insert": 150, "parts_to_throw_insert": 300}
    outcome = EventVolume._verdict(months, [], {}, pressure, limits, {"parts_warn_fraction": 0.8}, [])
    assert outcome.status.value == "fail"
    assert outcome.summary.startswith("sharded_events partition 202403 has 300 active parts, at ClickHouse's limit")
    pressure[0]["parts"] = 120
    assert (
        EventVolume._verdict(months, [], {}, pressure, limits, {"parts_warn_fraction": 0.8}, []).status.value == "warn"
    )
    pressure[0]["parts"] = 119
    assert EventVolume._verdict(months, [], {}, pressure, limits, {"parts_warn_fraction": 0.8}, []).status.value == "ok"


def test_explain_prints_only_bounded_read_queries(doctor):
    result = doctor("explain", "--only", "clickhouse", "--format", "json")
    assert result.code == 0
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    ours = [
        "clickhouse.dead_letter_queue",
        "clickhouse.ingestion",
        "clickhouse.event_volume",
        "clickhouse.disk",
        "clickhouse.schema",
    ]
    for check_id in ours:
        queries = checks[check_id]["queries"]
        assert queries, check_id
        for q in queries:
            text = q["text"]
            assert q["component"] == "clickhouse"
            assert re.match(r"^\s*(SELECT|WITH)\b", text), (check_id, q["name"])
            assert re.search(r"\bLIMIT\s+(\d+|%\(\w+\)s)\s*$", text), (check_id, q["name"])
            assert not re.search(r"\b(SETTINGS|FORMAT|INSERT|ALTER|DROP)\b", re.sub(r"--[^\n]*", "", text)), q["name"]
            assert not re.search(r"\bFROM\s+kafka_", text, re.I), q["name"]
    assert checks["clickhouse.dead_letter_queue"]["options"]["window"] == "24h"


def test_kafka_consumer_problems():
    """Verdicts on rows shaped like system.kafka_consumers (no broker runs in the test bed)."""
    from posthog_doctor.checks.clickhouse.ingestion.check import consumer_problems

    now = T0 + 10 * 3600

    def consumer(exceptions=0, last_exception_at=0, last_poll=now - 5, in_use=1):
        return {
            "table": "kafka_events_json",
            "consumer_id": "c1",
            "exceptions": exceptions,
            "in_use": in_use,
            "last_exception_at": last_exception_at,
            "last_exception": "Local: Broker transport failure",
            "last_poll": last_poll,
        }

    assert consumer_problems([consumer()], now, 3600) == []
    assert consumer_problems([consumer(exceptions=3, last_exception_at=now - 7200)], now, 3600) == []
    assert consumer_problems([consumer(exceptions=3, last_exception_at=now - 60, last_poll=now - 4000)], now, 3600) == [
        "kafka_events_json consumer c1 failed at 2024-03-10 09:59 UTC: Local: Broker transport failure",
        "kafka_events_json consumer c1 last polled Kafka at 2024-03-10 08:53 UTC",
    ]
    assert consumer_problems([consumer(last_poll=now - 4000, in_use=0)], now, 3600) == []


def test_dependency_outages_are_marked_as_mostly_a_2021_cause():
    """Audit row 38: the 2022+ event-pipeline runner retries DependencyUnavailableError instead of dead-lettering."""
    outage = next(c for c in CAUSES if c.id == "dependency_unreachable")
    assert "Mostly a 2021" in outage.explanation and "DependencyUnavailableError" in outage.explanation


def test_step_causes_come_before_the_generic_ones():
    ids = [c.id for c in CAUSES]
    for step in ("person_store_step", "transformation_step", "cookieless_step"):
        assert ids.index(step) < ids.index("plugin_server_other") < ids.index("kafka_dlq_other")
    assert ids[-1] == "unknown_location"
