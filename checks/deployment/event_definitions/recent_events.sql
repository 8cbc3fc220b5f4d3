WITH toUnixTimestamp(now()) AS now_ts
SELECT team_id, event, count() AS events,
       toUnixTimestamp(min(_timestamp)) AS first_arrival,
       toUnixTimestamp(max(_timestamp)) AS last_arrival,
       any(now_ts) AS server_now
-- The busiest (team, event) pairs that arrived (Kafka `_timestamp`) in the last window, from one bounded scan of
-- the recent partitions (the `timestamp` bounds prune them, as in the ingestion check). Only names and counts.
-- `$$plugin_metrics` and names over 200 bytes never get a definition (property-defs-rs skips them).
FROM events
WHERE _timestamp >= now() - %(window_seconds)s
  AND timestamp >= now() - %(timestamp_window_seconds)s
  AND toDate(timestamp) >= toDate(now() - %(timestamp_window_seconds)s)
  AND event != '$$plugin_metrics'
  AND length(event) <= 200
GROUP BY team_id, event
ORDER BY events DESC
LIMIT %(max_events)s
