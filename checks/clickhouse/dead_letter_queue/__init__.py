"""Where did the events go? A digest of `events_dead_letter_queue`: one row per cause, with advice.

PostHog writes an event to the dead letter queue (DLQ) when capture or the ingestion pipeline fails on it
in a way it will not retry: the client got its 200, the event never reaches `events`. The digest groups
the rows by error location and normalised message (one cause, one row) so a support engineer sees at a
glance what broke, since when, whether it is still happening, and what to do (the cause catalogue,
`checks/common/dead_letter_causes.yaml`, which the Kafka dead letter topic shares).
"""
