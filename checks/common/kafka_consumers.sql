SELECT
    -- The state of each Kafka consumer ClickHouse runs (23.8+; a system table: reading it consumes nothing).
    -- Read once per run for clickhouse.ingestion and kafka.clickhouse_tables (checks/common/kafka_consumers.py).
    table,
    consumer_id,
    length(assignments.topic) AS assigned_partitions,
    toUnixTimestamp(last_poll_time) AS last_poll,
    toUnixTimestamp(last_commit_time) AS last_commit,
    num_messages_read AS messages_read,
    is_currently_used AS in_use,
    length(exceptions.text) AS exceptions,
    toUnixTimestamp(arrayElement(exceptions.time, -1)) AS last_exception_at,
    substring(arrayElement(exceptions.text, -1), 1, 500) AS last_exception
FROM system.kafka_consumers
WHERE database = %(database)s
ORDER BY table, consumer_id
LIMIT 200
