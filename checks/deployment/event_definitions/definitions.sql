SELECT team_id, name,
       extract(epoch FROM last_seen_at)::float8 AS last_seen_at,
       extract(epoch FROM now())::float8 AS server_now
-- The definitions of the events ClickHouse saw arrive, looked up through the (team_id, name) index PostHog keeps
-- (unique constraint, or the team_id foreign-key index): never a scan of the whole table.
FROM posthog_eventdefinition
WHERE team_id = ANY(%(teams)s) AND name = ANY(%(names)s)
LIMIT 2000
