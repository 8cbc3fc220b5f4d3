"""clickhouse.dead_letter_queue against planted dead-letter-queue rows, on ClickHouse 18.16 and on chdb.

The seeded deployment holds seven causes inside the 24-hour window (one with per-row ids in quotes, one
with numbers, one with uuids, an unknown location, a 200 kB error, a non-UTF-8 error, an old-style
location), more rows of the first cause 30 hours ago (context, not window) and 9 days ago (outside the
context), and 500 events ingested in the last day. Every count below is exact.
"""

from __future__ import annotations

import time

import pytest

from tests.clickhouse_support import DAY, ENGINES, HOUR, evidence, make_deployment, run_doctor, table_rows, values

CHECK = "clickhouse.dead_letter_queue"
POSTGRES_ERROR = (
    "concat('Unable to fetch team from Postgres. Error: OperationalError(\\'connection to server at "
    "\"10.0.0.', toString(modulo(number, 250)), '\", port 5432 failed: Connection refused\\')')"
)
A_PROPERTIES = '\'{"$browser": "Firefox", "email": "someone@example.com", "nested": {"plan": "pro", "seats": 3}}\''

# (location, normalised message, events in the 24 h window, teams, known cause title)
EXPECTED = [
    (
        "django_server_capture_endpoint",
        "Unable to fetch team from Postgres. Error: OperationalError('<value>')",
        120,
        3,
        "The capture endpoint could not read the project from Postgres",
    ),
    (
        "plugin_server_ingest_event:pluginsProcessEventStep",
        "Event ingestion failed. Error: timeout of <n>ms exceeded for plugin <n>",
        25,
        1,
        "An app (plugin) failed on these events",
    ),
    (
        "plugin_server_ingest_event:processPersonsStep",
        "Event ingestion failed. Error: Could not find person with uuid <uuid>",
        9,
        1,
        "Person processing failed",
    ),
    (
        "plugin_server_ingest_event",
        "ingestEvent failed. Error: Cannot read properties of undefined (reading '<value>')",
        5,
        1,
        "The plugin server dropped the events",
    ),
    ("ingestion_v9_future:someStep", "Mystery failure #<n>", 4, 1, "An error location this doctor does not know"),
]


def seed(dep):
    dep.create_posthog_schema()
    # A: one cause, 120 rows in the last hour (3 teams), 30 more 30 h ago, 6 more 9 days ago (outside).
    dep.plant_dlq(
        120,
        location="django_server_capture_endpoint",
        error=POSTGRES_ERROR,
        age=600,
        spread=60,
        team="1 + modulo(number, 3)",
        event="if(modulo(number, 4) = 0, '$identify', '$pageview')",
        properties=A_PROPERTIES,
    )
    dep.plant_dlq(30, location="django_server_capture_endpoint", error=POSTGRES_ERROR, age=30 * HOUR, spread=60)
    dep.plant_dlq(6, location="django_server_capture_endpoint", error=POSTGRES_ERROR, age=9 * DAY, spread=60)
    dep.plant_dlq(
        25,
        location="plugin_server_ingest_event:pluginsProcessEventStep",
        error="concat('Event ingestion failed. Error: timeout of ', toString(1000 + number), "
        "'ms exceeded for plugin ', toString(40 + number))",
        age=5 * HOUR,
        spread=600,
    )
    dep.plant_dlq(
        9,
        location="plugin_server_ingest_event:processPersonsStep",
        error="concat('Event ingestion failed. Error: Could not find person with uuid ', toString(generateUUIDv4()))",
        age=10 * HOUR,
        spread=600,
    )
    dep.plant_dlq(
        5,
        location="plugin_server_ingest_event",
        error="'ingestEvent failed. Error: Cannot read properties of undefined (reading \\'x\\')'",
        age=20 * HOUR,
        spread=600,
    )
    dep.plant_dlq(
        4,
        location="ingestion_v9_future:someStep",
        error="concat('Mystery failure #', toString(number))",
        age=90 * 60,
        spread=60,
    )
    # A 200 kB error with a 100 kB payload, and a non-UTF-8 error with a payload that is not JSON.
    dep.plant_dlq(
        2,
        location="plugin_server_ingest_event:prepareEventStep",
        error="concat('Event ingestion failed. Error: payload too large: ', "
        "arrayStringConcat(arrayMap(i -> 'x', range(200000))))",
        properties="concat('{\"big\": \"', arrayStringConcat(arrayMap(i -> 'y', range(100000))), '\", \"after\": 1}')",
        age=3 * HOUR,
    )
    dep.plant_dlq(
        3,
        location="plugin_server_ingest_event:normalizeEventStep",
        error="concat('Event ingestion failed. Error: invalid byte ', unhex('FFFE'), ' in property')",
        properties="unhex('FF00')",
        raw_payload="unhex('C328')",
        age=4 * HOUR,
    )
    # 500 events ingested over the last day (2 h to 22 h ago): the DLQ's share is 168 / 668.
    dep.plant_events(500, first_age=2 * HOUR, spacing=144)


