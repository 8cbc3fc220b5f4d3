"""The checks bundled with posthog-doctor: the PostHog knowledge lives here, the plumbing does not.

One concern per module. A check with SQL or advice data keeps it in a subpackage beside its code
(`clickhouse/dead_letter_queue.py` + `dead_letter_queue.sql`). Modules whose name starts with `_` are
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
