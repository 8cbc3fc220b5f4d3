SELECT
    -- The DLQ table's footprint from part metadata, with no scan: the rows it holds and when its newest part
    -- was written. A table that stays unwritten for weeks while events flow is one PostHog no longer writes to,
    -- or one nothing failed into; the other signals tell the two apart.
    sum(rows) AS stored_rows,
    toUnixTimestamp(max(modification_time)) AS newest_part,
    toUnixTimestamp(now()) AS server_now
FROM system.parts
WHERE database = %(database)s AND table = 'events_dead_letter_queue' AND active
LIMIT 1
