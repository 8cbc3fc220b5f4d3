SELECT
    -- Every async migration (2021 layout, before Django migration 0198): the last error is a column of the row,
    -- cleared when the migration starts again, so an error there belongs to its last run. No error times.
    m.name, m.status, m.progress, m.current_operation_index, m.current_query_id,
    extract(epoch FROM m.started_at)::float8 AS started_at,
    extract(epoch FROM m.finished_at)::float8 AS finished_at,
    m.posthog_min_version, m.posthog_max_version,
    CASE WHEN coalesce(m.last_error, '') <> '' THEN 1 ELSE 0 END AS errors,
    CASE WHEN coalesce(m.last_error, '') <> '' THEN 1 ELSE 0 END AS errors_in_last_run,
    NULL::float8 AS last_error_at,
    nullif(left(m.last_error, 2000), '') AS last_error,
    extract(epoch FROM now())::float8 AS server_now
FROM posthog_asyncmigration m
ORDER BY m.name
LIMIT 200
