"""ClickHouse's side of the hand-over, on ClickHouse 18.16 and chdb with real Kafka-engine tables, compared with
a real Kafka-protocol broker (tansu).

ClickHouse's own Kafka consumers are pointed at a closed port: a table with a materialized view starts
consuming, and it must not touch the test broker (on chdb that consumer's "brokers are down" error is what
system.kafka_consumers reports, which the check reads). The doctor compares the definitions with the broker
it is given, as it would when ClickHouse reaches Kafka under another name.
"""

from __future__ import annotations

import contextlib
import time

import pytest

from posthog_doctor.checks.kafka._engine import parse_kafka_engine
from tests.clickhouse_support import ENGINES, make_deployment, table_rows
from tests.conftest import CliResult, target
from tests.http_server import closed_port
from tests.kafka_support import Deployment

CHECK = "kafka.clickhouse_tables"
COLUMNS = "(uuid UUID, event String, properties String)"


def create(dep, sql: str) -> None:
    """chdb answers a Kafka table's CREATE with "Shutdown was called" once the table exists (its consumer
    starting up): the table is there, which the check's own query then shows."""
    try:
        dep.execute(sql)
    except Exception as exc:  # only that one answer is tolerated, and only on chdb
        if not (dep.modern and "Shutdown was called" in str(exc)):
            raise


def run(dep, out, *urls: str) -> CliResult:
    from posthog_doctor.cli import main

    kafka = dict(kafka=urls[0]) if urls else {}
    code = main(["run", *target(clickhouse=dep.url, **kafka), "--only", CHECK, "--quiet", "--output", str(out)])
    return CliResult(code, "", "", out)


@pytest.fixture(scope="module", params=ENGINES)
def handover(request, kafka_server, tmp_path_factory):
    kafka = Deployment(kafka_server, f"ch_{request.param.split('-')[0]}_")  # one prefix per engine
    kafka.topic("clickhouse_events_json", 2, 6)
    kafka.commit("group1", {("clickhouse_events_json", 0): 1, ("clickhouse_events_json", 1): 1})
    kafka.close()
    dep = make_deployment(request, "kafka_tables")
    t = kafka.t
    nowhere = f"127.0.0.1:{closed_port()}"
    if dep.modern:  # the newest PostHog DDL: a named collection holds the broker list
        with contextlib.suppress(Exception):  # one chdb per process: the collection may exist from a rerun
            dep.execute(f"CREATE NAMED COLLECTION msk_cluster AS kafka_broker_list = '{nowhere}'")
        engine = (
            f"Kafka(msk_cluster, kafka_topic_list = '{t('clickhouse_events_json')}', kafka_group_name = 'group1', "
            "kafka_format = 'JSONEachRow') SETTINGS kafka_skip_broken_messages = 100"
        )
    else:  # 2022-2024: the broker list in the engine's arguments
        engine = f"Kafka('{nowhere}', '{t('clickhouse_events_json')}', 'group1', 'JSONEachRow')"
        # 2021: every argument as a setting
        create(
            dep,
            f"CREATE TABLE kafka_events {COLUMNS} ENGINE = Kafka SETTINGS kafka_broker_list = '{nowhere}', "
            f"kafka_topic_list = '{t('clickhouse_events_proto')}', kafka_group_name = 'group1', "
            "kafka_format = 'Protobuf'",
        )
    create(dep, f"CREATE TABLE kafka_events_json {COLUMNS} ENGINE = {engine}")
    dep.execute(f"CREATE TABLE writable_events {COLUMNS} ENGINE = MergeTree ORDER BY uuid")
    dep.execute("CREATE MATERIALIZED VIEW events_json_mv TO writable_events AS SELECT * FROM kafka_events_json")
    create(
        dep,
        f"CREATE TABLE kafka_person {COLUMNS} ENGINE = Kafka('{nowhere}', '{t('clickhouse_person')}', 'group1', "
        "'JSONEachRow')",
    )  # no view reads it, and the broker has no such topic
    if dep.modern:  # wait for the consumer that cannot connect to say so
        stop_at = time.monotonic() + 20
        while time.monotonic() < stop_at and not int(
            dep.scalar("SELECT count() FROM system.kafka_consumers WHERE length(exceptions.text) > 0")
        ):
            time.sleep(0.2)
    out = tmp_path_factory.mktemp(f"kafka-tables-{request.param}")
    yield {
        "dep": dep,
        "t": t,
        "with_kafka": run(dep, out / "with", kafka.url),
        "without_kafka": run(dep, out / "without"),
    }
    dep.execute(f"DROP DATABASE IF EXISTS {dep.database}", in_database=False)  # stops ClickHouse's consumers


def check_of(result: CliResult) -> dict:
    return result.check(CHECK)


