SELECT
    -- The example rows the digest picked, fetched by id: the primary key (id first) selects the granules that
    -- may hold them, PREWHERE reads only their ids, and the wide columns (the event's properties and raw
    -- payload, kilobytes a row) are read only from the granules that do. Payloads are cut to a fixed size
    -- here; the check masks their values.
    toString(id) AS example_id,  -- not aliased `id`: the WHERE below must see the key column
    -- error_timestamp, or the arrival for the 1.30-1.31 capture rows that left it at the epoch
    if(toUnixTimestamp(error_timestamp) < 86400, toUnixTimestamp(_timestamp), toUnixTimestamp(error_timestamp)) AS at,
    error_location AS location,
    team_id,
    substring(event, 1, 200) AS event,
    substring(distinct_id, 1, 200) AS distinct_id,
    substring(error, 1, 2000) AS error,
    substring(properties, 1, %(max_payload_bytes)s) AS properties,
    length(properties) AS properties_bytes,
    substring(raw_payload, 1, %(max_payload_bytes)s) AS raw_payload,
    length(raw_payload) AS raw_payload_bytes
FROM events_dead_letter_queue
PREWHERE id IN %(ids)s
ORDER BY at DESC
LIMIT 1 BY example_id
LIMIT 300
