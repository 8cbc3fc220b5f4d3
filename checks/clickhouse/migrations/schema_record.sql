SELECT migration_number, any(migration_name) AS migration_name, step_index, host, toString(direction) AS direction,
       toUInt8(argMax(success, applied_at)) AS last_success, toUnixTimestamp(max(applied_at)) AS last_at,
       count() AS attempts
-- ch_migrate's step record (posthog/clickhouse/migration_tools/tracking.py). The advisory lock (step_index -999)
-- and schema-version (-2) rows are not steps.
FROM clickhouse_schema_migrations
WHERE step_index >= 0
GROUP BY migration_number, step_index, host, direction
ORDER BY migration_number, step_index, host
LIMIT 5000
