SELECT
    -- ClickHouse's Kafka-engine tables, from metadata only (a SELECT on a Kafka table would consume its
    -- messages): the engine definition (broker list, topic, group, format) and the views that read them.
    name,
    engine_full,
    dependencies_table AS views
FROM system.tables
WHERE database = %(database)s
  AND engine = 'Kafka'
ORDER BY name
LIMIT 200
