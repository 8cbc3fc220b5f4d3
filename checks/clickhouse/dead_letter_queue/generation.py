"""Which dead letter queue this PostHog writes: the ClickHouse table, the Kafka topic, or (for a while) both.

Until about 2024 a failed event became a row of `events_dead_letter_queue` (through its Kafka table). Since
2025 the ingestion pipeline sends it to the Kafka topic `events_plugin_ingestion_dlq` instead
(nodejs/src/ingestion/pipelines/result-handling-pipeline.ts @ b4ed316 -> sendMessageToDLQ), and ClickHouse
keeps only a `pipeline_step_dlq` ingestion warning per event (pipeline-helpers.ts @ b3cd2b3; the event-based
`sendEventToDLQ` of the same file wrote both for a while). An empty table proves nothing on such a PostHog.

The signals, strongest first:
- facts other components hold (the plugin server's /_metrics, the Kafka topic; `common/dead_letter_signals`);
- `pipeline_step_dlq` warnings for events the table does not hold: those went to Kafka only;
- an `ingestion_warnings` table without an `events_dead_letter_queue`;
- no `ingestion_warnings` table at all (a PostHog older than ClickHouse migration 0032_ingestion_warnings):
  the table is its only dead letter queue;
- hints that decide nothing alone: a newer schema (`events_recent`, added with the 2025 layout), and a table
  whose newest part is weeks old while events flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from posthog_doctor.check import units

from ...common.dead_letter_signals import KAFKA_DLQ_TOPIC, DeadLetterFact

TABLE, KAFKA, BOTH, UNKNOWN = "table", "kafka", "both", "unknown"
NEWER_SCHEMA_MARKERS = ("events_recent", "kafka_events_recent_json")
TOPIC = f"the Kafka topic {KAFKA_DLQ_TOPIC}"


@dataclass
class Footprint:
    """What part metadata says about the DLQ table (no scan)."""

    stored_rows: int
    newest_part: int  # Unix time of the newest active part; 0 when the table has none
    server_now: int

    @property
    def quiet_seconds(self) -> int | None:
        """How long the table has gone unwritten (None: it never was)."""
        return self.server_now - self.newest_part if self.newest_part else None


@dataclass
class Generation:
    """Where this PostHog dead-letters, and the signals that said so (each a row of the report's table)."""

    kind: str
    signals: list[list[str]] = field(default_factory=list)  # [signal, what was seen, what it says]
    hint: str = ""  # UNKNOWN only: the tables that make a Kafka dead letter queue likely

    @property
    def writes_kafka(self) -> bool:
        return self.kind in (KAFKA, BOTH)

    @property
    def destination(self) -> str:
        return {
            TABLE: "the events_dead_letter_queue table",
            KAFKA: TOPIC,
            BOTH: f"{TOPIC} and the events_dead_letter_queue table",
            UNKNOWN: "not known (see the signals)",
        }[self.kind]


def decide(
    present: dict[str, str],
    *,
    table_rows_in_context: int,
    kafka_only_warnings: int,
    warnings_also_in_table: int,
    footprint: Footprint | None,
    facts: list[DeadLetterFact],
    events_flowing: bool,
    quiet_days: float,
) -> Generation:
    """The generation the signals point to; see the module's docstring for their order."""
    has_table = "events_dead_letter_queue" in present
    has_warnings = "ingestion_warnings" in present
    signals: list[list[str]] = []
    kafka = False
    for fact in facts:
        says = KAFKA if fact.kafka_topic else "—"
        counted = f"{fact.events:,} dead-lettered" if fact.events is not None else "no count"
        signals.append([fact.source, f"{counted}{'; ' + fact.detail if fact.detail else ''}", says])
        kafka |= fact.kafka_topic
    if kafka_only_warnings:
        signals.append(
            [
                "pipeline_step_dlq ingestion warnings",
                f"{kafka_only_warnings:,} for events the DLQ table does not hold",
                KAFKA,
            ]
        )
        kafka = True
    if has_warnings and not has_table:
        signals.append(["tables", "ingestion_warnings, but no events_dead_letter_queue table", KAFKA])
        kafka = True
    if warnings_also_in_table:
        signals.append(
            [
                "pipeline_step_dlq ingestion warnings",
                f"{warnings_also_in_table:,} for events the DLQ table holds too (PostHog wrote both for a while)",
                BOTH,
            ]
        )
    if table_rows_in_context:
        signals.append(["events_dead_letter_queue", f"{table_rows_in_context:,} rows in the context period", TABLE])
    if has_table and not has_warnings:
        signals.append(
            [
                "tables",
                "no ingestion_warnings table (a PostHog older than ClickHouse migration 0032_ingestion_warnings)",
                TABLE,
            ]
        )
    newer = [name for name in NEWER_SCHEMA_MARKERS if name in present]
    if newer:
        signals.append(
            ["schema", f"{', '.join(newer)} present (the current layout; the 2023 one had neither)", "hint: Kafka"]
        )
    quiet = footprint.quiet_seconds if footprint else None
    if footprint is not None and events_flowing and (quiet is None or quiet >= quiet_days * 86400):
        seen = "never written" if quiet is None else f"newest part written {units.duration(quiet)} ago"
        signals.append(["events_dead_letter_queue", f"{seen} while events flow", "hint: Kafka"])

    if kafka:
        kind = BOTH if (table_rows_in_context or warnings_also_in_table) else KAFKA
    elif table_rows_in_context or (has_table and not has_warnings):
        kind = TABLE
    else:
        kind = UNKNOWN
    generation = Generation(kind, signals)
    if kind == UNKNOWN and newer:  # a table unwritten for long is also what a PostHog where nothing failed has
        generation.hint = newer[0]
    return generation
