SELECT
    -- posthog_eventdefinition: whether it exists, its size on disk (a catalog lookup), whether it has last_seen_at
    -- (2021+) and the enforcement-mode column of 2025+ PostHog (whose definitions property-defs-rs writes).
    to_regclass('posthog_eventdefinition') IS NOT NULL AS present,
    coalesce(pg_relation_size(to_regclass('posthog_eventdefinition')), 0) AS table_bytes,
    EXISTS (
        SELECT 1 FROM pg_attribute
        WHERE attrelid = to_regclass('posthog_eventdefinition') AND attname = 'last_seen_at' AND NOT attisdropped
    ) AS has_last_seen,
    EXISTS (
        SELECT 1 FROM pg_attribute
        WHERE attrelid = to_regclass('posthog_eventdefinition')
          AND attname IN ('enforcement_mode', 'schema_enforcement_mode') AND NOT attisdropped
    ) AS has_enforcement_mode
