SELECT
    -- Bytes on disk of recent data per disk and part time range (parts of every table whose partition key
    -- holds a time, e.g. events by month); the check spreads each range over its days to get daily growth.
    disk_name AS disk,
    toUnixTimestamp(min_time) AS range_start,
    toUnixTimestamp(max_time) AS range_end,
    sum(bytes_on_disk) AS bytes
FROM system.parts
WHERE active AND max_time >= now() - %(lookback_seconds)s
GROUP BY disk, range_start, range_end
ORDER BY range_end DESC
LIMIT 5000
