"""ClickHouse's own Kafka consumers (`system.kafka_consumers`, ClickHouse 23.8+), read once per run.

clickhouse.ingestion shows them beside the Kafka path into `events`, and kafka.clickhouse_tables weighs them
against the broker's view; both read the same rows, so the run asks ClickHouse once. A reader that fails
(no such table, a timeout) fails alike for both, and each check says so in its own words.
"""

from __future__ import annotations

from posthog_doctor.check import Context, Query

CONSUMERS = Query.from_file(__file__, "kafka_consumers.sql", "clickhouse", "kafka_consumers")


def clickhouse_kafka_consumers(ctx: Context) -> list[dict]:
    """Every Kafka consumer of the connection's database, in table order (at most 200)."""
    database = ctx.clickhouse.database
    return ctx.shared(
        f"clickhouse.kafka_consumers:{database}",
        lambda: ctx.clickhouse.query(CONSUMERS, {"database": database}).dicts(),
    )
