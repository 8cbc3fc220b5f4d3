WITH
    -- One pass over the events that arrived (Kafka `_timestamp`) in the last 7 days and 1 hour, bucketed so a
    -- single scan answers: the newest arrival, arrivals per minute in the last hour (bucket = minute start), in
    -- the same hour on each of the 7 previous days (bucket = -days ago), in the rest of the last 24 hours
    -- (bucket = -100) and earlier (bucket = -200). The `timestamp` bound prunes monthly partitions, and its
    -- `toDate` twin (implied by it) the primary key's `toDate(timestamp)` on servers that do not derive it
    -- (18.16 reads twice the rows without it); the `_timestamp` bound also uses PostHog's minmax skip index
    -- where the table has it.
    toUnixTimestamp(now()) AS now_ts,
    greatest(now_ts - toUnixTimestamp(_timestamp), 0) AS age
SELECT
    multiIf(age < 3600, toInt64(intDiv(toUnixTimestamp(_timestamp), 60) * 60),
            age >= 86400 AND modulo(age, 86400) < 3600, -toInt64(intDiv(age, 86400)),
            age < 86400, toInt64(-100),
            toInt64(-200)) AS bucket,
    count() AS events,
    toUnixTimestamp(max(_timestamp)) AS newest,
    any(now_ts) AS server_now
FROM events
WHERE _timestamp >= now() - %(lookback_seconds)s
  AND timestamp >= now() - %(timestamp_lookback_seconds)s
  AND toDate(timestamp) >= toDate(now() - %(timestamp_lookback_seconds)s)
GROUP BY bucket
ORDER BY bucket
LIMIT 200
