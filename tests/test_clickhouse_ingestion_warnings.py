"""clickhouse.ingestion_warnings on ClickHouse 18.16 and chdb, against PostHog's ingestion_warnings table.

Planted (2025 schema of tests/clickhouse_generations.py): a data-losing type of two teams, one still happening;
noise types that lose nothing; a type this doctor does not know; a type seen only 3 days ago; rows 9 days ago
(outside the context). Details hold distinct ids and e-mails, which must not reach the report.
"""

from __future__ import annotations

import pytest

from posthog_doctor.checks.clickhouse.ingestion_warnings.types import EFFECTS, TYPES, load_types
from tests import clickhouse_generations as gens
from tests.clickhouse_support import DAY, ENGINES, HOUR, make_deployment, run_doctor, table_rows, values

CHECK = "clickhouse.ingestion_warnings"
PERSONAL = 'concat(\'{"eventUuid":"\', toString(generateUUIDv4()), \'","distinctId":"someone@example.com"}\')'


def seed(dep):
    gens.create(dep, "2025")
    gens.plant_warnings(dep, 12, type_="message_size_too_large", details_sql=PERSONAL, age=600, team="1")
    gens.plant_warnings(dep, 5, type_="message_size_too_large", details_sql=PERSONAL, age=5 * HOUR, team="7")
    gens.plant_warnings(
        dep,
        4,
        type_="ignored_invalid_timestamp",
        details_sql='concat(\'{"eventUuid":"x","field":"sent_at","value":"someone@example.com",\', '
        '\'"reason":"out of bounds"}\')',
        age=2 * HOUR,
    )
    gens.plant_warnings(dep, 2, type_="a_type_from_the_future", details_sql="'{\"n\":1}'", age=3 * HOUR)
    gens.plant_warnings(dep, 6, type_="event_dropped_too_old", details_sql="'{}'", age=3 * DAY)
    gens.plant_warnings(dep, 9, type_="message_size_too_large", details_sql=PERSONAL, age=9 * DAY)


@pytest.fixture(scope="module", params=ENGINES)
def runs(request, tmp_path_factory):
    dep = make_deployment(request, "iwarn")
    seed(dep)
    quiet = make_deployment(request, "iwarn_quiet")
    gens.create(quiet, "2025")
    gens.plant_benign_warnings(quiet, "2025")
    old = make_deployment(request, "iwarn_old")
    gens.create(old, "2021")
    out = tmp_path_factory.mktemp(f"iwarn-{request.param}")
    return {
        "default": run_doctor(dep, out / "default", "--only", CHECK),
        "payloads": run_doctor(dep, out / "payloads", "--only", CHECK, "--include-payloads"),
        "budget": run_doctor(dep, out / "budget", "--only", CHECK, "-O", f"{CHECK}.max_rows_to_read=5"),
        "quiet": run_doctor(quiet, out / "quiet", "--only", CHECK),
        "old": run_doctor(old, out / "old", "--only", CHECK),
    }


def test_data_losing_types_warn_with_their_advice(runs):
    result = runs["default"].check(CHECK)
    assert result["status"] == "warn"
    assert result["summary"] == (
        "message_size_too_large: 17 rows in the last 24 h (2 teams; at most one row per team an hour): data dropped"
    )
    assert result["advice"][0]["text"].startswith("message_size_too_large (Discarded event exceeding 1MB limit)")
    assert result["advice"][0]["links"] == [
        "https://posthog.com/docs/data/ingestion-warnings#discarded-event-exceeding-1mb-limit"
    ]
    assert result["metrics"] == {
        "ingestion_warning_rows": 23,
        "ingestion_warning_types": 3,
        "ingestion_warning_loss_rows": 17,
    }


def test_every_type_is_digested_by_type_and_team(runs):
    result = runs["default"].check(CHECK)
    types = {r["Type"]: r for r in table_rows(result, "Warning types, last 24 h")}
    assert set(types) == {"message_size_too_large", "ignored_invalid_timestamp", "a_type_from_the_future"}
    size = types["message_size_too_large"]
    assert (size["Effect"], size["Rows"], size["Rows in the last hour"], size["Teams"]) == ("dropped", 17, 12, 2)
    assert types["ignored_invalid_timestamp"]["Effect"] == "modified"
    assert types["a_type_from_the_future"]["Effect"] == "unknown"
    assert types["a_type_from_the_future"]["Meaning"] == "a warning type this doctor does not know"
    teams = {(r["Type"], r["Team"]): r["Rows"] for r in table_rows(result, "Rows per team")}
    assert teams[("message_size_too_large", 1)] == 12 and teams[("message_size_too_large", 7)] == 5
    earlier = table_rows(result, "Types seen earlier")
    assert [(r["Type"], r["Rows"]) for r in earlier] == [("event_dropped_too_old", 6)]
    figures = values(result, "Ingestion warnings")
    assert (figures["window_rows"], figures["context_rows"], figures["loss_rows"]) == (23, 29, 17)
    assert (
        "Rows are warnings, not events"
        in next(e for e in result["evidence"] if e["title"] == "Ingestion warnings")["note"]
    )


def test_details_are_masked_except_what_names_no_person(runs):
    result = runs["default"].check(CHECK)
    types = {r["Type"]: r for r in table_rows(result, "Warning types, last 24 h")}
    assert types["ignored_invalid_timestamp"]["Example details"] == (
        '{"eventUuid": "<str>", "field": "sent_at", "value": "<str>", "reason": "out of bounds"}'
    )
    assert types["message_size_too_large"]["Example details"] == '{"eventUuid": "<str>", "distinctId": "<str>"}'
    assert "someone@example.com" not in runs["default"].text("json") + runs["default"].text("md")
    revealed = {r["Type"]: r for r in table_rows(runs["payloads"].check(CHECK), "Warning types, last 24 h")}
    assert '"field":"sent_at"' in revealed["ignored_invalid_timestamp"]["Example details"]
    assert "someone@example.com" not in runs["payloads"].text("json")  # redaction still removes e-mails


def test_a_read_budget_marks_the_digest_partial(runs):
    result = runs["budget"].check(CHECK)
    assert result["partial"] is True and "budget 5" in result["summary"]


def test_noise_only_is_ok_and_an_old_posthog_is_skipped(runs):
    quiet = runs["quiet"].check(CHECK)
    assert quiet["status"] == "ok"
    assert quiet["summary"] == (
        "3 ingestion warning rows in the last 24 h, none of a type that loses data (cannot_merge_already_identified)"
    )
    old = runs["old"].check(CHECK)
    assert old["status"] == "skipped" and "0032_ingestion_warnings" in old["summary"]


def test_the_type_catalogue_is_complete_and_sourced():
    assert {"pipeline_step_dlq", "message_size_too_large", "event_dropped_too_old", "replay_timestamp_invalid"} <= set(
        TYPES
    )
    assert all(t.effect in EFFECTS and t.advice for t in TYPES.values())
    assert TYPES["pipeline_step_dlq"].sent == "always" and TYPES["pipeline_step_dlq"].effect == "dead_lettered"
    assert (
        TYPES["cannot_merge_already_identified"].sent == "hourly"
        and not TYPES["cannot_merge_already_identified"].loses_data
    )


def test_a_catalogue_with_a_bad_effect_is_refused(tmp_path):
    broken = tmp_path / "types.yaml"
    broken.write_text("types:\n  - {type: x, title: X, effect: lost, sent: hourly, advice: a}\n")
    with pytest.raises(ValueError, match="unknown effect"):
        load_types(broken)
