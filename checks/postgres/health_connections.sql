SELECT count(*)                                                         AS connections,
       count(*) FILTER (WHERE state = 'active')                         AS active,
       count(*) FILTER (WHERE state = 'idle')                           AS idle,
       count(*) FILTER (WHERE state IN ('idle in transaction', 'idle in transaction (aborted)'))
                                                                        AS idle_in_transaction,
       max(extract(epoch FROM now() - state_change))
           FILTER (WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')
                     AND application_name IS DISTINCT FROM 'posthog-doctor')
                                                                        AS oldest_idle_in_transaction_seconds,
       max(extract(epoch FROM now() - xact_start))
           FILTER (WHERE application_name IS DISTINCT FROM 'posthog-doctor')
                                                                        AS oldest_transaction_seconds,
       count(*) FILTER (WHERE state IS NULL)                            AS not_visible,
       count(*) FILTER (WHERE datname = current_database())             AS on_this_database
-- Client sessions only: max_connections limits these, not background workers. Sessions of other roles
-- show no state or times unless this role has pg_read_all_stats (they are counted as not_visible).
FROM pg_stat_activity
WHERE backend_type = 'client backend'
