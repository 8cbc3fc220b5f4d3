SELECT
    -- Bytes of active parts per disk, and how much of it lies in tables whose parts carry a time range (the
    -- part of the data the growth estimate can see).
    disk_name AS disk,
    sum(bytes_on_disk) AS used_bytes,
    sumIf(bytes_on_disk, max_time > toDateTime(0)) AS timed_bytes
FROM system.parts
WHERE active
GROUP BY disk
ORDER BY disk
LIMIT 50
