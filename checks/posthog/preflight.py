"""What the web app itself says about the services it depends on: `GET /_preflight/` (posthog/views.py).

Django answers one boolean per service (`django, redis, plugins, celery, db`; newer versions add
`clickhouse, kafka, object_storage`), plus the realm and, for a logged-in user, the version. A false flag
names a service Django cannot use, seen from inside the deployment's own network. On PostHog Cloud every
flag is short-circuited to true.
"""

from __future__ import annotations

from posthog_doctor.check import Check, ok, warn, verdict
from posthog_doctor.model import Advice, Item, Values, worst

from .._posthog_api import preflight

TROUBLESHOOTING_DOCS = "https://posthog.com/docs/self-host/deploy/troubleshooting"
ENV_DOCS = "https://posthog.com/docs/self-host/configure/environment-variables"

# flag -> (the service in words, status when false, what to do). Order: how a hero reads them.
SERVICES = {
    "django": ("the web app (Django)", "fail", "Read the web container's logs."),
    "db": ("Postgres", "fail", "Django cannot query Postgres: check DATABASE_URL and that the database runs."),
    "redis": ("Redis", "fail", "Django cannot reach Redis: check REDIS_URL and that Redis runs."),
    "clickhouse": ("ClickHouse", "fail", "Django cannot reach ClickHouse: check CLICKHOUSE_HOST and that ClickHouse runs."),
    "kafka": ("Kafka", "fail", "Django cannot reach Kafka: check KAFKA_HOSTS and that Kafka runs; events are lost "
                               "while Kafka is down."),
    "plugins": ("the plugin server", "fail",
                "Recent Django asks the plugin server's /_health at CDP_API_URL (set it to http://plugins:6738 on "
                "docker compose; the default points at a Kubernetes service); older Django reads its Redis heartbeat. "
                "See plugin_server.health and plugin_server.heartbeat."),
    "celery": ("the Celery workers", "fail", "The workers' heartbeat is older than 5 minutes: see celery.workers."),
    "object_storage": ("object storage", "warn",
                       "Object storage (MinIO or S3) is disabled or unreachable: session recordings and exports need it."),
}
DETAILS = ("realm", "posthog_version", "region", "cloud", "demo", "db_backend", "is_clickhouse_enabled",
           "ee_available", "initiated", "site_url")


class PostHogPreflight(Check):
    """Reads `/_preflight/`: every service flag Django reports (a false one names the service), the realm and the version."""

    id = "posthog.preflight"
    title = "Web app preflight"
    needs = ("posthog_api",)
    tags = ("posthog", "web")
    category = "Deployments/Setup"
    timeout = 15.0

    def run(self, ctx):
        body = preflight(ctx)
        flags = {name: body[name] for name in SERVICES if isinstance(body.get(name), bool)}
        down = [name for name, up in flags.items() if not up]
        evidence = [
            Values("Service flags", [Item(SERVICES[n][0], up, n) for n, up in flags.items()]),
            Values("Instance", [Item(k.replace("_", " "), body[k], k) for k in DETAILS if k in body
                                and not isinstance(body[k], (dict, list))]),
        ]
        where = _describe(body)
        if not flags:
            return warn(f"/_preflight/ answered without any service flag{where}: is this PostHog's web app?",
                        evidence=evidence)
        problems = [(SERVICES[n][1], f"{SERVICES[n][0]} ({n}: false)", Advice(SERVICES[n][2], links=[ENV_DOCS, TROUBLESHOOTING_DOCS]))
                    for n in down]
        if body.get("initiated") is False:
            problems.append(("warn", "no organization has been created yet (initiated: false)",
                             Advice("Finish the setup wizard in the web app to create the first organization.")))
        if not problems:
            return ok(f"Django sees every service up ({', '.join(flags)}){where}", evidence=evidence)
        status = worst(s for s, _, _ in problems)
        prefix = "Django reports down: " if down else ""
        summary = prefix + ", ".join(text for _, text, _ in problems) + where
        return verdict(status, summary, evidence=evidence, advice=[a for _, _, a in problems])


def _describe(body: dict) -> str:
    """` (realm hosted-clickhouse, version 1.43.0)` from what preflight told, or ""."""
    parts = [f"{label} {body[key]}" for key, label in (("realm", "realm"), ("posthog_version", "version"))
             if isinstance(body.get(key), str) and body[key]]
    return f" ({', '.join(parts)})" if parts else ""
