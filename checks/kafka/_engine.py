"""ClickHouse's Kafka-engine table definitions, parsed: broker list (or named collection), topics, group, format.

Three spellings across PostHog's generations (posthog/clickhouse/kafka_engine.py and the schema snapshots):
- `Kafka('kafka:9092', 'clickhouse_events_json', 'group1', 'JSONEachRow') SETTINGS ...` (2022-2024);
- `Kafka(msk_cluster, kafka_topic_list = 'clickhouse_events_json', kafka_group_name = 'group1',
  kafka_format = 'JSONEachRow')`, the broker list in the named collection (newest);
- `Kafka() SETTINGS kafka_broker_list = 'kafka', kafka_topic_list = 'clickhouse_events_proto', ...` (2021).
Only these four fields are kept: the definition may carry other settings (a SASL password) that the report
must never show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

POSITIONAL = ("kafka_broker_list", "kafka_topic_list", "kafka_group_name", "kafka_format")


@dataclass
class KafkaTable:
    name: str
    brokers: list[str] = field(default_factory=list)  # host:port as ClickHouse has them (empty: in a collection)
    collection: str = ""  # named collection holding the broker list
    topics: list[str] = field(default_factory=list)
    group: str = ""
    format: str = ""
    views: list[str] = field(default_factory=list)  # materialized views reading it (what makes it consume)
    unreadable: str = ""  # why the definition could not be parsed


def parse_kafka_engine(name: str, engine_full: str, views: list[str] | None = None) -> KafkaTable:
    """The four hand-over fields of one Kafka table from its `engine_full` (or `create_table_query`)."""
    table = KafkaTable(name, views=list(views or []))
    text = str(engine_full or "")
    start = text.find("Kafka")
    if start < 0:
        table.unreadable = "not a Kafka engine definition"
        return table
    rest = text[start + len("Kafka") :].lstrip()
    args: list[str] = []
    if rest.startswith("("):
        inside, after = _balanced(rest)
        if inside is None:
            table.unreadable = "unbalanced parentheses in the engine definition"
            return table
        args = _split(inside)
        rest = after
    settings: dict[str, str] = {}
    positional: list[str] = []
    for arg in args:
        key, eq, value = _assignment(arg)
        if eq:
            settings[key] = value
        elif arg.strip():
            positional.append(arg.strip())
    settings_at = rest.upper().find("SETTINGS")
    if settings_at >= 0:
        for arg in _split(rest[settings_at + len("SETTINGS") :]):
            key, eq, value = _assignment(arg)
            if eq:
                settings.setdefault(key, value)
    if positional and not _quoted(positional[0]) and len(positional) == 1 and settings:
        table.collection = positional[0].strip('`"')  # Kafka(collection, key = value, ...)
        positional = []
    for key, raw in zip(POSITIONAL, positional, strict=False):
        settings.setdefault(key, _unquote(raw))
    table.brokers = _list(settings.get("kafka_broker_list", ""))
    table.topics = _list(settings.get("kafka_topic_list", ""))
    table.group = settings.get("kafka_group_name", "")
    table.format = settings.get("kafka_format", "")
    if not table.topics and not table.group:
        table.unreadable = "no topic or group found in the engine definition"
    return table


def _balanced(text: str) -> tuple[str | None, str]:
    """The text inside the parentheses `text` starts with, and what follows them (quotes respected)."""
    depth, quote = 0, ""
    for i, ch in enumerate(text):
        if quote:
            if ch == "\\":
                continue
            if ch == quote and text[i - 1] != "\\":
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[1:i], text[i + 1 :]
    return None, ""


def _split(text: str) -> list[str]:
    """Top-level comma-separated parts (commas inside quotes or parentheses kept)."""
    parts, current, depth, quote = [], [], 0, ""
    prev = ""
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote and prev != "\\":
                quote = ""
        elif ch in "'\"`":
            quote = ch
            current.append(ch)
        elif ch == "(":
            depth += 1
            current.append(ch)
        elif ch == ")":
            depth -= 1
            current.append(ch)
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        prev = ch
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _assignment(arg: str) -> tuple[str, bool, str]:
    """`key = 'value'` -> (key, True, value); anything else -> ('', False, '')."""
    if _quoted(arg.strip()):
        return "", False, ""
    key, eq, value = arg.partition("=")
    if not eq or not key.strip().replace("_", "").isalnum():
        return "", False, ""
    return key.strip().lower(), True, _unquote(value.strip())


def _quoted(text: str) -> bool:
    return len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""


def _unquote(text: str) -> str:
    text = text.strip()
    if _quoted(text):
        return text[1:-1].replace("\\'", "'")
    return text


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
