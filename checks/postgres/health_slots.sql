SELECT slot_name, slot_type, active,
       pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained_wal_bytes
-- On a primary: replication slots keep WAL until their consumer reads it; an abandoned one fills the disk.
FROM pg_replication_slots
ORDER BY retained_wal_bytes DESC NULLS LAST
