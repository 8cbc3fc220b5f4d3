SELECT
    -- The system database's MergeTree tables (ClickHouse's own logs) and whether their definition has a TTL.
    name, engine, position(engine_full, ' TTL ') > 0 AS has_ttl
FROM system.tables
WHERE database = 'system' AND engine LIKE '%MergeTree%'
ORDER BY name
LIMIT 500
