SELECT
    -- The partitions with the most active parts in PostHog's database: inserts slow down, then fail with
    -- "Too many parts", when one partition passes parts_to_delay_insert / parts_to_throw_insert.
    table,
    partition,
    count() AS parts
FROM system.parts
WHERE active AND database = %(database)s
GROUP BY table, partition
ORDER BY parts DESC, table, partition
LIMIT 10
