"""The check itself: reading, judging and reporting (the package's docstring says what it looks at)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    Evidence,
    Item,
    Option,
    Outcome,
    Point,
    Query,
    Series,
    Skip,
    Table,
    Values,
    fail,
    ok,
    units,
    warn,
)

from ...common import docs
from ...common.kafka_consumers import CONSUMERS, clickhouse_kafka_consumers
from .._common import HOUR, as_int, day_label, events_data_table, minute_label, tables
from .._ingest_profile import PREVIOUS_DAYS, IngestProfile, ingest_profile
from .._ingest_profile import QUERIES as PROFILE_QUERIES

STORED = Query.from_file(__file__, "events_stored.sql", "clickhouse")
KAFKA_PATH = Query.from_file(__file__, "kafka_path.sql", "clickhouse")
CONSUMERS_SINCE = (23, 8)  # system.kafka_consumers appeared in ClickHouse 23.8
CONSUMERS_SHOWN = 100
_VIEW_TARGET = re.compile(r"\bTO\s+(?:`?\w+`?\.)?`?(\w+)`?", re.I)

RESTART_ADVICE = Advice(
    "Restart the ingestion pods (the plugin server): it is safe and loses no data, since unprocessed events "
    "wait in Kafka. Then check the plugin server's logs and the dead letter queue check.",
    commands=[
        "docker compose restart plugins   # hobby",
        "kubectl rollout restart deployment/posthog-plugins -n posthog   # Helm",
    ],
    links=[docs.INGESTION_LAG],
)
RECREATE_ADVICE = Advice(
    "If ClickHouse itself is not consuming from Kafka, recreate the Kafka table and its materialized view: "
    "save both definitions, drop the view, then the Kafka table, and create them again in reverse order "
    "(Kafka table first). Never SELECT from kafka_events_json: reading it consumes the events.",
    commands=[
        "SHOW CREATE TABLE kafka_events_json",
        "SHOW CREATE TABLE events_json_mv",
        "DROP VIEW events_json_mv",
        "DROP TABLE kafka_events_json",
        "-- then run the two saved CREATE statements: kafka_events_json first, events_json_mv second",
    ],
    links=[docs.INGESTION_LAG, docs.KAFKA_ENGINE],
)


@dataclass
class KafkaPath:
    """What the table metadata says about the Kafka -> ClickHouse path; `problems` in plain words."""

    rows: list[list]
    problems: list[str]


class Ingestion(Check):
    """Whether events still arrive in ClickHouse: the newest `_timestamp`, events per minute in the last hour
    against the same hour on the previous 7 days, and the Kafka table and materialized view that feed them."""

    id = "clickhouse.ingestion"
    title = "Ingestion: are new events arriving in ClickHouse?"
    needs = ("clickhouse",)
    tags = ("clickhouse", "ingestion", "data-loss")
    category = "Data integrity"
    timeout = 30.0
    options = {
        "stall_minutes": Option(60, "fail when no event arrived for this long while traffic was expected"),
        "min_expected_events": Option(
            20,
            "only call it a stall when at least this many events were expected "
            "in the silence (quiet installs go hours without events)",
        ),
        "drop_pct": Option(20.0, "warn when the last hour had less than this share of the usual traffic"),
        "events_max_rows_to_read": Option(300_000_000, "read budget of the scan of recent events"),
    }
    queries = (*PROFILE_QUERIES, STORED, KAFKA_PATH, CONSUMERS)

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        present = tables(ctx)
        if "events" not in present:
            raise Skip(f"no events table in database {ctx.clickhouse.database!r}: see the schema check")
        profile = ingest_profile(ctx, o["events_max_rows_to_read"])
        stored = (
            ctx.clickhouse.query(STORED, {"database": ctx.clickhouse.database, "table": events_data_table(ctx)}).first()
            or {}
        )
        path = self._kafka_path(ctx, present)
        consumers, consumer_note = self._consumers(ctx)
        path.problems += consumer_problems(consumers or [], profile.server_now, o["stall_minutes"] * 60)
        evidence: list[Evidence] = [
            self._overview(profile, stored),
            self._per_minute(profile),
            self._same_hour(profile),
            Table(
                "Kafka -> ClickHouse path",
                ["Table", "Engine", "Feeds / writes to", "Note"],
                path.rows,
                note="; ".join(n for n in (*path.problems, consumer_note) if n),
            ),
        ]
        if consumers:
            evidence.append(self._consumer_table(consumers))
        outcome = self._verdict(profile, as_int(stored.get("stored_rows")), path, o, evidence)
        outcome.metrics.update(
            {
                k: v
                for k, v in {
                    "ingestion_silence_minutes": round(profile.silence_seconds / 60, 1) if profile.newest else None,
                    "events_last_hour": profile.last_hour,
                    "events_typical_hour": profile.typical_hour,
                    "events_last_day": profile.last_day,
                }.items()
                if v is not None
            }
        )
        return outcome

    # -- reading --

    @staticmethod
    def _kafka_path(ctx: Context, present) -> KafkaPath:
        found = {r["name"]: r for r in ctx.clickhouse.query(KAFKA_PATH, {"database": ctx.clickhouse.database}).dicts()}
        rows, problems = [], []
        source = "kafka_events_json" if "kafka_events_json" in found or "kafka_events" not in found else "kafka_events"
        view = "events_json_mv" if source == "kafka_events_json" else "events_mv"
        for name in (source, view):
            table = found.get(name)
            if table is None:
                problems.append(f"{name} is missing (or detached)")
                rows.append([name, "—", "—", "missing or detached"])
                continue
            if name == source:
                feeds = ", ".join(table["dependents"]) or "nothing"
                if view not in table["dependents"]:
                    problems.append(f"{name} feeds no {view}")
                rows.append([name, table["engine"], feeds, "" if table["engine"] == "Kafka" else "not a Kafka engine"])
            else:
                target = _VIEW_TARGET.search(str(table["view_query"]))
                target_name = target.group(1) if target else "?"
                if target_name not in present:
                    problems.append(f"{name} writes to {target_name}, which does not exist")
                rows.append([name, table["engine"], target_name, ""])
        return KafkaPath(rows, problems)

    @staticmethod
    def _consumers(ctx: Context) -> tuple[list[dict] | None, str]:
        version = tuple(int(p) for p in re.findall(r"\d+", ctx.probe("clickhouse").version or "")[:2])
        if version and version < CONSUMERS_SINCE:
            return None, f"Kafka consumer state needs ClickHouse 23.8+ (this is {ctx.probe('clickhouse').version})"
        try:
            rows = clickhouse_kafka_consumers(ctx)[:CONSUMERS_SHOWN]
        except ConnectorError as exc:
            return None, f"Kafka consumer state not read: {exc}"
        return rows, "" if rows else "no Kafka consumers in system.kafka_consumers"

    @staticmethod
    def _consumer_table(consumers: list[dict]) -> Table:
        return Table(
            "Kafka consumers (system.kafka_consumers)",
            [
                "Table",
                "Consumer",
                "Last poll",
                "Last commit",
                "Messages read",
                "In use",
                "Exceptions",
                "Last exception at",
                "Last exception",
            ],
            [
                [
                    r["table"],
                    r["consumer_id"],
                    units.utc(as_int(r["last_poll"])),
                    units.utc(as_int(r["last_commit"])),
                    as_int(r["messages_read"]),
                    bool(as_int(r["in_use"])),
                    as_int(r["exceptions"]),
                    units.utc(as_int(r["last_exception_at"])),
                    r["last_exception"],
                ]
                for r in consumers
            ],
        )

    # -- reporting --

    @staticmethod
    def _overview(p: IngestProfile, stored: dict) -> Values:
        return Values(
            "Ingestion",
            [
                Item(
                    "Newest event arrival (_timestamp)", units.utc(p.newest) if p.newest else "none in 7 days", "newest"
                ),
                Item("Silence (minutes)", round(p.silence_seconds / 60) if p.newest else None, "silence_minutes"),
                Item("Events, last hour", p.last_hour, "last_hour"),
                Item("Events in this hour, median of the previous 7 days", p.typical_hour, "typical_hour"),
                Item("Events per hour, average of the last 7 days", round(p.hourly_rate, 1), "hourly_rate"),
                Item("Events, last 24 h", p.last_day, "last_day"),
                Item("Events stored (rows in active parts)", as_int(stored.get("stored_rows")), "stored_rows"),
                Item(
                    "Newest part of the events table written",
                    units.utc(as_int(stored.get("newest_part"))),
                    "newest_part",
                ),
            ],
            note=f"partial: {p.partial_reason}" if p.partial_reason else "",
        )

    @staticmethod
    def _per_minute(p: IngestProfile) -> Series:
        last = p.server_now - p.server_now % 60
        minutes = range(last - 60 * 60, last + 1, 60)
        return Series(
            "Events per minute, last hour (by arrival)",
            [Point(minute_label(m), p.per_minute.get(m, 0)) for m in minutes],
            unit="events",
            note="minutes in UTC",
        )

    @staticmethod
    def _same_hour(p: IngestProfile) -> Table:
        rows = [["last hour", p.last_hour]] + [
            [f"{d} day{'s' if d > 1 else ''} before ({day_label(p.server_now - d * 86400)})", p.same_hour.get(d, 0)]
            for d in range(1, PREVIOUS_DAYS + 1)
        ]
        return Table("The same hour on previous days", ["Hour", "Events"], rows)

    @staticmethod
    def _verdict(p: IngestProfile, stored_rows: int, path: KafkaPath, o, evidence):
        partial = f" (partial scan: {p.partial_reason})" if p.partial_reason else ""
        path_text = f"; Kafka path: {', '.join(path.problems)}" if path.problems else ""
        advice = [RESTART_ADVICE, RECREATE_ADVICE]
        stall = o["stall_minutes"] * 60
        if not p.newest:
            if not stored_rows:
                return warn(
                    f"no events have arrived in ClickHouse yet{path_text}: send a test event and look at "
                    "the dead letter queue",
                    evidence=evidence,
                    advice=advice,
                )
            return fail(
                f"no event arrived in the last {PREVIOUS_DAYS} days, while the events table holds "
                f"{stored_rows:,} rows{path_text}{partial}",
                evidence=evidence,
                advice=advice,
                partial=bool(partial),
            )
        silence = p.silence_seconds
        expected = p.hourly_rate * silence / HOUR
        if silence >= stall:
            said = (
                f"no event arrived for {units.duration(silence)} (newest {units.utc(p.newest)}); about "
                f"{expected:,.0f} were expected at the last 7 days' rate{path_text}{partial}"
            )
            if expected >= o["min_expected_events"] and not partial:
                return fail(said, evidence=evidence, advice=advice)
            return warn(
                said + " (traffic is low or the scan partial: this may be normal)",
                evidence=evidence,
                advice=advice,
                partial=bool(partial),
            )
        typical = p.typical_hour
        if typical >= o["min_expected_events"] and p.last_hour < typical * o["drop_pct"] / 100:
            return warn(
                f"{p.last_hour:,} events in the last hour, {100 * p.last_hour / typical:.0f}% of the usual "
                f"{typical:,.0f} for this hour{path_text}{partial}",
                evidence=evidence,
                advice=advice,
                partial=bool(partial),
            )
        summary = (
            f"events are arriving: newest {units.duration(silence)} ago, {p.last_hour:,} in the last hour "
            f"(usually {typical:,.0f}){partial}"
        )
        if path.problems:
            return warn(summary + path_text, evidence=evidence, advice=[RECREATE_ADVICE], partial=bool(partial))
        return ok(summary, evidence=evidence, partial=bool(partial))


def consumer_problems(consumers: list[dict], now: int, stall_seconds: int) -> list[str]:
    """What system.kafka_consumers says is wrong: an exception within the last hour, or a consumer in use that
    has not polled Kafka for as long as counts as a stall."""
    problems = []
    for c in consumers:
        name = f"{c['table']} consumer {c['consumer_id']}"
        if as_int(c["exceptions"]) and now - as_int(c["last_exception_at"]) < HOUR:
            problems.append(
                f"{name} failed at {units.utc(as_int(c['last_exception_at']))}: {str(c['last_exception'])[:200]}"
            )
        if as_int(c["in_use"]) and now - as_int(c["last_poll"]) >= stall_seconds:
            problems.append(f"{name} last polled Kafka at {units.utc(as_int(c['last_poll']))}")
    return problems
