SELECT 1
-- Planned, never run: the planner's estimate of the events in one time range, from the timestamp
-- histogram scaled to the table's current size.
FROM posthog_event WHERE "timestamp" >= %(start)s AND "timestamp" < %(end)s
