"""Postgres checks: the database every PostHog keeps its metadata in, and, on Postgres-era deployments,
its events.

Everything here reads the catalog and the planner, never the events themselves: row counts come from
`pg_class`/`pg_stat_user_tables`, counts for time ranges from `EXPLAIN` estimates, and the only
statements that touch `posthog_event` are index-only lookups of its first and last timestamp, sent
after `EXPLAIN` has shown they cannot scan the table.
"""
