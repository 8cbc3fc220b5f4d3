SELECT (SELECT min("timestamp") FROM posthog_event) AS first_event,
       (SELECT max("timestamp") FROM posthog_event WHERE "timestamp" <= now() + interval '1 day') AS last_event,
       now() AS now
-- Both are ends of the index leading with "timestamp" (posthog_eve_timesta_1f6a8c_idx), so this reads a
-- few index pages; it is sent only after its plan has been checked for sequential scans. Timestamps
-- more than a day ahead (a client with a wrong clock) are not taken for the newest event.
