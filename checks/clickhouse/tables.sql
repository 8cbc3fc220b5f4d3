SELECT
    -- PostHog's tables and views (metadata only).
    name, engine
FROM system.tables
WHERE database = %(database)s
ORDER BY name
LIMIT 5000
