"""Arrivals per kind of event (event_families.yaml: $exception, $ai_*, $pageview, $autocapture, $identify,
$feature_flag_called, custom events, ...) in the last hour against the same hour on the previous 7 days, so
"everything arrives except one kind" shows, with where that kind's own lane can break.

Kinds that never reach `events` (recordings, heatmaps) are said, not judged, with the newest data of their own
tables from part metadata. A kind with no arrivals all week is listed, not judged (PostHog's newest
$exception only arrives when the error-tracking services run). The scan is the shared arrivals pass.
"""

from __future__ import annotations

from posthog_doctor.check import (
    Advice,
    Check,
    Context,
    Finding,
    Option,
    Outcome,
    Skip,
    Table,
    conclude,
    units,
)

from ...common import docs
from .._common import SERVER_NOW, tables
from .._disk_groups import PARTS_BY_TABLE, tables_on_disk
from .scan import ARRIVALS, FAMILIES, PREVIOUS_DAYS, EventFamily, arrivals, typical


class EventFamilies(Check):
    """Arrivals per event family ($exception, $ai_*, $pageview, $autocapture, $identify, $feature_flag_called,
    custom, ...) in the last hour against the same hour on the previous 7 days: one kind missing while the rest
    arrive; recordings and heatmaps, which never reach `events`, from their own tables."""

    id = "clickhouse.event_families"
    title = "Arrivals per kind of event"
    needs = ("clickhouse",)
    tags = ("clickhouse", "ingestion", "data-loss")
    category = "Data integrity"
    timeout = 30.0
    options = {
        "drop_pct": Option(20.0, "warn when a kind's last hour is below this share of its usual hour"),
        "min_expected_events": Option(20, "judge a kind only when this many arrivals were expected in the hour"),
        "others_pct": Option(50.0, "judge kinds only while all events together reach this share of their usual"),
        "events_max_rows_to_read": Option(300_000_000, "read budget of the scan of recent events"),
    }
    queries = (ARRIVALS, SERVER_NOW, PARTS_BY_TABLE)

    def run(self, ctx: Context) -> Outcome:
        if "events" not in tables(ctx):
            raise Skip(f"no events table in database {ctx.clickhouse.database!r}: see the schema check")
        o = ctx.options
        seen = arrivals(ctx, o["events_max_rows_to_read"])
        total_hour, total_same = seen.total_counts()
        total_typical = typical(total_same)
        everything_flows = total_typical > 0 and total_hour >= total_typical * o["others_pct"] / 100
        findings, rows = [], []
        for family in FAMILIES:
            last, same = seen.family_counts(family.id)
            usual = typical(same)
            rows.append(self._row(family, last, same, usual, ctx, seen.server_now))
            if family.never_in_events or usual < o["min_expected_events"]:
                continue
            if last < usual * o["drop_pct"] / 100 and everything_flows:
                others = total_hour - last
                findings.append(
                    Finding.warn(
                        f"{family.title}: {last:,} arrived in the last hour, usually {usual:,.0f} at this hour, while "
                        f"the other events arrive ({others:,}, usually {total_typical - usual:,.0f})",
                        Advice(family.when_missing, links=list(family.links) or [docs.CLICKHOUSE_INGESTION]),
                        key=family.id,
                    )
                )
        partial = f"partial scan: {seen.partial_reason}" if seen.partial_reason else ""
        note = (
            "usual = median of the same hour on the previous 7 days; kinds that never reach events are said, not judged"
        )
        if not everything_flows and total_typical:
            note += (
                f"; all events are down together ({total_hour:,}, usually {total_typical:,.0f}): "
                "see clickhouse.ingestion"
            )
        evidence = [
            Table(
                "Arrivals per kind of event, last hour against the same hour on previous days",
                [
                    "Kind",
                    "Last hour",
                    "Usual (median)",
                    *[f"{d} d before" for d in range(1, PREVIOUS_DAYS + 1)],
                    "Note",
                ],
                rows,
                note="; ".join(n for n in (note, partial) if n),
            )
        ]
        judged = sum(
            1
            for f in FAMILIES
            if not f.never_in_events and typical(seen.family_counts(f.id)[1]) >= o["min_expected_events"]
        )
        return conclude(
            findings,
            f"{judged} kind{'s' if judged != 1 else ''} of event with usual traffic at this hour all arriving "
            f"({total_hour:,} events in the last hour, usually {total_typical:,.0f})",
            evidence=evidence,
            partial=bool(partial),
            metrics={"event_families_missing": len(findings)},
        )

    @staticmethod
    def _row(family: EventFamily, last: int, same: dict[int, int], usual: float, ctx: Context, now: int) -> list:
        note = ""
        if family.never_in_events:
            note = family.never_in_events + _own_tables_note(family, ctx, now)
        elif not usual and not any(same.values()) and not last:
            note = "none in 7 days: not judged"
        return [family.title, last, usual, *[same.get(d, 0) for d in range(1, PREVIOUS_DAYS + 1)], note]


def _own_tables_note(family: EventFamily, ctx: Context, now: int) -> str:
    if family.own_tables is None:
        return ""
    own = [t for t in tables_on_disk(ctx) if t.database != "system" and family.own_tables.search(t.table)]
    if not own:
        return " No such table here."
    newest = max(t.newest for t in own)
    where = ", ".join(t.table for t in own)
    if not newest:
        return f" {where}: no time range in its parts."
    return f" Newest data in {where}: {units.utc(newest)} ({units.duration(now - newest)} ago, from part metadata)."
