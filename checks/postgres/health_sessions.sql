SELECT pid, usename AS "user", application_name, state, wait_event_type, wait_event,
       extract(epoch FROM now() - xact_start)::bigint   AS transaction_seconds,
       extract(epoch FROM now() - state_change)::bigint AS state_seconds,
       left(query, 200)                                 AS query
-- The oldest open transactions (the doctor's own excluded): they hold back VACUUM, and idle ones hold locks.
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND xact_start IS NOT NULL
  AND application_name IS DISTINCT FROM 'posthog-doctor'
ORDER BY xact_start
LIMIT 5
