SELECT current_setting('server_version')                 AS server_version,
       current_setting('server_version_num')::int        AS server_version_num,
       current_database()                                AS database,
       pg_database_size(current_database())              AS database_bytes,
       current_setting('max_connections')::int           AS max_connections,
       current_setting('superuser_reserved_connections')::int AS reserved_connections,
       pg_is_in_recovery()                               AS in_recovery,
       pg_postmaster_start_time()                        AS started_at,
       now()                                             AS now
