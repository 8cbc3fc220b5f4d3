WITH RECURSIVE
-- Size and row statistics of PostHog's event-scale tables, from the catalog only: no table is read.
-- A partitioned table (PostHog partitioned posthog_event for a while) is summed over its partitions.
tree AS (
    SELECT c.relname::text AS table_name, c.oid
    FROM pg_class c
    WHERE c.relname::text = ANY(%(tables)s::text[]) AND c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)
  UNION ALL
    SELECT tree.table_name, i.inhrelid FROM tree JOIN pg_inherits i ON i.inhparent = tree.oid
)
SELECT tree.table_name,
       bool_or(c.relkind = 'p')                                                 AS partitioned,
       count(*) FILTER (WHERE c.relkind = 'r')                                  AS heaps,
       sum(c.reltuples) FILTER (WHERE c.relkind = 'r' AND c.reltuples >= 0)     AS reltuples,
       coalesce(bool_or(c.relkind = 'r' AND c.reltuples < 0), false)           AS reltuples_unknown,
       sum(s.n_live_tup)                                                        AS live_rows,
       sum(s.n_dead_tup)                                                        AS dead_rows,
       sum(s.n_mod_since_analyze)                                               AS changed_since_analyze,
       min(GREATEST(s.last_analyze, s.last_autoanalyze)) FILTER (WHERE c.relkind = 'r') AS last_analyzed,
       sum(pg_table_size(c.oid))                                                AS table_bytes,
       sum(pg_indexes_size(c.oid))                                              AS index_bytes,
       sum(pg_total_relation_size(c.oid))                                       AS total_bytes,
       now()                                                                    AS now
FROM tree
JOIN pg_class c ON c.oid = tree.oid
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
GROUP BY tree.table_name
ORDER BY tree.table_name
