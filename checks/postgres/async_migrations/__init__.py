"""PostHog's async migrations: long data migrations run by a Celery worker, recorded in Postgres.

A failed, rolled back or stuck one blocks upgrades (`run_async_migrations --check` exits 1), and one marked
complete by hand hides a data change that never happened. The rows (`posthog_asyncmigration`) and their errors
(`posthog_asyncmigrationerror` since Django migration 0198 of 2022-01-20; a `last_error` column before it) say
which one, since when, and why.
"""
