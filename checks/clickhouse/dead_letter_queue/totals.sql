SELECT
    -- Exact totals, sent only when there were more causes than the digest returns (it returns up to 1,000).
    countIf(error_timestamp >= now() - %(window_seconds)s) AS window_events,
    count() AS context_events,
    countIf(error_timestamp >= now() - 86400) AS day_events,
    countIf(error_timestamp >= now() - 3600) AS hour_events
FROM events_dead_letter_queue
WHERE _timestamp >= now() - %(scan_seconds)s
  AND error_timestamp >= now() - %(context_seconds)s
LIMIT 1
