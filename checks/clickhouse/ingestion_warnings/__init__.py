"""What PostHog's ingestion warned about: a digest of `ingestion_warnings` by type and team, with what each
type means for the data (types.yaml). Counts are warning rows, not events: most types are written at most
once an hour per team and type."""
