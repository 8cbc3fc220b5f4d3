SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS replay_delay_seconds,
       pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()         AS caught_up
-- On a standby: how far behind the primary it replays.
