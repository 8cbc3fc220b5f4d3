"""How far events' own timestamps lie from their arrival, per team: the share of the last day's arrivals (by
`_timestamp`) timestamped more than an hour in the future or more than a day in the past.

Events ahead of their arrival come from client clocks PostHog did not correct: it corrects the skew with the
request's sent_at (unless `$ignore_sent_at`) and, since 2022-23, clamps events more than 23 h ahead to the
time it processed them (ingestion warning `event_timestamp_in_future`; plugin-server
src/worker/ingestion/timestamps.ts, FutureEventHoursCutoffMillis). Events far behind come from clients that
batch (mobile apps offline), imports, or a pipeline that is itself behind (then nearly all events are late).
The scan is the shared arrivals pass (_arrivals.py), bounded by a read budget.
"""

from __future__ import annotations

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    Evidence,
    Finding,
    Item,
    Option,
    Outcome,
    Skip,
    Table,
    Values,
    conclude,
    units,
)

from ...common import docs
from .._common import SERVER_NOW, pct, tables
from .scan import ARRIVALS, PAST_SCAN_DAYS, Cell, arrivals

FUTURE_ADVICE = Advice(
    "Events timestamped in the future come from client clocks that are ahead and that PostHog could not correct: "
    "it corrects the skew with the request's sent_at, so look for senders that set `timestamp` without sent_at "
    "(server-side libraries, custom HTTP calls, imports) or that set $ignore_sent_at. Newer PostHog clamps events "
    "more than 23 h ahead to the time it processed them and records an ingestion warning (event_timestamp_in_"
    "future); older plugin servers store them as sent. Future events land in future partitions and skew "
    "insights' recent periods.",
    links=[docs.TIMESTAMPS, docs.INGESTION_WARNINGS],
)
PAST_ADVICE = Advice(
    "Events that arrive more than a day after their timestamp come from clients that queue events (mobile apps "
    "offline, batch senders) or from imports; they land in past periods after insights were computed, and old "
    "partitions get new parts. If nearly every event of every team is late, the pipeline itself is behind: see "
    "the clickhouse.ingestion check and the plugin server's Kafka lag.",
    links=[docs.TIMESTAMPS, docs.INGESTION_LAG],
)
LAG_ADVICE = Advice(
    "Nearly every event arriving now is more than an hour old: the plugin server (or Kafka) is behind, not the "
    "clients. Check the plugin server's consumer lag and scale or restart it (PostHog's ingestion-lag runbook).",
    commands=[
        "docker compose logs --tail 200 plugins   # hobby",
        "kubectl logs -n posthog deploy/posthog-plugins --tail 200   # Helm",
    ],
    links=[docs.INGESTION_LAG],
)


