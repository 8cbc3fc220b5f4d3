"""What the web app itself says about the services it depends on: `GET /_preflight/` (posthog/views.py).

Django answers one boolean per service (`django, redis, plugins, celery, db`; newer versions add
`clickhouse, kafka, object_storage`), plus the realm and, for a logged-in user, the version. A false flag
names a service Django cannot use, seen from inside the deployment's own network. On PostHog Cloud every
flag is short-circuited to true.
"""

from __future__ import annotations

from posthog_doctor.check import Advice, Check, Context, Finding, Item, Outcome, Values, conclude, warn, worst

from ..common import docs
from ..common.web import preflight

# flag -> (the service in words, status when false, what to do). Order: how a hero reads them.
SERVICES = {
    "django": ("the web app (Django)", "fail", "Read the web container's logs."),
    "db": ("Postgres", "fail", "Django cannot query Postgres: check DATABASE_URL and that the database runs."),
    "redis": ("Redis", "fail", "Django cannot reach Redis: check REDIS_URL and that Redis runs."),
    "clickhouse": (
        "ClickHouse",
        "fail",
        "Django cannot reach ClickHouse: check CLICKHOUSE_HOST and that ClickHouse runs.",
    ),
    "kafka": (
        "Kafka",
        "fail",
        "Django cannot reach Kafka: check KAFKA_HOSTS and that Kafka runs; events are lost while Kafka is down.",
    ),
    "plugins": (
        "the plugin server",
        "fail",
        "Recent Django asks the plugin server's /_health at CDP_API_URL (set it to http://plugins:6738 on "
        "docker compose; the default points at a Kubernetes service); older Django reads its Redis heartbeat. "
        "See plugin_server.health and plugin_server.heartbeat.",
    ),
    "celery": ("the Celery workers", "fail", "The workers' heartbeat is older than 5 minutes: see celery.workers."),
    "object_storage": (
        "object storage",
        "warn",
        "Object storage (MinIO or S3) is disabled or unreachable: session recordings and exports need it.",
    ),
}
DETAILS = (
    "realm",
    "posthog_version",
    "region",
    "cloud",
    "demo",
    "db_backend",
    "is_clickhouse_enabled",
    "ee_available",
    "initiated",
    "site_url",
)


class PostHogPreflight(Check):
    """Reads `/_preflight/`: every service flag Django reports (a false one names the service), the realm and the
    version."""

    id = "posthog.preflight"
    title = "Web app preflight"
    needs = ("posthog_api",)
    tags = ("posthog", "web")
    category = "Deployments/Setup"
    timeout = 15.0

    def run(self, ctx: Context) -> Outcome:
        body = preflight(ctx)
        flags = {name: body[name] for name in SERVICES if isinstance(body.get(name), bool)}
        down = [name for name, up in flags.items() if not up]
        evidence = [
            Values("Service flags", [Item(SERVICES[n][0], up, n) for n, up in flags.items()]),
            Values(
                "Instance",
                [
                    Item(k.replace("_", " "), body[k], k)
                    for k in DETAILS
                    if k in body and not isinstance(body[k], (dict, list))
                ],
            ),
        ]
        where = _describe(body)
        if not flags:
            return warn(
                f"/_preflight/ answered without any service flag{where}: is this PostHog's web app?", evidence=evidence
            )
        findings = []
        if down:  # one sentence naming every service down, with each service's advice
            findings.append(
                Finding(
                    worst(SERVICES[n][1] for n in down),
                    "Django reports down: " + ", ".join(f"{SERVICES[n][0]} ({n}: false)" for n in down),
                    tuple(Advice(SERVICES[n][2], links=[docs.ENV_VARS, docs.TROUBLESHOOTING]) for n in down),
                )
            )
        if body.get("initiated") is False:
            findings.append(
                Finding.warn(
                    "no organization has been created yet (initiated: false)",
                    Advice("Finish the setup wizard in the web app to create the first organization."),
                )
            )
        return conclude(
            findings, f"Django sees every service up ({', '.join(flags)}){where}", evidence=evidence, suffix=where
        )


def _describe(body: dict) -> str:
    """` (realm hosted-clickhouse, version 1.43.0)` from what preflight told, or ""."""
    parts = [
        f"{label} {body[key]}"
        for key, label in (("realm", "realm"), ("posthog_version", "version"))
        if isinstance(body.get(key), str) and body[key]
    ]
    return f" ({', '.join(parts)})" if parts else ""
