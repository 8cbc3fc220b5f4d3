SELECT
    -- Which layout of PostHog's async-migration tables this database has (posthog/models/async_migration.py):
    -- none (before async migrations, or not PostHog's database), 2021 (errors in a last_error column), or
    -- 2022+ (errors in posthog_asyncmigrationerror, created by Django migration 0198_async_migration_error).
    to_regclass('posthog_asyncmigration') IS NOT NULL AS has_migrations,
    to_regclass('posthog_asyncmigrationerror') IS NOT NULL AS has_error_table,
    EXISTS (
        SELECT 1 FROM pg_attribute
        WHERE attrelid = to_regclass('posthog_asyncmigration') AND attname = 'last_error' AND NOT attisdropped
    ) AS has_last_error
