SELECT
    -- The server's clock, when no other answer carried it.
    toUnixTimestamp(now()) AS server_now
LIMIT 1
