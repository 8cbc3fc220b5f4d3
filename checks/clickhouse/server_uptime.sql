SELECT
    -- How long the server has run: system.errors counts since the last start.
    uptime() AS uptime, toUnixTimestamp(now()) AS server_now
