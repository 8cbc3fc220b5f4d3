WITH
    -- A row's time as the digest reads it: error_timestamp, or the arrival when 1.30-1.31 left it at the epoch.
    toUnixTimestamp(now()) AS now_ts,
    toUnixTimestamp(error_timestamp) AS error_at,
    if(error_at < 86400, toUnixTimestamp(_timestamp), error_at) AS at
SELECT
    -- Exact totals, sent only when there were more causes than the digest returns (it returns up to 1,000).
    countIf(at >= now_ts - %(window_seconds)s) AS window_events,
    count() AS context_events,
    countIf(at >= now_ts - 86400) AS day_events,
    countIf(at >= now_ts - 3600) AS hour_events,
    countIf(error_at < 86400) AS untimed
FROM events_dead_letter_queue
WHERE _timestamp >= now() - %(scan_seconds)s
  AND at >= now_ts - %(context_seconds)s
LIMIT 1
