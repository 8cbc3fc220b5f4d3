SELECT
    -- Free and total space of each disk ClickHouse stores data on (system.disks: ClickHouse 19.15 and later).
    name, path, free_space, total_space, keep_free_space
FROM system.disks
ORDER BY name
LIMIT 50
