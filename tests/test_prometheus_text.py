"""checks/common/prometheus.py: the Prometheus text format as prom-client writes it, and what it must survive."""

from __future__ import annotations

import math

from posthog_doctor.checks.common.prometheus import MAX_SAMPLES, parse_exposition

EXAMPLE = """# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1733990400

# HELP latest_processed_timestamp_ms Timestamp of the latest offset that has been committed.
# TYPE latest_processed_timestamp_ms gauge
latest_processed_timestamp_ms{topic="events_plugin_ingestion",partition="0",groupId="ingestion"} 1733994012345
latest_processed_timestamp_ms{topic="events_plugin_ingestion",partition="1",groupId="ingestion"} 1733994019999
latest_processed_timestamp_ms{topic="clickhouse_events_json",partition="0",groupId="async_handlers"} 1733999999999

# HELP events_pipeline_step_dlq_total Number of events that have been sent to DLQ in the step
# TYPE events_pipeline_step_dlq_total counter
events_pipeline_step_dlq_total{step_name="processPersonsStep"} 3
events_pipeline_step_dlq_total{step_name="processPersonsStep",ingestion_lane="main"} 2
events_pipeline_step_dlq_total{step_name="prepareEventStep"} 1
"""


def test_reads_prom_client_output():
    found = parse_exposition(EXAMPLE)
    assert found.value("process_start_time_seconds") == 1733990400
    assert found.maximum("latest_processed_timestamp_ms", topic="events_plugin_ingestion") == 1733994019999
    assert found.maximum("latest_processed_timestamp_ms") == 1733999999999
    assert found.by_label("events_pipeline_step_dlq_total", "step_name") == {
        "processPersonsStep": 5,
        "prepareEventStep": 1,
    }
    assert found.total("events_pipeline_step_dlq_total") == 6
    assert found.malformed == 0 and not found.cut


def test_keeps_only_the_metrics_asked_for():
    found = parse_exposition(EXAMPLE, wanted={"process_start_time_seconds"})
    assert [s.name for s in found.samples] == ["process_start_time_seconds"]
    assert found.value("events_pipeline_step_dlq_total") is None


def test_label_escapes_special_values_timestamps_and_odd_spacing():
    text = "\n".join(
        [
            r'm{path="C:\\dir",quote="say \"hi\"",nl="a\nb"} 1',
            "m_nan NaN",
            "m_inf +Inf",
            "m_ninf -Inf",
            "m_ts 4 1700000000000",
            'm_spaced { a = "1" , b="2", } 2.5e3',
            "m_empty{} 7",
        ]
    )
    found = parse_exposition(text)
    labels = found.named("m")[0].labels
    assert labels == {"path": "C:\\dir", "quote": 'say "hi"', "nl": "a\nb"}
    assert math.isnan(found.named("m_nan")[0].value) and found.value("m_nan") is None  # not finite: no value
    assert found.named("m_inf")[0].value == math.inf and found.named("m_ninf")[0].value == -math.inf
    assert found.value("m_ts") == 4
    assert found.named("m_spaced")[0].labels == {"a": "1", "b": "2"} and found.value("m_spaced") == 2500
    assert found.value("m_empty") == 7
    assert found.total("m_nan") is None


def test_malformed_lines_are_counted_and_skipped_never_raised():
    text = "\n".join(
        [
            "good 1",
            'broken{a="1" 2',
            "broken{a=1} 2",
            "no_value",
            "too many parts 1 2 3",
            "{} 4",
            "value notanumber",
            "\x00\x01garbage",
            "good 2",
        ]
    )
    found = parse_exposition(text)
    assert [s.value for s in found.named("good")] == [1, 2]
    assert found.malformed == 7


def test_bounded_in_samples_kept():
    text = "\n".join(f'x{{i="{i}"}} {i}' for i in range(MAX_SAMPLES + 10))
    found = parse_exposition(text)
    assert len(found.samples) == MAX_SAMPLES and found.cut


def test_html_is_not_an_exposition():
    found = parse_exposition("<html><body>502 Bad Gateway</body></html>")
    assert not found.samples and found.malformed == 1
