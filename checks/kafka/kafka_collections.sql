SELECT
    -- Only the broker list of the named collections the Kafka tables use; the other keys (a SASL password)
    -- are never read. ClickHouse shows [HIDDEN] unless the user may see collection values.
    name,
    collection['kafka_broker_list'] AS brokers
FROM system.named_collections
WHERE name IN %(names)s
LIMIT 20
