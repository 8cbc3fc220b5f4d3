SELECT database, name
-- PostHog's own ClickHouse tables, in whatever database they were created in (CLICKHOUSE_DATABASE).
FROM system.tables
WHERE name IN ('events', 'sharded_events', 'person', 'person_distinct_id', 'person_distinct_id2',
               'events_dead_letter_queue')
  AND database NOT IN ('system', 'information_schema', 'INFORMATION_SCHEMA')
ORDER BY database, name
