"""What other components know about dead-lettered events, for `clickhouse.dead_letter_queue` to weigh.

Since 2025 PostHog's ingestion dead-letters failed events to the Kafka topic `events_plugin_ingestion_dlq`
(nodejs/src/ingestion/ingestion-consumer.ts @ 4ce4982, `INGESTION_CONSUMER_DLQ_TOPIC`); ClickHouse then keeps
only a `pipeline_step_dlq` ingestion warning per event. Two other places know more, and other checks read
them: the plugin server's `/_metrics` (`events_pipeline_step_dlq_total{step_name}`, counted since the
process started) and the topic itself (its message count, the `dlq_reason`/`dlq_step` headers).

This module is the seam between them. A check that reads such a source registers a reader once, at import:

    register("plugin_server_metrics", "plugin_server", read_dlq_counters)   # (ctx) -> DeadLetterFact | None

and `gather(ctx)` runs every registered reader through `ctx.shared`, so a source is read once per run by
whichever check asks first. A reader runs only when its component is declared by the asking check (see
`COMPONENTS`, which `clickhouse.dead_letter_queue` declares in `uses`) and reachable. The plugin servers'
`/_metrics` and the Kafka topic are registered below; without a reachable source the DLQ check decides from
ClickHouse alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from posthog_doctor.check import ConnectorError, Context, Skip

KAFKA_DLQ_TOPIC = "events_plugin_ingestion_dlq"  # before KAFKA_PREFIX; config.ts @ 2ab7f01
# Components a registered reader may use; the DLQ check declares them in `uses`.
COMPONENTS: tuple[str, ...] = ("plugin_server", "kafka")


@dataclass(frozen=True)
class DeadLetterFact:
    """One source's word on dead-lettered events."""

    source: str  # where it was read, as the report names it ("plugin server /_metrics")
    kafka_topic: bool  # it shows this PostHog dead-letters to the Kafka topic (not the ClickHouse table)
    events: int | None = None  # dead-lettered events it counts (None: it cannot count them)
    detail: str = ""  # what the count covers ("since the process started 3 h ago; processPersonsStep: 12")


Reader = Callable[[Context], "DeadLetterFact | None"]


@dataclass(frozen=True)
class _Source:
    component: str
    read: Reader


_SOURCES: dict[str, _Source] = {}


def register(name: str, component: str, read: Reader) -> None:
    """Add (or replace) a source of facts; `component` is the one its reader reads."""
    _SOURCES[name] = _Source(component, read)


def unregister(name: str) -> None:
    _SOURCES.pop(name, None)


def gather(ctx: Context) -> tuple[list[DeadLetterFact], list[str]]:
    """Every registered source's fact (read once per run), and a note for each source that could not be read."""
    facts: list[DeadLetterFact] = []
    notes: list[str] = []
    for name, source in sorted(_SOURCES.items()):
        if source.component not in ctx.components or not ctx.available(source.component):
            continue
        try:
            fact = ctx.shared(f"dead_letter_fact:{name}", _reading(source, ctx))
        except (Skip, ConnectorError) as exc:
            notes.append(f"{name}: {exc}")
            continue
        if fact is not None:
            facts.append(fact)
    return facts, notes


def _reading(source: _Source, ctx: Context) -> Callable[[], DeadLetterFact | None]:
    return lambda: source.read(ctx)


def _plugin_server_metrics(ctx: Context) -> DeadLetterFact | None:
    """The plugin servers' own count (`/_metrics`, since each process started); it cannot tell table from topic."""
    from .plugin_server import dead_lettered

    events, detail = dead_lettered(ctx)
    if events is None:
        return None
    return DeadLetterFact("plugin server /_metrics", kafka_topic=False, events=events, detail=detail)


def _kafka_topic(ctx: Context) -> DeadLetterFact | None:
    """The dead letter topic itself: where it exists, this PostHog dead-letters to Kafka (2025+)."""
    from .kafka_dlq import dead_letter_topic

    topic = dead_letter_topic(ctx)
    if not topic.exists:
        return None
    return DeadLetterFact(
        f"Kafka topic {topic.topic}",
        kafka_topic=True,
        events=topic.last_day,
        detail=f"in the last 24 h; {topic.retained:,} kept on the topic (see kafka.dead_letter_topic)",
    )


register("plugin_server_metrics", "plugin_server", _plugin_server_metrics)
register("kafka_dlq_topic", "kafka", _kafka_topic)