@pytest.fixture(scope="module", params=ENGINES)
def seeded(request, tmp_path_factory):
    dep = make_deployment(request, "dlq")
    seed(dep)
    out = tmp_path_factory.mktemp(f"dlq-{dep.engine}")
    runs = {
        "default": run_doctor(dep, out / "default", "--only", CHECK),
        "narrow": run_doctor(
            dep,
            out / "narrow",
            "--only",
            CHECK,
            "--set",
            "clickhouse.dead_letter_queue.window=2h",
            "--include-payloads",
        ),
        "budget": run_doctor(dep, out / "budget", "--only", CHECK, "--option", f"{CHECK}.max_rows_to_read=50"),
        "capped": run_doctor(dep, out / "capped", "--only", CHECK, "--option", f"{CHECK}.max_causes=2"),
    }
    return dep, runs


def test_digest_names_each_planted_cause_with_its_exact_count(seeded):
    _, runs = seeded
    result = runs["default"].check(CHECK)
    rows = {r["Error location"]: r for r in table_rows(result, "Causes, last 24 h")}
    for location, message, events, teams, known in EXPECTED:
        row = rows[location]
        assert (row["Error"], row["Events"], row["Teams"], row["Known cause"]) == (message, events, teams, known)
    assert rows["django_server_capture_endpoint"]["Seen in the last hour"] == "yes"
    assert rows["django_server_capture_endpoint"]["Top events"] == "$pageview, $identify"
    assert rows["django_server_capture_endpoint"]["Share %"] == round(100 * 120 / 168, 1)
    assert all(r["Seen in the last hour"] == "no" for loc, r in rows.items() if loc != "django_server_capture_endpoint")
    assert len(rows) == 7


def test_huge_and_non_utf8_errors_are_one_cause_each_and_readable(seeded):
    _, runs = seeded
    rows = {r["Error location"]: r for r in table_rows(runs["default"].check(CHECK), "Causes, last 24 h")}
    huge = rows["plugin_server_ingest_event:prepareEventStep"]
    assert huge["Events"] == 2 and huge["Error"].startswith("Event ingestion failed. Error: payload too large: xxx")
    assert len(huge["Error"]) <= 300
    broken = rows["plugin_server_ingest_event:normalizeEventStep"]
    assert broken["Events"] == 3 and broken["Error"].startswith("Event ingestion failed. Error: invalid byte ")
    assert broken["Error"].endswith(" in property") and "\ufffd" in broken["Error"]


