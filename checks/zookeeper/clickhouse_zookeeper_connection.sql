-- The ZooKeeper node ClickHouse is connected to, and whether its session expired (ClickHouse 23.x and later).
SELECT host, port, is_expired FROM system.zookeeper_connection LIMIT 20
