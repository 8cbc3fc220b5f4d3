SELECT
    -- Merges (and, on newer servers, mutations rewriting a part) running now, the longest first.
    database, table, elapsed, progress, num_parts, result_part_name, total_size_bytes_compressed
FROM system.merges
ORDER BY elapsed DESC
LIMIT 50
