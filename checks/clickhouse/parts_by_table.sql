SELECT
    -- Bytes, rows and parts of every table with data, from part metadata (no scan), with the time range its
    -- parts cover: min_time/max_time for tables partitioned by a DateTime, min_date/max_date for a Date (the
    -- system log tables' event_date). 0 when the partition key holds no time. Works on 18.16 (no disk_name).
    database,
    table,
    sum(bytes_on_disk) AS bytes,
    sum(rows) AS rows,
    count() AS parts,
    toUnixTimestamp(min(multiIf(min_time > toDateTime(0), min_time,
                                min_date > toDate('1970-01-01'), toDateTime(min_date), toDateTime(0)))) AS oldest,
    toUnixTimestamp(max(multiIf(max_time > toDateTime(0), max_time,
                                max_date > toDate('1970-01-01'), toDateTime(max_date) + 86399, toDateTime(0)))) AS newest
FROM system.parts
WHERE active
GROUP BY database, table
ORDER BY bytes DESC
LIMIT 5000
