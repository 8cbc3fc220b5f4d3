SELECT
    -- The columns of the system tables the depth checks read: a table that is missing has no row, and a column
    -- added in a later ClickHouse (system.mutations.latest_fail_reason, system.merges.is_mutation) is probed
    -- here instead of guessed from the version.
    table, name
FROM system.columns
WHERE database = 'system' AND table IN ('errors', 'mutations', 'merges', 'parts', 'tables')
ORDER BY table, name
LIMIT 2000
