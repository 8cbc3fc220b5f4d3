SELECT
    -- Events stored per partition (a month: PostHog partitions events by toYYYYMM(timestamp)), from the parts'
    -- metadata: no scan of the events table.
    partition,
    count() AS parts,
    sum(rows) AS stored_rows,
    sum(data_compressed_bytes) AS compressed_bytes,
    sum(data_uncompressed_bytes) AS uncompressed_bytes,
    toUnixTimestamp(min(min_time)) AS first_event,
    toUnixTimestamp(max(max_time)) AS last_event
FROM system.parts
WHERE active AND database = %(database)s AND table = %(table)s
GROUP BY partition
ORDER BY partition DESC
LIMIT 120
