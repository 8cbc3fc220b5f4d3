SELECT
    -- (This form also asks, per warning, whether the DLQ table holds the same event.)
    -- Since 2025 PostHog dead-letters to the Kafka topic events_plugin_ingestion_dlq, and ClickHouse keeps one
    -- `pipeline_step_dlq` ingestion warning per dead-lettered event (sent always, not rate-limited:
    -- pipeline-helpers.ts @ b3cd2b3). Digested like the DLQ table (digest.sql): one row per step and error
    -- message with ids, uuids, numbers and quoted values replaced, over the context period. `details` is the
    -- JSON the plugin server wrote: {"distinctId", "eventUuid", "error", "event", "step"}.
    location, cause, in_table, window_events, context_events, day_events, hour_events, first_seen, last_seen,
    teams, top_events,
    (arrayMap(h -> h * 3600, arrayFilter((h, last) -> last = 1, hours,
                                         arrayReverse(arrayEnumerateUniq(arrayReverse(hours))) AS is_last)),
     arrayFilter((n, last) -> last = 1, arrayEnumerateUniq(hours), is_last)) AS per_hour,
    example_at_1, example_team_1, example_details_1,
    example_at_2, example_team_2, example_details_2,
    example_at_3, example_team_3, example_details_3,
    server_now
FROM (
    WITH
        toUnixTimestamp(now()) AS now_ts,
        toUnixTimestamp(timestamp) AS at,
        at >= now_ts - %(window_seconds)s AS in_window,
        modulo(at, 3) AS sample_slot
    SELECT
        concat('pipeline_step_dlq:', visitParamExtractString(details, 'step')) AS location,
        replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(
            substring(visitParamExtractString(details, 'error'), 1, 2000),
            '\\s\\s+|[\\t\\n\\f\\r]', ' '),
            '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>'),
            '"[^"]*"', '"<value>"'),
            '\'[^\']*\'', '\'<value>\''),
            '\\b[0-9]+(\\.[0-9]+)*', '<n>'),
            '\\b[A-Za-z_-]*[0-9][A-Za-z0-9_-]{5,}', '<id>') AS cause,
        -- Whether the event is also a row of events_dead_letter_queue: for a while (sendEventToDLQ, same file)
        -- PostHog wrote both, and such an event must be counted once. The set holds only the table's event ids
        -- that some warning names (a DLQ flood's millions of ids would not fit a set cheaply).
        toUInt8(visitParamExtractString(details, 'eventUuid') IN (
            SELECT toString(event_uuid) FROM events_dead_letter_queue
            WHERE _timestamp >= now() - %(scan_seconds)s
              AND toString(event_uuid) IN (
                  SELECT visitParamExtractString(details, 'eventUuid') FROM ingestion_warnings
                  WHERE type = 'pipeline_step_dlq' AND timestamp >= now() - %(context_seconds)s))) AS in_table,
        countIf(in_window) AS window_events,
        count() AS context_events,
        countIf(at >= now_ts - 86400) AS day_events,
        countIf(at >= now_ts - 3600) AS hour_events,
        min(at) AS first_seen,
        max(at) AS last_seen,
        uniqExactIf(team_id, in_window) AS teams,
        topKIf(3)(visitParamExtractString(details, 'event'), in_window) AS top_events,
        groupArray(toUInt32(intDiv(at, 3600))) AS hours,
        maxIf(at, sample_slot = 0) AS example_at_1,
        argMaxIf(team_id, at, sample_slot = 0) AS example_team_1,
        argMaxIf(substring(details, 1, 2000), at, sample_slot = 0) AS example_details_1,
        maxIf(at, sample_slot = 1) AS example_at_2,
        argMaxIf(team_id, at, sample_slot = 1) AS example_team_2,
        argMaxIf(substring(details, 1, 2000), at, sample_slot = 1) AS example_details_2,
        maxIf(at, sample_slot = 2) AS example_at_3,
        argMaxIf(team_id, at, sample_slot = 2) AS example_team_3,
        argMaxIf(substring(details, 1, 2000), at, sample_slot = 2) AS example_details_3,
        any(now_ts) AS server_now
    FROM ingestion_warnings
    WHERE type = 'pipeline_step_dlq'
      AND timestamp >= now() - %(context_seconds)s
    GROUP BY location, cause, in_table
)
ORDER BY window_events DESC, context_events DESC, location, cause, in_table
LIMIT %(max_rows)s