def test_the_definitions_are_read_and_compared_with_the_broker(handover):
    check = check_of(handover["with_kafka"])
    rows = {r["Table"]: r for r in table_rows(check, "ClickHouse's Kafka tables")}
    events = rows["kafka_events_json"]
    t = handover["t"]
    assert (events["Topics"], events["Group"], events["Format"]) == (
        t("clickhouse_events_json"),
        "group1",
        "JSONEachRow",
    )
    assert events["Read by"] == "events_json_mv"
    assert (events["Topic on the broker"], events["Group on the broker"], events["Messages behind"]) == (
        "yes",
        "yes",
        10,
    )
    if handover["dep"].modern:
        assert events["Brokers"] == "named collection msk_cluster"  # its values are [HIDDEN] to this user
    else:
        assert events["Brokers"].startswith("127.0.0.1:")
        old = rows["kafka_events"]  # the 2021 spelling: Kafka SETTINGS kafka_broker_list = ..., ...
        assert (old["Topics"], old["Group"], old["Format"], old["Read by"]) == (
            t("clickhouse_events_proto"),
            "group1",
            "Protobuf",
            "none",
        )
    person = rows["kafka_person"]
    assert (person["Read by"], person["Topic on the broker"]) == ("none", "no")
    keys = {f["key"]: f for f in check["findings"]}
    assert keys["no_view:kafka_person"]["text"] == (
        f"kafka_person has no materialized view reading it: it consumes nothing from {t('clickhouse_person')}"
    )
    assert keys[f"topic_missing:kafka_person:{t('clickhouse_person')}"]["status"] == "warn"
    assert not [k for k in keys if k.startswith(("no_view:kafka_events_json", "topic_missing:kafka_events_json"))]
    assert check["status"] == "warn"


def test_the_consumer_state_clickhouse_reports(handover):
    check = check_of(handover["with_kafka"])
    note = next(e for e in check["evidence"] if e["title"].startswith("ClickHouse's Kafka tables"))["note"]
    if handover["dep"].modern:
        consumers = table_rows(check, "ClickHouse's Kafka consumers")
        assert "kafka_events_json" in {c["Table"] for c in consumers}
        error = next(f for f in check["findings"] if f["key"] == "consumer_exception:kafka_events_json")
        assert "127.0.0.1" in error["text"]  # librdkafka: the broker it cannot connect to (or "brokers are down")
        assert "broker list of msk_cluster not shown to this user" in note
    else:
        assert "consumer state needs system.kafka_consumers (ClickHouse 23.8+; this is 18.16.1)" in note


def test_without_kafka_the_definitions_are_still_judged(handover):
    check = check_of(handover["without_kafka"])
    keys = {f["key"] for f in check["findings"]}
    assert "no_view:kafka_person" in keys and not any(k.startswith("topic_missing") for k in keys)
    note = next(e for e in check["evidence"] if e["title"].startswith("ClickHouse's Kafka tables"))["note"]
    assert "Kafka not compared: Kafka is disabled in the configuration" in note


@pytest.fixture(params=ENGINES)
def no_kafka_tables(request):
    return make_deployment(request, "kafka_none")


def test_no_kafka_table_means_nothing_to_compare(no_kafka_tables, tmp_path):
    result = run(no_kafka_tables, tmp_path / "none")
    assert check_of(result)["status"] == "skipped" and "no Kafka-engine table" in check_of(result)["summary"]


@pytest.mark.parametrize(
    "engine, expected",
    [
        (
            "Kafka('k1:9092,k2:9092', 'clickhouse_events_json', 'group1', 'JSONEachRow') "
            "SETTINGS kafka_skip_broken_messages = 100",
            (["k1:9092", "k2:9092"], "", ["clickhouse_events_json"], "group1", "JSONEachRow"),
        ),
        (
            "Kafka(msk_cluster, kafka_topic_list = 'clickhouse_events_json', kafka_group_name = 'group1_recent', "
            "kafka_format = 'JSONEachRow', kafka_sasl_password = 'hunter2') SETTINGS kafka_num_consumers = 2",
            ([], "msk_cluster", ["clickhouse_events_json"], "group1_recent", "JSONEachRow"),
        ),
        (
            "Kafka() SETTINGS kafka_broker_list = 'kafka', kafka_topic_list = 'a,b', kafka_group_name = 'group1', "
            "kafka_format = 'Protobuf', kafka_schema = 'events:Event'",
            (["kafka"], "", ["a", "b"], "group1", "Protobuf"),
        ),
    ],
)
def test_every_spelling_of_the_engine_across_generations(engine, expected):
    table = parse_kafka_engine("kafka_x", engine)
    assert (table.brokers, table.collection, table.topics, table.group, table.format) == expected
    assert not table.unreadable and "hunter2" not in repr(table)  # other settings are never kept
