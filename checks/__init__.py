"""The checks bundled with posthog-doctor: the PostHog knowledge lives here, the plumbing does not.

One concern per module. A check with SQL or advice data is a package: `check.py` beside the
files it reads (`clickhouse/ingestion_warnings/check.py` + `digest.sql`); knowledge several checks share lives in
`common/`. Modules whose name starts with `_` are
helpers, not checks.
"""

# The support handbook's conversation categories; a check's `category` is one of these.
CATEGORIES = (
    "User experience",
    "Performance",
    "Docs confusion",
    "Data integrity",
    "Deployments/Setup",
    "Deployments/Upgrading",
    "Deployments/Maintenance",
    "Non-self-serve",
    "Billing",
    "Feature request",
    "Bug",
)
