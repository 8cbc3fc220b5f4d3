"""ClickHouse's own log tables (system.query_log, trace_log, metric_log, part_log, ...): their size, growth and
TTL. A log table without a TTL grows until the disk is full: PostHog's bundled ClickHouse config
(docker/clickhouse/config.xml) enables query_log, trace_log, query_thread_log, part_log, metric_log (one row a
second) and asynchronous_metric_log with the TTL line commented out. An upgrade that changes a log's columns
renames the old table to `<name>_N` and never drops it.

Sizes and growth come from part metadata (system.parts: no scan); TTL from system.tables. 18.16 has only the
logs its config enables, and no TTL at all (added in 19.6).
"""
