SELECT
    -- Every async migration with its errors (2022+ layout). The tables hold one row per migration PostHog
    -- defines (about ten) and its recorded errors: small, read whole. Error texts are cut to 2,000 characters.
    m.name, m.status, m.progress, m.current_operation_index, m.current_query_id,
    extract(epoch FROM m.started_at)::float8 AS started_at,
    extract(epoch FROM m.finished_at)::float8 AS finished_at,
    m.posthog_min_version, m.posthog_max_version,
    (SELECT count(*) FROM posthog_asyncmigrationerror e WHERE e.async_migration_id = m.id) AS errors,
    (SELECT count(*) FROM posthog_asyncmigrationerror e
      WHERE e.async_migration_id = m.id AND e.created_at >= m.started_at) AS errors_in_last_run,
    last.created_at AS last_error_at,
    last.description AS last_error,
    extract(epoch FROM now())::float8 AS server_now
FROM posthog_asyncmigration m
LEFT JOIN LATERAL (
    SELECT extract(epoch FROM e.created_at)::float8 AS created_at, left(e.description, 2000) AS description
    FROM posthog_asyncmigrationerror e
    WHERE e.async_migration_id = m.id
    ORDER BY e.created_at DESC
    LIMIT 1
) last ON true
ORDER BY m.name
LIMIT 200
