SELECT
    -- Bytes of the system database's parts holding the last days, per table and part time range (event_date for
    -- the log tables: min_date/max_date); the check spreads each range over its days to get daily growth.
    table,
    toUnixTimestamp(multiIf(min_time > toDateTime(0), min_time, toDateTime(min_date))) AS range_start,
    toUnixTimestamp(multiIf(max_time > toDateTime(0), max_time, toDateTime(max_date) + 86399)) AS range_end,
    sum(bytes_on_disk) AS bytes
FROM system.parts
WHERE active AND database = 'system'
  AND (max_time >= now() - %(lookback_seconds)s OR max_date >= toDate(now() - %(lookback_seconds)s))
GROUP BY table, range_start, range_end
ORDER BY range_end DESC
LIMIT 5000