class EventTimestamps(Check):
    """The share of the last day's arrivals, per team, timestamped more than 1 h in the future or more than 24 h in
    the past (clock skew, client batching, PostHog's 23 h future clamp), from one bounded scan."""

    id = "clickhouse.event_timestamps"
    title = "Event timestamps against their arrival"
    needs = ("clickhouse",)
    tags = ("clickhouse", "ingestion")
    category = "Data integrity"
    timeout = 30.0
    options = {
        "future_warn_pct": Option(5.0, "warn when more than this share of a team's events are over 1 h ahead"),
        "past_warn_pct": Option(20.0, "warn when more than this share of a team's events are over 24 h late"),
        "lag_warn_pct": Option(90.0, "call it pipeline lag when this share of the last hour's events is 1 h late"),
        "min_events": Option(100, "judge a team only with at least this many arrivals in the last day"),
        "events_max_rows_to_read": Option(300_000_000, "read budget of the scan of recent events"),
    }
    queries = (ARRIVALS, SERVER_NOW)

    def run(self, ctx: Context) -> Outcome:
        if "events" not in tables(ctx):
            raise Skip(f"no events table in database {ctx.clickhouse.database!r}: see the schema check")
        o = ctx.options
        seen = arrivals(ctx, o["events_max_rows_to_read"])
        teams = seen.per_team_last_day()
        findings = []
        for team, c in sorted(teams.items(), key=lambda kv: -kv[1].events):
            if c.events < o["min_events"]:
                continue
            if pct(c.ahead_hour, c.events) > o["future_warn_pct"]:
                clamp = (
                    f"; {c.ahead_23h:,} more than 23 h ahead, which newer PostHog clamps: this pipeline does not"
                    if c.ahead_23h
                    else ""
                )
                findings.append(
                    Finding.warn(
                        f"team {team}: {pct(c.ahead_hour, c.events):g}% of the last day's {c.events:,} events are "
                        f"timestamped more than 1 h after they arrived (up to {units.duration(c.most_ahead)} "
                        f"ahead){clamp}",
                        FUTURE_ADVICE,
                        key=f"future:{team}",
                    )
                )
            if pct(c.behind_day, c.events) > o["past_warn_pct"]:
                findings.append(
                    Finding.warn(
                        f"team {team}: {pct(c.behind_day, c.events):g}% of the last day's {c.events:,} events "
                        f"arrived more than 24 h after their timestamp (up to {units.duration(c.most_behind)} late)",
                        PAST_ADVICE,
                        key=f"past:{team}",
                    )
                )
        hour = seen.last_hour()
        if hour.events >= o["min_events"] and pct(hour.behind_hour, hour.events) >= o["lag_warn_pct"]:
            findings.insert(
                0,
                Finding.warn(
                    f"{pct(hour.behind_hour, hour.events):g}% of the {hour.events:,} events that arrived in the last "
                    "hour were more than 1 h old: the pipeline is behind",
                    LAG_ADVICE,
                    key="lag",
                ),
            )
        total = Cell()
        for c in teams.values():
            total.add(c)
        partial = f"partial scan: {seen.partial_reason}" if seen.partial_reason else ""
        evidence: list[Evidence] = [
            Values(
                "Last day's arrivals",
                [
                    Item("Events that arrived in the last 24 h", total.events, "events"),
                    Item("More than 1 h ahead of their arrival", total.ahead_hour, "ahead_hour"),
                    Item("More than 23 h ahead (PostHog clamps these since 2022-23)", total.ahead_23h, "ahead_23h"),
                    Item("More than 24 h behind", total.behind_day, "behind_day"),
                    Item("More than 1 h behind, last hour only", hour.behind_hour, "late_last_hour"),
                ],
                note="; ".join(
                    n
                    for n in (
                        partial,
                        f"events timestamped more than {PAST_SCAN_DAYS} days before the last week are not read",
                    )
                    if n
                ),
            ),
            Table(
                "Per team, last 24 h",
                [
                    "Team",
                    "Events",
                    "> 1 h ahead",
                    "Ahead %",
                    "> 23 h ahead",
                    "> 24 h behind",
                    "Behind %",
                    "Most ahead",
                    "Most behind",
                ],
                [
                    [
                        team,
                        c.events,
                        c.ahead_hour,
                        pct(c.ahead_hour, c.events),
                        c.ahead_23h,
                        c.behind_day,
                        pct(c.behind_day, c.events),
                        units.duration(c.most_ahead),
                        units.duration(c.most_behind),
                    ]
                    for team, c in sorted(teams.items(), key=lambda kv: -kv[1].events)[:50]
                ],
            ),
        ]
        healthy = (
            f"{total.events:,} events arrived in the last 24 h: {pct(total.ahead_hour, total.events):g}% over 1 h "
            f"ahead, {pct(total.behind_day, total.events):g}% over 24 h late"
            if total.events
            else "no events arrived in the last 24 h (see clickhouse.ingestion)"
        )
        return conclude(
            findings,
            healthy,
            evidence=evidence,
            partial=bool(partial),
            metrics={
                "events_future_pct": pct(total.ahead_hour, total.events),
                "events_late_pct": pct(total.behind_day, total.events),
            },
        )
