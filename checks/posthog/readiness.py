"""Is the web app ready to serve? `GET /_health` (pending Django migrations) and `GET /_readyz` (each dependency).

`/_health` answers `ok` (200) or `Migrations are not up to date` (503) as text/plain (posthog/views.py).
`/_readyz` answers a JSON map of check -> bool, with 503 when one is false (posthog/health.py); PostHog
versions before it answer 404, which is not a problem.
"""

from __future__ import annotations

from posthog_doctor.check import Advice, Check, ConnectorError, Context, Finding, Outcome, Table, conclude

from ..common import docs
from ..common.web import HealthAnswer, health

# /_readyz check -> (what it tests, in words; what to do when it is false).
READYZ = {
    "postgres": ("Postgres", "Check DATABASE_URL and that Postgres runs."),
    "postgres_flags": ("Postgres for feature flags", "Check the feature-flag database settings and that it runs."),
    "postgres_migrations_uptodate": ("Postgres migrations applied", "Run the migrations (see /_health below)."),
    "clickhouse": (
        "ClickHouse (HTTP ping)",
        "Django pings CLICKHOUSE_HTTP_URL/ping: check the ClickHouse host and its HTTP port (8123).",
    ),
    "kafka_connected": ("Kafka", "Check KAFKA_HOSTS and that Kafka runs; events are lost while Kafka is down."),
    "celery_broker": ("Celery broker (Redis)", "Check REDIS_URL and that Redis runs."),
    "cache": ("Django cache (Redis)", "Check REDIS_URL and that Redis runs."),
}
MIGRATIONS = Advice(
    "Django migrations are pending: the migrate step of the last upgrade failed or has not run. Read the "
    "web container's logs (hobby) or the migrate job's logs (Helm); for a stuck job, delete it and run "
    "`helm upgrade` again.",
    commands=["docker compose logs --tail 200 web", "kubectl -n posthog get jobs"],
    links=[docs.UPGRADING, docs.TROUBLESHOOTING],
)


class PostHogReadiness(Check):
    """Reads the web app's `/_health` (pending migrations) and `/_readyz` (one boolean per dependency)."""

    id = "posthog.readiness"
    title = "Web app readiness"
    needs = ("posthog_api",)
    tags = ("posthog", "web")
    category = "Deployments/Upgrading"
    timeout = 15.0

    def run(self, ctx: Context) -> Outcome:
        findings: list[Finding] = []
        rows: list[list] = []
        for path, judge in (("/_health", judge_migrations), ("/_readyz", judge_readyz)):
            try:
                answer = health(ctx, "posthog_api", path)
            except ConnectorError as exc:
                findings.append(Finding.warn(f"{path} did not answer: {exc}"))
                rows.append([path, "—", str(exc)])
                continue
            findings.append(judge(answer))
            rows.append([path, answer.status, answer.excerpt])
        evidence = [Table("Readiness endpoints", ["Endpoint", "HTTP", "Body"], rows)]
        return conclude(findings, "; ".join(f.text for f in findings), evidence=evidence)


def judge_migrations(answer: HealthAnswer) -> Finding:
    if answer.ok:
        return Finding.ok("migrations up to date")
    if answer.status == 404:
        return Finding.ok("no /_health on this web app")
    if "migration" in answer.excerpt.lower():
        return Finding.fail(
            f"Django migrations are not up to date (/_health answered HTTP {answer.status})", MIGRATIONS
        )
    found = Finding.fail if answer.status >= 500 else Finding.warn
    return found(f"/_health answered HTTP {answer.status}: {answer.excerpt!r}")


def judge_readyz(answer: HealthAnswer) -> Finding:
    if answer.status == 404:
        return Finding.ok("no /_readyz (an older PostHog)")
    checks = {k: v for k, v in answer.fields().items() if isinstance(v, bool)}
    if not checks:
        return Finding.warn(
            f"/_readyz answered HTTP {answer.status} without its map of checks "
            f"({answer.content_type or 'no content type'}: {answer.excerpt!r})"
        )
    down = [name for name, up in checks.items() if not up]
    if not down and answer.ok:
        return Finding.ok(f"every dependency ready ({', '.join(checks)})")
    if not down:
        return Finding.warn(f"/_readyz answered HTTP {answer.status} although every check is true")
    named = ", ".join(f"{READYZ.get(n, (n,))[0]} ({n})" for n in down)
    return Finding.fail(
        f"not ready: {named} false in /_readyz",
        *(Advice(READYZ[n][1], links=[docs.TROUBLESHOOTING]) for n in down if n in READYZ),
    )
