"""How many events a Postgres-backed PostHog stores and receives, against PostHog's documented limits.

"If they have a lot of volume and they're still on Postgres they should upgrade to ClickHouse", made
exact: events per month and per day, table and index sizes and the growth trend, all from catalog
statistics and planner estimates (the events table is never counted or scanned), judged against
docs/self-host/configure/scaling-posthog: fine below about 2M events a month, struggling from 2M, a
hard limit near 5M, and RAM for the whole events table (about 300 MB per 1M events).
"""
