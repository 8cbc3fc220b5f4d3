WITH
    -- Ingestion warnings digested by type and team over the context period (7 days by default): rows in the
    -- window, the last 24 hours and the last hour, first and last seen, and the newest row's details as an
    -- example (cut to 2,000 bytes; the check masks the values that name people). The period bounds
    -- `timestamp`, PostHog's partition key (toYYYYMMDD), so only the period's partitions are read.
    toUnixTimestamp(now()) AS now_ts,
    toUnixTimestamp(timestamp) AS at,
    at >= now_ts - %(window_seconds)s AS in_window
SELECT
    type,
    team_id,
    any(source) AS source,
    countIf(in_window) AS window_rows,
    count() AS context_rows,
    countIf(at >= now_ts - 86400) AS day_rows,
    countIf(at >= now_ts - 3600) AS hour_rows,
    min(at) AS first_seen,
    max(at) AS last_seen,
    argMax(substring(details, 1, 2000), at) AS example_details,
    any(now_ts) AS server_now
FROM ingestion_warnings
WHERE timestamp >= now() - %(context_seconds)s
GROUP BY type, team_id
ORDER BY window_rows DESC, context_rows DESC, type, team_id
LIMIT %(max_rows)s
