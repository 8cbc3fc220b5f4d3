"""Which database holds this deployment's events, Postgres or ClickHouse, and do the signals agree?

A support hero's first question on a slow or strange self-hosted PostHog. Old PostHog could keep events
in Postgres (deprecated) or ClickHouse; the answer decides which checks and which advice apply.
"""

from __future__ import annotations

from posthog_doctor.check import Advice, Check, Context, Option, Outcome, Table, explained, ok, undetermined, warn

from ..common import docs
from ..common.analytics_backend import CLICKHOUSE, CLICKHOUSE_TABLES_QUERY, POSTGRES, BackendVerdict, analytics_backend
from ..common.events_table import BOUNDS_QUERY


class AnalyticsDatabase(Check):
    """Decides whether events live in Postgres or ClickHouse from every signal available, and says which agreed."""

    id = "deployment.analytics_database"
    title = "Analytics database (Postgres or ClickHouse)"
    uses = ("posthog_api", "clickhouse", "postgres", "status_snapshot")
    tags = ("deployment", "postgres", "clickhouse")
    category = "Deployments/Upgrading"
    options = {
        "recent_days": Option(
            7, "an event in posthog_event newer than this many days means Postgres still receives events"
        ),
    }
    queries = (CLICKHOUSE_TABLES_QUERY, explained(BOUNDS_QUERY), BOUNDS_QUERY)

    def run(self, ctx: Context) -> Outcome:
        verdict = analytics_backend(ctx, ctx.options["recent_days"])
        evidence = [signals_table(verdict)]
        if not verdict.strong:
            return self._unknown(verdict, evidence)
        if verdict.disagree:
            return self._disagreement(verdict, evidence)
        database = verdict.backend
        assert database is not None  # strong signals that do not disagree point to one database
        agreeing = verdict.pointing_to(database)
        summary = (
            f"events live in {database} (the only signal read: {agreeing[0].source})"
            if len(agreeing) == 1
            else f"events live in {database}: {len(agreeing)} signals agree ({_sources(agreeing)})"
        )
        if database == CLICKHOUSE:
            return ok(summary, evidence=evidence)
        return ok(
            summary + "; Postgres-backed PostHog is deprecated",
            evidence=evidence,
            advice=[
                Advice(
                    "PostHog on Postgres is deprecated and slows down as event volume grows: postgres.event_volume "
                    "says whether this deployment's volume calls for ClickHouse now. Moving needs PostHog 1.29.0 or "
                    "later (1.30.0 recommended) on both the old and the new instance.",
                    links=[docs.MIGRATE_TO_CLICKHOUSE, docs.POSTGRES_VS_CLICKHOUSE],
                )
            ],
        )

    def _unknown(self, verdict: BackendVerdict, evidence) -> Outcome:
        hints = "; ".join(f"{s.source} suggests {s.points_to}" for s in verdict.weak)
        summary = "could not tell where events live: " + (
            f"only weak hints ({hints})" if hints else "no signal could be read"
        )
        return undetermined(
            summary,
            evidence=evidence,
            advice=[
                Advice(
                    "Give the doctor more to go on: a personal API key (--api-key) lets it read System "
                    "Status, and the ClickHouse and Postgres URLs PostHog itself uses let it look where the events are."
                )
            ],
        )

    def _disagreement(self, verdict: BackendVerdict, evidence) -> Outcome:
        sides = "; ".join(f"{db}: {_sources(verdict.pointing_to(db))}" for db in (CLICKHOUSE, POSTGRES))
        advice = [
            Advice(
                "The web app's setting and the data do not match. ClickHouse is used only when PRIMARY_DB=clickhouse "
                "and the enterprise (ee) image runs; check PRIMARY_DB on every PostHog container (web, worker, "
                "plugins): they must agree.",
                links=[docs.ENV_VARS],
            )
        ]
        arriving = [s for s in verdict.pointing_to(POSTGRES) if s.source.startswith("Postgres")]
        if arriving:
            advice.insert(
                0,
                Advice(
                    "Events are still arriving in Postgres. Mid-migration this is expected: the old Postgres-backed "
                    "instance keeps receiving events until the event sources point at the new ClickHouse instance. "
                    "Make sure the doctor's URLs belong to one instance, then finish the move.",
                    links=[docs.MIGRATE_TO_CLICKHOUSE],
                ),
            )
        return warn(f"signals disagree on where events live ({sides})", evidence=evidence, advice=advice)


def signals_table(verdict: BackendVerdict) -> Table:
    rows = [
        [
            s.source,
            s.observed,
            s.points_to or "—",
            "yes" if s.points_to and s.strong else ("hint only" if s.points_to else "no"),
        ]
        for s in verdict.signals
    ]
    return Table(
        "Signals",
        ["Source", "Observed", "Points to", "Counted"],
        rows,
        note="Hints (realm, an empty or old posthog_event) never decide alone.",
    )


def _sources(signals) -> str:
    return ", ".join(s.source for s in signals)
