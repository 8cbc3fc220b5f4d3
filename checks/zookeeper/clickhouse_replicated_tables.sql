-- How many tables need ZooKeeper to accept inserts (the Replicated* engines), from table metadata only.
SELECT count() AS replicated FROM system.tables WHERE engine LIKE 'Replicated%'
