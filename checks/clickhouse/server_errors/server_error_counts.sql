SELECT
    -- The first system.errors (ClickHouse 20.11 to 21.x) counts errors per code but keeps no time or message.
    code, any(name) AS name, sum(value) AS count
FROM system.errors
GROUP BY code
ORDER BY code
LIMIT 1000
