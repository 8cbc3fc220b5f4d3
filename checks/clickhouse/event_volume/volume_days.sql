SELECT
    -- Rows per part time range (each part's min and max event time, kept by the partition key's minmax index),
    -- for the parts holding recent events. The check spreads each range's rows evenly over its days.
    toUnixTimestamp(min_time) AS range_start,
    toUnixTimestamp(max_time) AS range_end,
    sum(rows) AS stored_rows
FROM system.parts
WHERE active AND database = %(database)s AND table = %(table)s
  AND max_time >= now() - %(lookback_seconds)s
GROUP BY range_start, range_end
ORDER BY range_end DESC
LIMIT 5000
