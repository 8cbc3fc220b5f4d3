SELECT
    -- Whether any `pipeline_step_dlq` warning falls in the context period, from the warnings' type and time only:
    -- where a DLQ table exists too, the digest of the warnings asks per event whether the table holds it, and
    -- that pass is only worth its scan of the table's event ids when there are warnings to match.
    count() AS warnings
FROM ingestion_warnings
WHERE type = 'pipeline_step_dlq'
  AND timestamp >= now() - %(context_seconds)s
LIMIT 1
