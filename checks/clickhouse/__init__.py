"""ClickHouse ingestion checks: where did the events go (dead letter queue), is ingestion alive, how much is
stored, how long until the disk is full, and are PostHog's tables in place.

A check with its own SQL or knowledge is a package: `check.py` beside the `.sql` files it runs (what
`posthog-doctor explain` prints) and the reviewed data it reads (`schema/pipeline_tables.yaml`,
`ingestion_warnings/types.yaml`, `server_errors/error_families.yaml`). Modules starting with `_` and the
files at this level are helpers shared by several checks.
"""
