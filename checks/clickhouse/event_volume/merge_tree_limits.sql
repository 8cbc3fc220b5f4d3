SELECT
    -- The server's "too many parts" limits.
    name, value
FROM system.merge_tree_settings
WHERE name IN ('parts_to_delay_insert', 'parts_to_throw_insert')
LIMIT 10
