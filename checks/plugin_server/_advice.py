"""What a support hero tells a customer whose plugin server is down, shared by the plugin server checks.

The advice names the service that really ingests: the hobby `plugins`, Helm's `posthog-plugins`, or the
split deployment a URL names (`posthog-plugins-ingestion`, ...: see checks/common/plugin_server.py).
"""

from __future__ import annotations

from posthog_doctor.check import Advice

from ..common import docs
from ..common.plugin_server import Service

RESTART = Advice(
    "Restart the plugin server; it is safe: events wait in Kafka and are ingested once it is back.",
    commands=["docker compose restart plugins", "kubectl -n posthog rollout restart deployment/posthog-plugins"],
    links=[docs.TROUBLESHOOTING],
)

LOOK_NEXT_TEXT = (
    "If it comes back unhealthy, read its last log lines for Kafka, Redis, Postgres or ClickHouse errors, then "
    "look at the events it could not ingest: the dead letter queue (error_location and error of "
    "events_dead_letter_queue) or, since 2025, ingestion_warnings rows of type pipeline_step_dlq and the Kafka "
    "topic events_plugin_ingestion_dlq."
)
LOOK_NEXT = Advice(
    LOOK_NEXT_TEXT,
    commands=[
        "docker compose logs --tail 200 plugins",
        "kubectl -n posthog logs deployment/posthog-plugins --tail 200",
    ],
    links=[docs.SUPPORT_HERO],
)


def restart(service: Service, *, ingests: bool | None = True) -> Advice:
    """Restart `service`: the one whose health failed (named as the ingesting one when it is)."""
    if not service.named:
        return RESTART
    role = "" if ingests is not False else ", which does not ingest events itself"
    return Advice(
        f"Restart the plugin server ({service.name}{role}); it is safe: events wait in Kafka and are ingested "
        "once it is back.",
        commands=service.restart_commands(),
        links=[docs.TROUBLESHOOTING],
    )


def look_next(service: Service) -> Advice:
    if not service.named:
        return LOOK_NEXT
    return Advice(LOOK_NEXT_TEXT, commands=service.log_commands(), links=[docs.SUPPORT_HERO])
