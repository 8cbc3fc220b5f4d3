SELECT
    -- Exact totals of the DLQ table over the context period, read from its two time columns only (the digest
    -- reads the messages): events in the window, the last 24 hours and the last hour, the 1.30-1.31 capture
    -- rows without an error time, and events per minute. The check sums the totals from these, draws the
    -- "All causes" chart from them, and plans from the minutes how much of the period the digest can normalise
    -- within its budget: all of it, or the newest minutes (a flood), saying which share it covered.
    -- A row's time is its error_timestamp, or its arrival when 1.30-1.31 left it at the epoch (see digest.sql).
    sum(in_window) AS window_events,
    sum(in_context) AS context_events,
    sum(in_day) AS day_events,
    sum(in_hour) AS hour_events,
    sum(without_error_time) AS untimed,
    groupArray(minute) AS minutes,
    groupArray(in_context) AS minute_events,
    toUnixTimestamp(now()) AS server_now
FROM (
    WITH
        toUnixTimestamp(now()) AS now_ts,
        toUnixTimestamp(error_timestamp) AS error_at,
        if(error_at < 86400, toUnixTimestamp(_timestamp), error_at) AS at
    SELECT
        intDiv(at, 60) AS minute,
        countIf(at >= now_ts - %(window_seconds)s) AS in_window,
        count() AS in_context,
        countIf(at >= now_ts - 86400) AS in_day,
        countIf(at >= now_ts - 3600) AS in_hour,
        countIf(error_at < 86400) AS without_error_time
    FROM events_dead_letter_queue
    WHERE _timestamp >= now() - %(scan_seconds)s
      AND at >= now_ts - %(context_seconds)s
    GROUP BY minute
)
LIMIT 1
