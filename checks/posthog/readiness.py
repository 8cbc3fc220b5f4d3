"""Is the web app ready to serve? `GET /_health` (pending Django migrations) and `GET /_readyz` (each dependency).

`/_health` answers `ok` (200) or `Migrations are not up to date` (503) as text/plain (posthog/views.py).
`/_readyz` answers a JSON map of check -> bool, with 503 when one is false (posthog/health.py); PostHog
versions before it answer 404, which is not a problem.
"""

from __future__ import annotations

from posthog_doctor.check import Check, fail, ok, warn
from posthog_doctor.connectors import ConnectorError
from posthog_doctor.model import Advice, Status, Table, worst

from .._posthog_api import HealthAnswer, health

UPGRADING_DOCS = "https://posthog.com/docs/self-host/configure/upgrading-posthog"
TROUBLESHOOTING_DOCS = "https://posthog.com/docs/self-host/deploy/troubleshooting"

# /_readyz check -> (what it tests, in words; what to do when it is false).
READYZ = {
    "postgres": ("Postgres", "Check DATABASE_URL and that Postgres runs."),
    "postgres_flags": ("Postgres for feature flags", "Check the feature-flag database settings and that it runs."),
    "postgres_migrations_uptodate": ("Postgres migrations applied", "Run the migrations (see /_health below)."),
    "clickhouse": ("ClickHouse (HTTP ping)", "Django pings CLICKHOUSE_HTTP_URL/ping: check the ClickHouse host and "
                                             "its HTTP port (8123)."),
    "kafka_connected": ("Kafka", "Check KAFKA_HOSTS and that Kafka runs; events are lost while Kafka is down."),
    "celery_broker": ("Celery broker (Redis)", "Check REDIS_URL and that Redis runs."),
    "cache": ("Django cache (Redis)", "Check REDIS_URL and that Redis runs."),
}
MIGRATIONS = Advice(
    "Django migrations are pending: the migrate step of the last upgrade failed or has not run. Read the "
    "web container's logs (hobby) or the migrate job's logs (Helm); for a stuck job, delete it and run "
    "`helm upgrade` again.",
    commands=["docker compose logs --tail 200 web", "kubectl -n posthog get jobs"],
    links=[UPGRADING_DOCS, TROUBLESHOOTING_DOCS])


class PostHogReadiness(Check):
    """Reads the web app's `/_health` (pending migrations) and `/_readyz` (one boolean per dependency)."""

    id = "posthog.readiness"
    title = "Web app readiness"
    needs = ("posthog_api",)
    tags = ("posthog", "web")
    category = "Deployments/Upgrading"
    timeout = 15.0

    def run(self, ctx):
        verdicts: list[tuple[Status, str, list[Advice]]] = []
        rows = []
        for path, judge in (("/_health", judge_migrations), ("/_readyz", judge_readyz)):
            try:
                answer = health(ctx, "posthog_api", path)
            except ConnectorError as exc:
                verdicts.append((Status.WARN, f"{path} did not answer: {exc}", []))
                rows.append([path, "—", str(exc)])
                continue
            verdicts.append(judge(answer))
            rows.append([path, answer.status, answer.excerpt])
        evidence = [Table("Readiness endpoints", ["Endpoint", "HTTP", "Body"], rows)]
        status = worst(s for s, _, _ in verdicts)
        said = [text for s, text, _ in verdicts if s != Status.OK] or [text for _, text, _ in verdicts]
        advice = [a for _, _, found in verdicts for a in found]
        build = {Status.OK: ok, Status.WARN: warn, Status.FAIL: fail}[status]
        return build("; ".join(said), evidence=evidence, advice=advice)


def judge_migrations(answer: HealthAnswer) -> tuple[Status, str, list[Advice]]:
    if answer.ok:
        return Status.OK, "migrations up to date", []
    if answer.status == 404:
        return Status.OK, "no /_health on this web app", []
    if "migration" in answer.excerpt.lower():
        return Status.FAIL, f"Django migrations are not up to date (/_health answered HTTP {answer.status})", [MIGRATIONS]
    return (Status.FAIL if answer.status >= 500 else Status.WARN), \
        f"/_health answered HTTP {answer.status}: {answer.excerpt!r}", []


def judge_readyz(answer: HealthAnswer) -> tuple[Status, str, list[Advice]]:
    if answer.status == 404:
        return Status.OK, "no /_readyz (an older PostHog)", []
    checks = {k: v for k, v in answer.fields().items() if isinstance(v, bool)}
    if not checks:
        return Status.WARN, (f"/_readyz answered HTTP {answer.status} without its map of checks "
                             f"({answer.content_type or 'no content type'}: {answer.excerpt!r})"), []
    down = [name for name, up in checks.items() if not up]
    if not down and answer.ok:
        return Status.OK, f"every dependency ready ({', '.join(checks)})", []
    if not down:
        return Status.WARN, f"/_readyz answered HTTP {answer.status} although every check is true", []
    named = ", ".join(f"{READYZ.get(n, (n,))[0]} ({n})" for n in down)
    advice = [Advice(READYZ[n][1], links=[TROUBLESHOOTING_DOCS]) for n in down if n in READYZ]
    return Status.FAIL, f"not ready: {named} false in /_readyz", advice
