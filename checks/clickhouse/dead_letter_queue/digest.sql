SELECT
    -- The dead letter queue digested in one pass: one row per cause (error location + error message with ids,
    -- uuids, numbers and quoted values replaced), over the context period (7 days by default), with the counts
    -- for the window, the last 24 hours and the last hour, first and last seen, teams, top event names, events
    -- per hour, and the ids of up to three recent examples: of each third of the seconds, the row with the
    -- smallest id among the cause's rows of the last hour (else its latest row). The table is sorted by id, so
    -- those rows share the first granules of the newest parts, and fetching their payloads reads few granules.
    -- Only light columns are read; `_timestamp` (Kafka time, PostHog's minmax skip index) bounds the scan.
    -- A row's time is its error_timestamp, or its arrival (`_timestamp`) when error_timestamp is the epoch:
    -- PostHog 1.30-1.31's capture endpoint sent `failure_timestamp` instead, so ClickHouse stored 1970 there
    -- (posthog/api/capture.py of that era), and those rows (`untimed`) must be counted, not filtered out.
    -- `since` (Unix time) keeps a flood within the check's budget: the check plans it from totals.sql, which
    -- counts every row; 0 digests the whole context period.
    location, cause, window_events, context_events, day_events, hour_events, first_seen, last_seen, teams,
    top_events, untimed,
    -- Events per hour as (hour starts, counts): the last occurrence of each hour in the list of the rows' hours
    -- (where the reversed list enumerates it first) carries its count.
    (arrayMap(h -> h * 3600, arrayFilter((h, last) -> last = 1, hours,
                                         arrayReverse(arrayEnumerateUniq(arrayReverse(hours))) AS is_last)),
     arrayFilter((n, last) -> last = 1, arrayEnumerateUniq(hours), is_last)) AS per_hour,
    example_1, example_2, example_3, server_now
FROM (
    WITH
        toUnixTimestamp(now()) AS now_ts,
        toUnixTimestamp(error_timestamp) AS error_at,
        if(error_at < 86400, toUnixTimestamp(_timestamp), error_at) AS at,
        at >= now_ts - %(window_seconds)s AS in_window,
        modulo(at, 3) AS sample_slot,
        at >= now_ts - 3600 AS recent
    SELECT
        error_location AS location,
        -- `\s\s+|[\t\n\f\r]` turns every run of white space into one space like `\s+` would, without a
        -- replacement at each single space (which made this pass the costliest of the six).
        replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(
            substring(error, 1, 2000),
            '\\s\\s+|[\\t\\n\\f\\r]', ' '),
            '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>'),
            '"[^"]*"', '"<value>"'),
            '\'[^\']*\'', '\'<value>\''),
            '\\b[0-9]+(\\.[0-9]+)*', '<n>'),
            '\\b[A-Za-z_-]*[0-9][A-Za-z0-9_-]{5,}', '<id>') AS cause,
        countIf(in_window) AS window_events,
        count() AS context_events,
        countIf(at >= now_ts - 86400) AS day_events,
        countIf(at >= now_ts - 3600) AS hour_events,
        min(at) AS first_seen,
        max(at) AS last_seen,
        uniqExactIf(team_id, in_window) AS teams,
        topKIf(3)(event, in_window) AS top_events,
        countIf(error_at < 86400) AS untimed,
        groupArray(toUInt32(intDiv(at, 3600))) AS hours,
        toString(if(countIf(sample_slot = 0 AND recent) > 0, argMinIf(id, id, sample_slot = 0 AND recent),
                    argMaxIf(id, at, sample_slot = 0))) AS example_1,
        toString(if(countIf(sample_slot = 1 AND recent) > 0, argMinIf(id, id, sample_slot = 1 AND recent),
                    argMaxIf(id, at, sample_slot = 1))) AS example_2,
        toString(if(countIf(sample_slot = 2 AND recent) > 0, argMinIf(id, id, sample_slot = 2 AND recent),
                    argMaxIf(id, at, sample_slot = 2))) AS example_3,
        any(now_ts) AS server_now
    FROM events_dead_letter_queue
    WHERE _timestamp >= now() - %(scan_seconds)s
      AND at >= now_ts - %(context_seconds)s
      AND at >= %(since)s
    GROUP BY location, cause
)
ORDER BY window_events DESC, context_events DESC, location, cause
LIMIT %(max_rows)s
