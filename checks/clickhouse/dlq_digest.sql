WITH
    -- The dead letter queue digested in one pass: one row per cause (error location + error message with ids,
    -- uuids, numbers and quoted values replaced), over the context period (7 days by default), with the counts
    -- for the window, the last 24 hours and the last hour, first and last seen, teams, top event names, events
    -- per hour, and the ids of up to three recent examples (the latest row of each of three random thirds).
    -- Only light columns are read; `_timestamp` (Kafka time, PostHog's minmax skip index) bounds the scan.
    toUnixTimestamp(now()) AS now_ts,
    toUnixTimestamp(error_timestamp) AS at,
    at >= now_ts - %(window_seconds)s AS in_window,
    modulo(cityHash64(toString(id)), 3) AS sample_slot,
    replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(
        substring(error, 1, 2000),
        '\\s+', ' '),
        '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>'),
        '"[^"]*"', '"<value>"'),
        '\'[^\']*\'', '\'<value>\''),
        '\\b[0-9]+(\\.[0-9]+)*', '<n>'),
        '\\b[A-Za-z_-]*[0-9][A-Za-z0-9_-]{5,}', '<id>') AS cause
SELECT
    error_location AS location,
    cause,
    countIf(in_window) AS window_events,
    count() AS context_events,
    countIf(at >= now_ts - 86400) AS day_events,
    countIf(at >= now_ts - 3600) AS hour_events,
    min(at) AS first_seen,
    max(at) AS last_seen,
    uniqExactIf(team_id, in_window) AS teams,
    topKIf(3)(event, in_window) AS top_events,
    sumMap([toUInt32(intDiv(at, 3600) * 3600)], [toUInt64(1)]) AS per_hour,
    toString(argMaxIf(id, at, sample_slot = 0)) AS example_1,
    toString(argMaxIf(id, at, sample_slot = 1)) AS example_2,
    toString(argMaxIf(id, at, sample_slot = 2)) AS example_3,
    any(now_ts) AS server_now
FROM events_dead_letter_queue
WHERE _timestamp >= now() - %(scan_seconds)s
  AND error_timestamp >= now() - %(context_seconds)s
GROUP BY location, cause
ORDER BY window_events DESC, context_events DESC, location, cause
LIMIT %(max_causes)s
