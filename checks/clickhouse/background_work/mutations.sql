SELECT
    -- Mutations (ALTER ... UPDATE / DELETE) that have not finished, oldest first, with why the last attempt
    -- failed (latest_fail_*: newer ClickHouse; mutations_basic.sql is the variant for servers without them).
    database, table, mutation_id, command,
    toUnixTimestamp(create_time) AS created,
    parts_to_do,
    latest_failed_part,
    toUnixTimestamp(latest_fail_time) AS fail_time,
    latest_fail_reason
FROM system.mutations
WHERE is_done = 0
ORDER BY create_time
LIMIT 100