def test_totals_share_and_status(seeded):
    _, runs = seeded
    run = runs["default"]
    result = run.check(CHECK)
    assert result["status"] == "fail" and run.code == 2
    figures = values(result, "Dead letter queue")
    assert (figures["window_events"], figures["day_events"], figures["hour_events"], figures["context_events"]) == (
        168,
        168,
        120,
        198,
    )
    assert (figures["causes"], figures["events_last_day"]) == (7, 500)
    assert figures["dlq_share_pct"] == round(100 * 168 / 668, 1)
    assert result["metrics"] == {
        "dlq_events": 168,
        "dlq_share_pct": 25.1,
        "dlq_causes": 7,
        "dlq_causes_still_happening": 1,
    }
    assert result["summary"].startswith(
        "168 events went to the dead letter queue in the last 24 h (7 causes); 1 still happening"
    )
    assert "data-loss" in result["tags"]


def test_hourly_series_add_up_to_the_context(seeded):
    _, runs = seeded
    series = {e["title"]: e for e in runs["default"].check(CHECK)["evidence"] if e["type"] == "series"}
    everything = series["DLQ events per hour: All causes"]["points"]
    assert len(everything) == 7 * 24 + 1 and sum(p["value"] for p in everything) == 198
    first = next(e for title, e in series.items() if title.startswith("DLQ events per hour: Cause 1: Unable"))
    assert sum(p["value"] for p in first["points"]) == 150
    assert len(series) == 4  # all causes + the three largest


def test_advice_per_known_cause_kept_as_data(seeded):
    _, runs = seeded
    advice = [a["text"] for a in runs["default"].check(CHECK)["advice"]]
    assert advice[0].startswith("The DLQ holds 25.1% of the last 24 hours' events")
    assert advice[1].startswith(
        "The capture endpoint could not read the project from Postgres (120 events; django_server_capture_endpoint)."
    )
    assert "Postgres is reachable from the web pods" in advice[1]
    # The two payload causes share one piece of advice; the unknown location gets the generic one.
    assert any(
        a.startswith(
            "The events could not be normalised or prepared (5 events; "
            "plugin_server_ingest_event:normalizeEventStep, plugin_server_ingest_event:prepareEventStep)"
        )
        for a in advice
    )
    assert any(
        a.startswith("An error location this doctor does not know (4 events; ingestion_v9_future:someStep)")
        for a in advice
    )
    assert advice[-1].startswith("Events in the dead letter queue are not ingested again")
    assert len(advice) == 8


def test_examples_mask_values_but_keep_keys(seeded):
    _, runs = seeded
    run = runs["default"]
    examples = table_rows(run.check(CHECK), "Recent examples")
    first = [e for e in examples if e["Cause"] == 1]
    assert len(first) == 3
    assert all(
        e["Properties"] == '{"$browser": "<str>", "email": "<str>", "nested": {"plan": "<str>", "seats": "<num>"}}'
        for e in first
    )
    assert all(e["Distinct id"].startswith("<masked, ") for e in examples)
    assert all(1 <= sum(e["Cause"] == n for e in examples) <= 3 for n in range(1, 6))
    everything = run.text("json") + run.text("md") + run.text("html")
    assert "Firefox" not in everything and "someone@example.com" not in everything


def test_window_flag_and_include_payloads(seeded):
    _, runs = seeded
    result = runs["narrow"].check(CHECK)
    rows = table_rows(result, "Causes, last 2 h")
    assert [(r["Error location"], r["Events"]) for r in rows] == [
        ("django_server_capture_endpoint", 120),
        ("ingestion_v9_future:someStep", 4),
    ]
    assert values(result, "Dead letter queue")["context_events"] == 198
    examples = table_rows(result, "Recent examples")
    assert any('"$browser": "Firefox"' in e["Properties"] for e in examples)
    assert "someone@example.com" not in runs["narrow"].text("json")  # redaction still removes e-mails
    earlier = table_rows(result, "Causes seen earlier")
    assert sorted(r["Events"] for r in earlier) == [2, 3, 5, 9, 25]


def test_read_budget_marks_the_digest_partial(seeded):
    _, runs = seeded
    result = runs["budget"].check(CHECK)
    assert result["partial"] is True
    assert "budget 50" in result["summary"] and "at least" in result["summary"]
    assert "budget 50" in evidence(result, "Dead letter queue")["note"]


