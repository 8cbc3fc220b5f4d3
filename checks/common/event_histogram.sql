WITH RECURSIVE
-- What the planner knows about posthog_event.timestamp: whether a histogram exists (without one,
-- time-range estimates are guesses) and the latest timestamp it has seen. Partitions are included.
tree AS (
    SELECT c.oid FROM pg_class c
    WHERE c.relname = 'posthog_event' AND c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)
  UNION ALL
    SELECT i.inhrelid FROM tree JOIN pg_inherits i ON i.inhparent = tree.oid
)
SELECT count(st.histogram_bounds) AS histograms,
       max((st.histogram_bounds::text::timestamptz[])[array_length(st.histogram_bounds::text::timestamptz[], 1)])
           AS histogram_last_timestamp
FROM tree
JOIN pg_class c ON c.oid = tree.oid
JOIN pg_stats st ON st.schemaname = c.relnamespace::regnamespace::text AND st.tablename = c.relname
                AND st.attname = 'timestamp'
