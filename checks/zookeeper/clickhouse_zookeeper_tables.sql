-- Whether ClickHouse has a ZooKeeper (or Keeper) configured at all: it attaches system.zookeeper (and, since
-- 23.x, system.zookeeper_connection) only when its config names one.
SELECT name FROM system.tables WHERE database = 'system' AND name IN ('zookeeper', 'zookeeper_connection') ORDER BY name
