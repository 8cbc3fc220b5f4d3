SELECT
    -- The Kafka-engine path that feeds `events`, from metadata only (a SELECT on a Kafka table would consume
    -- its messages). Only the materialized views' DDL is read, to find the table they write to.
    name,
    engine,
    dependencies_table AS dependents,
    if(engine = 'MaterializedView', substring(create_table_query, 1, 4000), '') AS view_query
FROM system.tables
WHERE database = %(database)s
  AND name IN ('kafka_events_json', 'events_json_mv', 'kafka_events', 'events_mv', 'writable_events')
ORDER BY name
LIMIT 20
