SELECT
    -- Every error code this server has counted since it started, local and remote summed, with the time and
    -- message of its last occurrence (system.errors with last_error_*: ClickHouse 21.x and later). The
    -- check keeps the codes and messages that matter for ingestion (error_families.yaml).
    code,
    any(name) AS name,
    sum(value) AS count,
    toUnixTimestamp(max(last_error_time)) AS last_time,
    argMax(last_error_message, last_error_time) AS last_message
FROM system.errors
GROUP BY code
ORDER BY last_time DESC
LIMIT 1000
