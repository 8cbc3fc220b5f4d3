"""ClickHouse's own migration record against the schema it describes.

PostHog records each applied ClickHouse migration in `infi_clickhouse_orm_migrations` (package
`ee.clickhouse.migrations` until 2022, `posthog.clickhouse.migrations` after), and its newest tool `ch_migrate`
records steps in `clickhouse_schema_migrations`. A migration recorded as applied whose table is missing will never
run again (migrate_clickhouse skips recorded ones); a table whose migration is not recorded makes migrate_clickhouse
run it again. Only metadata is read: the record tables and `system.tables`.
"""
