"""ClickHouse ingestion checks: where did the events go (dead letter queue), is ingestion alive, how much is
stored, how long until the disk is full, and are PostHog's tables in place.

Each check keeps its SQL in `.sql` files beside it (what `posthog-doctor explain` prints) and its knowledge
as data (`dlq_causes.yaml`, `pipeline_tables.yaml`). Modules starting with `_` are shared helpers.
"""
