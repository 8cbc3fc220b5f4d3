-- Whether ClickHouse reaches its ZooKeeper now: the names of the znodes under the root, metadata only
-- (system.zookeeper needs a path filter; no value is read).
SELECT name, numChildren AS children FROM system.zookeeper WHERE path = '/' ORDER BY name LIMIT 50
