SELECT
    -- How many rows the events table holds and when its newest part was written (metadata only, no scan).
    sum(rows) AS stored_rows,
    toUnixTimestamp(max(modification_time)) AS newest_part
FROM system.parts
WHERE active AND database = %(database)s AND table = %(table)s
LIMIT 1