def test_more_causes_than_listed_are_still_counted_exactly(seeded):
    _, runs = seeded
    result = runs["capped"].check(CHECK)
    assert [r["Events"] for r in table_rows(result, "Causes, last 24 h")] == [120, 25]
    figures = values(result, "Dead letter queue")
    assert (figures["window_events"], figures["day_events"], figures["hour_events"], figures["context_events"]) == (
        168,
        168,
        120,
        198,
    )


def test_queries_sent_to_the_server_were_bounded_reads(seeded):
    dep, runs = seeded
    if dep.modern:  # the embedded engine keeps no query log: check every statement the check may send
        from posthog_doctor.checks.clickhouse.dead_letter_queue.check import DeadLetterQueue

        sent = [(q.text,) for q in DeadLetterQueue.queries]
    else:  # the real server's own record of what it was sent
        dep.execute("SYSTEM FLUSH LOGS")
        sent = dep.execute(
            f"SELECT query FROM system.query_log WHERE type = 2 AND query_id LIKE 'posthog-doctor:%:{CHECK}:%'"
        )
        assert len(sent) >= 4 * 3  # four runs, at least tables + digest + examples/profile each
    for (query,) in sent:
        assert query.lstrip().upper().startswith(("SELECT", "WITH")) and "LIMIT" in query


@pytest.fixture(scope="module", params=ENGINES)
def quiet(request, tmp_path_factory):
    """Three small deployments: a DLQ with an old cause only, an empty DLQ, and no DLQ table at all."""
    old, empty, missing = (make_deployment(request, name) for name in ("dlq_old", "dlq_empty", "dlq_missing"))
    old.create_posthog_schema()
    old.plant_dlq(
        10,
        location="plugin_server_ingest_event:createEventStep",
        error="'Event ingestion failed. Error: Broker: Message size too large'",
        age=6 * HOUR,
        spread=60,
    )
    old.plant_events(1000, first_age=HOUR, spacing=60)
    empty.create_posthog_schema()
    empty.plant_dlq(4, location="django_server_capture_endpoint", error="'x'", age=3 * DAY)
    missing.create_posthog_schema(dlq=False)
    out = tmp_path_factory.mktemp(f"dlq-quiet-{request.param}")
    runs = {
        name: run_doctor(dep, out / name, "--only", CHECK)
        for name, dep in (("old", old), ("empty", empty), ("missing", missing))
    }
    runs["bad window"] = run_doctor(
        empty, out / "bad", "--only", CHECK, "--set", "clickhouse.dead_letter_queue.window=soon"
    )
    return runs


def test_a_cause_that_stopped_with_a_low_share_warns(quiet):
    result = quiet["old"].check(CHECK)
    assert result["status"] == "warn"
    assert result["metrics"] == {
        "dlq_events": 10,
        "dlq_share_pct": round(100 * 10 / 1010, 1),
        "dlq_causes": 1,
        "dlq_causes_still_happening": 0,
    }
    assert "Writing the events to Kafka failed (10 events;" in result["advice"][0]["text"]


def test_an_empty_window_is_ok_and_says_what_came_before(quiet):
    result = quiet["empty"].check(CHECK)
    assert result["status"] == "ok"
    assert result["summary"] == "no events went to the dead letter queue in the last 24 h; 4 in the 7 d before"


def test_a_missing_dlq_table_is_skipped_with_the_reason(quiet):
    result = quiet["missing"].check(CHECK)
    assert result["status"] == "skipped"
    assert "no events_dead_letter_queue table" in result["summary"]


def test_a_bad_window_is_reported_not_guessed(quiet):
    result = quiet["bad window"].check(CHECK)
    assert result["status"] == "error"
    assert result["summary"] == (
        "option clickhouse.dead_letter_queue.window: 'soon' is not a duration: use e.g. 24h, 90m, 7d"
    )


