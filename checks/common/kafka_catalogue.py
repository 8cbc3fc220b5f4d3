"""PostHog's Kafka topics and consumer groups (`kafka_catalogue.yaml`), with a deployment's KAFKA_PREFIX applied.

The knowledge (names, roles, sources) is data in the YAML file; this module only loads it, checks its
shape when imported (a broken file is a load problem in the report, not silently no checks), and puts the
prefix in front of the names PostHog prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from posthog_doctor.check import load_yaml

CATALOGUE_FILE = Path(__file__).with_name("kafka_catalogue.yaml")


@dataclass(frozen=True)
class TopicInfo:
    name: str
    what: str
    required: bool = False  # every event passes through it: missing, ingestion stops
    instead: tuple[str, ...] = ()  # topics an older PostHog carried the same events on (present: not missing)


@dataclass(frozen=True)
class GroupInfo:
    id: str
    role: str
    who: str
    reads: tuple[str, ...] = ()  # topics it consumes (empty: whatever it has committed offsets on)
    prefixed: bool = False  # PostHog puts KAFKA_PREFIX in front of this group id too


@dataclass(frozen=True)
class Catalogue:
    topics: tuple[TopicInfo, ...]
    groups: tuple[GroupInfo, ...]
    required_roles: dict[str, str] = field(default_factory=dict)  # role -> the topic it must consume
    dead_letter_topic: str = ""
    prefix: str = ""

    def topic(self, name: str) -> TopicInfo | None:
        return next((t for t in self.topics if t.name == name), None)

    def group(self, group_id: str) -> GroupInfo | None:
        return next((g for g in self.groups if g.id == group_id), None)

    @property
    def topic_names(self) -> list[str]:
        return [t.name for t in self.topics]

    def unprefixed(self, name: str) -> str:
        """A topic name as PostHog's source spells it (the deployment's prefix taken off)."""
        return name.removeprefix(self.prefix) if self.prefix else name

    def with_prefix(self, prefix: str) -> Catalogue:
        """The names as this deployment has them: topics (and prefixed group ids) with KAFKA_PREFIX in front."""
        if not prefix:
            return self
        return Catalogue(
            tuple(replace(t, name=prefix + t.name, instead=tuple(prefix + i for i in t.instead)) for t in self.topics),
            tuple(
                replace(g, id=prefix + g.id if g.prefixed else g.id, reads=tuple(prefix + r for r in g.reads))
                for g in self.groups
            ),
            {role: prefix + topic for role, topic in self.required_roles.items()},
            prefix + self.dead_letter_topic,
            prefix,
        )


def load_catalogue(path: Path = CATALOGUE_FILE) -> Catalogue:
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    topics, groups = [], []
    for entry in data.get("topics") or []:
        if not entry.get("name") or not entry.get("what"):
            raise ValueError(f"{path.name}: a topic lacks its name or what it carries: {entry!r}")
        topics.append(
            TopicInfo(
                str(entry["name"]),
                str(entry["what"]),
                bool(entry.get("required")),
                tuple(str(i) for i in entry.get("instead") or ()),
            )
        )
    for entry in data.get("groups") or []:
        missing = [k for k in ("id", "role", "who") if not entry.get(k)]
        if missing:
            raise ValueError(f"{path.name}: group {entry.get('id', '?')!r} lacks {', '.join(missing)}")
        groups.append(
            GroupInfo(
                str(entry["id"]),
                str(entry["role"]),
                str(entry["who"]),
                tuple(str(t) for t in entry.get("reads") or ()),
                bool(entry.get("prefixed")),
            )
        )
    roles = {str(k): str(v) for k, v in (data.get("required_roles") or {}).items()}
    for role, topic in roles.items():
        if not any(g.role == role for g in groups) or not any(t.name == topic for t in topics):
            raise ValueError(f"{path.name}: required role {role!r} names no group or an unknown topic {topic!r}")
    dead_letter = str(data.get("dead_letter_topic") or "")
    if not any(t.name == dead_letter for t in topics):
        raise ValueError(f"{path.name}: dead_letter_topic {dead_letter!r} is not among the topics")
    return Catalogue(tuple(topics), tuple(groups), roles, dead_letter)


CATALOGUE = load_catalogue()


@cache
def catalogue(prefix: str = "") -> Catalogue:
    """PostHog's topics and groups as a deployment with this KAFKA_PREFIX names them."""
    return CATALOGUE.with_prefix(prefix)
