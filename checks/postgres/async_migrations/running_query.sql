SELECT query_id, elapsed, read_rows
-- Is a ClickHouse query of a running async migration still running? PostHog prefixes each operation's SQL with
-- the migration's current query id in a comment: `/* <id> */` (2021, posthog/async_migrations/utils.py), later
-- `/* async_migration:<id> */` (posthog/client.py, _annotate_tagged_query). Only query ids and counters are read,
-- never the query text; the doctor's own queries are left out.
FROM system.processes
WHERE position(query, %(marker)s) > 0
  AND query_id NOT LIKE 'posthog-doctor:%%'
LIMIT 10