@pytest.fixture
def large(request, tmp_path):
    dep = make_deployment(request, "dlq_large")
    dep.create_posthog_schema()
    dep.plant_dlq(
        100_000,
        location="plugin_server_ingest_event:processPersonsStep",
        error="'Event ingestion failed. Error: deadlock detected'",
        age=600,
        spread=3000,
    )
    return dep, run_doctor(dep, tmp_path / "large", "--only", CHECK)


@pytest.mark.parametrize("large", ["clickhouse-18.16"], indirect=True)  # the real server keeps a query log
def test_examples_are_fetched_through_the_primary_key(large):
    dep, run = large
    assert len(table_rows(run.check(CHECK), "Recent examples")) == 3
    run_id = run.report["run"]["id"]
    found: list = []
    for _ in range(50):  # the query log is written in the background: on a busy machine, a moment later
        dep.execute("SYSTEM FLUSH LOGS")
        found = dep.execute(
            "SELECT read_rows FROM system.query_log WHERE type = 2 AND query LIKE '%example_id%' "
            f"AND query_id LIKE 'posthog-doctor:{run_id}:{CHECK}:%'"
        )
        if found:
            break
        time.sleep(0.2)
    (read,) = found[0]
    assert read <= 3 * 2 * 512  # at most two granules of 512 rows per example, of 100,000 rows


# --- generations: rows without an error time, the Kafka dead letter queue, facts from other components ---------


@pytest.fixture(scope="module", params=ENGINES)
def generations(request, tmp_path_factory):
    """PostHog 1.30-1.31 capture rows (error_timestamp left at the epoch); a PostHog that wrote both the table and
    pipeline_step_dlq warnings for the same events, plus warnings for events only in Kafka; a 2025 PostHog without
    a DLQ table; and an empty 2023 PostHog that another component says dead-letters to Kafka."""
    from tests import clickhouse_generations as gens

    untimed = make_deployment(request, "dlq_untimed")
    gens.create(untimed, "2021")
    capture = "'Unable to fetch team from Postgres. Error: OperationalError(\\'timeout\\')'"
    for count, age in ((7, 600), (5, 30 * HOUR), (3, 9 * DAY)):
        gens.plant_dlq_rows(
            untimed, count, location="django_server_capture_endpoint", error=capture, age=age, error_time=False
        )
    gens.plant_events(untimed, "2021", 100, first_age=HOUR, spacing=60)

    both = make_deployment(request, "dlq_both")
    gens.create(both, "2025")
    gens.plant_dlq_rows(
        both,
        8,
        location="plugin_server_ingest_event:prepareEventStep",
        error="'Event ingestion failed. Error: bad'",
        age=2 * HOUR,
        spread=1,
    )
    # The same 8 events as warnings (sendEventToDLQ wrote both), and 4 more that only went to Kafka.
    both.execute(
        "INSERT INTO sharded_ingestion_warnings (team_id, source, type, details, timestamp, _timestamp, _offset, "
        "_partition) SELECT team_id, 'plugin-server', 'pipeline_step_dlq', concat('{\"distinctId\":\"', distinct_id, "
        '\'","eventUuid":"\', toString(event_uuid), \'","error":"bad","event":"$pageview",\', '
        '\'"step":"prepareEventStep"}\'), error_timestamp, _timestamp, 0, 0 FROM events_dead_letter_queue'
    )
    gens.plant_warnings(
        both,
        4,
        type_="pipeline_step_dlq",
        details_sql=gens.pipeline_step_dlq_details("transformEventStep", "'hog function failed'"),
        age=3 * HOUR,
    )

    no_table = make_deployment(request, "dlq_no_table")
    for statement in gens.schema(no_table, "2025"):
        if "dead_letter_queue" not in statement:
            no_table.execute(statement)

    told = make_deployment(request, "dlq_told")
    gens.create(told, "2023")

    out = tmp_path_factory.mktemp(f"dlq-gen-{request.param}")
    runs = {
        "untimed": run_doctor(untimed, out / "untimed", "--only", CHECK),
        "both": run_doctor(both, out / "both", "--only", CHECK),
        "no_table": run_doctor(no_table, out / "no_table", "--only", CHECK),
    }
    from posthog_doctor.checks.common import dead_letter_signals as seam

    fact = seam.DeadLetterFact("plugin server /_metrics", True, 12, "processPersonsStep: 12 since the process started")
    seam.register("test_fact", "clickhouse", lambda ctx: fact)
    try:
        runs["told"] = run_doctor(told, out / "told", "--only", CHECK)
    finally:
        seam.unregister("test_fact")
    runs["not_told"] = run_doctor(told, out / "not_told", "--only", CHECK)
    return runs


