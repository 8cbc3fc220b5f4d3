WITH
    -- One pass over the events that arrived (Kafka `_timestamp`) in the last hour, the rest of the last day, and
    -- the same hour on each of the 7 previous days (bucket 0, -100 and -days ago), per event family and team,
    -- with how far each event's own `timestamp` lies ahead of or behind its arrival. The `timestamp` lower bound
    -- prunes monthly partitions (and its `toDate` twin the primary key on 18.16); there is no upper bound,
    -- so events timestamped in the future, which sit in future partitions, are all counted. Events
    -- timestamped before the lower bound (more than `past_scan` before the window) are not seen.
    toUnixTimestamp(now()) AS now_ts,
    greatest(now_ts - toUnixTimestamp(_timestamp), 0) AS age,
    toInt64(toUnixTimestamp(timestamp)) - toInt64(toUnixTimestamp(_timestamp)) AS ahead
SELECT
    multiIf(age < 3600, toInt64(0), age < 86400, toInt64(-100), -toInt64(intDiv(age, 86400))) AS bucket,
    {family_expression} AS family,
    team_id,
    count() AS events,
    countIf(ahead > 3600) AS ahead_hour,
    countIf(ahead > 82800) AS ahead_23h,
    countIf(ahead < -3600) AS behind_hour,
    countIf(ahead < -86400) AS behind_day,
    max(ahead) AS most_ahead,
    min(ahead) AS most_behind,
    any(now_ts) AS server_now
FROM events
WHERE _timestamp >= now() - %(lookback_seconds)s
  AND timestamp >= now() - %(timestamp_lookback_seconds)s
  AND toDate(timestamp) >= toDate(now() - %(timestamp_lookback_seconds)s)
  AND (age < 86400 OR modulo(age, 86400) < 3600)
GROUP BY bucket, family, team_id
ORDER BY bucket DESC, events DESC
LIMIT 5000
