SELECT
    -- Unfinished mutations on servers whose system.mutations keeps no failure reason (18.16 and other old ones).
    database, table, mutation_id, command,
    toUnixTimestamp(create_time) AS created,
    parts_to_do
FROM system.mutations
WHERE is_done = 0
ORDER BY create_time
LIMIT 100
