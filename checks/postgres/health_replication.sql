SELECT count(*)                                             AS standbys,
       max(extract(epoch FROM replay_lag))                  AS max_replay_lag_seconds
-- On a primary: the standbys streaming from it.
FROM pg_stat_replication
