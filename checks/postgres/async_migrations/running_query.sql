SELECT query_id, elapsed, read_rows
-- Is a ClickHouse query of a running async migration still running? PostHog prefixes each operation's SQL with
-- the migration's current query id as a comment (`/* <id> */`, posthog/async_migrations/utils.py). Only query ids
-- and counters are read, never the query text; the doctor's own queries are left out.
FROM system.processes
WHERE position(query, %(marker)s) > 0
  AND query_id NOT LIKE 'posthog-doctor:%%'
LIMIT 10
