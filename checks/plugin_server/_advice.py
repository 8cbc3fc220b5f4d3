"""What a support hero tells a customer whose plugin server is down, shared by the plugin server checks."""

from __future__ import annotations

from posthog_doctor.check import Advice

from ..common import docs

RESTART = Advice(
    "Restart the plugin server; it is safe: events wait in Kafka and are ingested once it is back.",
    commands=["docker compose restart plugins", "kubectl -n posthog rollout restart deployment/posthog-plugins"],
    links=[docs.TROUBLESHOOTING],
)

LOOK_NEXT = Advice(
    "If it comes back unhealthy, read its last log lines for Kafka, Redis, Postgres or ClickHouse errors, then "
    "look at the dead letter queue (columns error_location and error of events_dead_letter_queue) for events "
    "it could not ingest.",
    commands=[
        "docker compose logs --tail 200 plugins",
        "kubectl -n posthog logs deployment/posthog-plugins --tail 200",
    ],
    links=[docs.SUPPORT_HERO],
)

# What each of the plugin server's own health sub-checks watches (`healthChecks[...]` in pluginsServer.ts).
SUB_CHECKS = {
    "analytics-ingestion": "event ingestion from Kafka",
    "analytics-ingestion-historical": "historical event ingestion",
    "analytics-ingestion-overflow": "overflow event ingestion",
    "on-event-ingestion": "apps that run on each event",
    "session-recordings": "session recording ingestion",
    "session-recordings-blob": "session recording ingestion",
    "session-recordings-blob-overflow": "session recording overflow ingestion",
}


def describe_sub_checks(names: list[str]) -> str:
    """`analytics-ingestion (event ingestion from Kafka), cdp` for a summary line."""
    return ", ".join(f"{n} ({SUB_CHECKS[n]})" if n in SUB_CHECKS else n for n in names)
