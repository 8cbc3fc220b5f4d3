SELECT
    -- Replicated tables of PostHog's database: read-only replicas and replication backlog (clusters only).
    table,
    is_readonly,
    is_session_expired,
    queue_size,
    inserts_in_queue,
    merges_in_queue,
    absolute_delay,
    total_replicas,
    active_replicas
FROM system.replicas
WHERE database = %(database)s
ORDER BY is_readonly DESC, queue_size DESC, table
LIMIT 200