def test_capture_rows_without_an_error_time_are_counted_by_arrival(generations):
    """Audit row 35: 1.30-1.31 capture set `failure_timestamp`, so error_timestamp is the epoch."""
    result = generations["untimed"].check(CHECK)
    assert result["status"] == "fail", result["summary"]
    figures = values(result, "Dead letter queue")
    assert (figures["window_events"], figures["hour_events"], figures["context_events"]) == (7, 7, 12)
    assert figures["untimed_events"] == 12
    rows = table_rows(result, "Causes, last 24 h")
    assert [(r["Error location"], r["Events"], r["Known cause"]) for r in rows] == [
        ("django_server_capture_endpoint", 7, "The capture endpoint could not read the project from Postgres")
    ]
    assert all(e["Seen"] != "1970-01-01 00:00 UTC" and e["Team"] == 0 for e in table_rows(result, "Recent examples"))


def test_events_in_both_the_table_and_the_warnings_count_once(generations):
    result = generations["both"].check(CHECK)
    assert result["metrics"]["dlq_events"] == 12
    rows = {r["Error location"]: r for r in table_rows(result, "Causes, last 24 h")}
    assert rows["plugin_server_ingest_event:prepareEventStep"]["Events"] == 8
    assert rows["plugin_server_ingest_event:prepareEventStep"]["Recorded in"] == "DLQ table"
    kafka = rows["pipeline_step_dlq:transformEventStep"]
    assert (kafka["Events"], kafka["Recorded in"], kafka["Known cause"]) == (
        4,
        "ingestion warning",
        "A transformation failed on these events",
    )
    assert values(result, "Dead letter queue")["destination"] == (
        "the Kafka topic events_plugin_ingestion_dlq and the events_dead_letter_queue table"
    )
    seen = {r["Seen"] for r in table_rows(result, "Where failed events go")}
    assert "8 for events the DLQ table holds too (PostHog wrote both for a while)" in seen
    assert "4 for events the DLQ table does not hold" in seen


def test_without_a_dlq_table_the_warnings_are_read(generations):
    result = generations["no_table"].check(CHECK)
    assert result["status"] == "ok"
    assert result["summary"] == (
        "this PostHog dead-letters to the Kafka topic events_plugin_ingestion_dlq; an empty events_dead_letter_queue "
        "proves nothing, and no pipeline_step_dlq warning (one per dead-lettered event) arrived in the last 24 h"
    )


def test_facts_from_other_components_decide_the_generation(generations):
    told = generations["told"].check(CHECK)
    assert told["summary"].startswith("this PostHog dead-letters to the Kafka topic events_plugin_ingestion_dlq")
    signal = next(r for r in table_rows(told, "Where failed events go") if r["Signal"] == "plugin server /_metrics")
    assert signal == {
        "Signal": "plugin server /_metrics",
        "Seen": "12 dead-lettered; processPersonsStep: 12 since the process started",
        "Points to": "kafka",
    }
    # Without the fact, an empty 2023 PostHog says what it could not tell.
    not_told = generations["not_told"].check(CHECK)
    assert not_told["summary"].startswith(
        "no events went to the dead letter queue in the last 24 h, neither in the table nor as pipeline_step_dlq"
    )
    assert values(not_told, "Dead letter queue")["destination"] == "not known (see the signals)"
