SELECT
    -- Which of the optional system tables this ClickHouse has (kafka_consumers: 23.8+; named_collections: 22.x+).
    name
FROM system.tables
WHERE database = 'system'
  AND name IN ('kafka_consumers', 'named_collections')
