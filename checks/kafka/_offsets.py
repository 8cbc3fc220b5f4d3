"""What the Kafka checks read once per run: the topics and groups that matter to PostHog, every relevant
partition's offsets (earliest, end, and "first offset after" a ladder of times), each group's committed
offsets, and how long ago a given offset was written. No message is read: offsets only.

How long ago an offset was written comes from ListOffsets by timestamp: the first offset at or after
"now minus A" is at or below offset C exactly when C was written less than A ago. A ladder of ages (1 min
to 7 d, one batched request each) brackets every offset; a few bisection rounds (one batched request each,
all partitions at once) narrow a bracket to a few percent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from posthog_doctor.check import Context, Kafka, units

from ..common.kafka_catalogue import Catalogue, GroupInfo, catalogue

SHARED_KEY = "kafka.snapshot"
LADDER = (60, 300, 900, units.HOUR, 6 * units.HOUR, units.DAY, 3 * units.DAY, units.WEEK)  # seconds ago
MAX_GROUPS = 50  # consumer groups whose offsets are read (PostHog's first); one OffsetFetch each
BISECT_ROUNDS = 6
BISECT_MARGIN_SECONDS = 2.0  # refine a bracket only while this much of the deadline is left

TP = tuple[str, int]


@dataclass
class Partition:
    topic: str
    id: int
    earliest: int
    end: int
    leader: int | None
    replicas: int
    in_sync: int
    by_age: dict[int, int] = field(default_factory=dict)  # ladder age -> first offset written since (end: none)

    @property
    def messages(self) -> int:
        return max(0, self.end - self.earliest)

    def written_within(self, seconds: int) -> int | None:
        """Messages written in the last `seconds` (a ladder age), None when that age was not read."""
        since = self.by_age.get(seconds)
        return None if since is None else max(0, self.end - max(since, self.earliest))


@dataclass
class Group:
    id: str
    info: GroupInfo | None  # PostHog's catalogue entry; None: a group PostHog's source does not name
    state: str
    members: int
    committed: dict[TP, int]  # committed offsets on the topics that matter

    @property
    def topics(self) -> list[str]:
        return sorted({t for t, _ in self.committed})


@dataclass
class Snapshot:
    at: float  # Unix time of the reading (the doctor's clock)
    catalogue: Catalogue
    broker_topics: list[str]  # every topic the broker has (for prefix hints)
    partitions: dict[TP, Partition]  # the partitions of the topics that matter
    groups: dict[str, Group]
    groups_not_read: int = 0  # groups past MAX_GROUPS, listed but not read

    def topic_partitions(self, topic: str) -> list[Partition]:
        return [p for (t, _), p in sorted(self.partitions.items()) if t == topic]

    @property
    def topics(self) -> list[str]:
        return sorted({t for t, _ in self.partitions})


def snapshot(ctx: Context) -> Snapshot:
    """The run's snapshot, read by the first Kafka check that asks and shared with the others."""
    kafka = ctx.kafka
    return ctx.shared(SHARED_KEY, lambda: read_snapshot(kafka))


def read_snapshot(kafka: Kafka, *, max_groups: int = MAX_GROUPS, now: float | None = None) -> Snapshot:
    """Groups, topics, offsets: a handful of batched requests plus one OffsetFetch per group read."""
    cat = catalogue(kafka.prefix)
    listed = kafka.groups()
    ordered = sorted(listed, key=lambda g: (cat.group(g.id) is None, g.id))  # PostHog's groups first
    chosen = [g.id for g in ordered[:max_groups]]
    every_topic = kafka.topics()
    by_name = {t.name: t for t in every_topic if not t.error}
    committed = {gid: kafka.group_offsets(gid) for gid in chosen}
    relevant = {gid: _relevant(offsets, cat.group(gid) is not None, cat) for gid, offsets in committed.items()}
    topics = (set(cat.topic_names) | {t for offsets in relevant.values() for t, _ in offsets}) & set(by_name)
    meta = {(t, p.id): p for t in sorted(topics) for p in by_name[t].partitions}
    now = time.time() if now is None else now
    earliest = kafka.offsets(list(meta), "earliest")
    latest = kafka.offsets(list(meta), "latest")
    partitions = {}
    for tp, p in meta.items():
        end = latest[tp].offset or 0
        partitions[tp] = Partition(
            tp[0], tp[1], min(earliest[tp].offset or 0, end), end, p.leader, len(p.replicas), len(p.isr)
        )
    if partitions:
        for age in LADDER:
            found = kafka.offsets(list(partitions), int((now - age) * 1000))
            for tp, part in partitions.items():
                offset = found[tp].offset
                part.by_age[age] = part.end if offset is None else min(offset, part.end)
    described = kafka.describe_groups(chosen)
    groups = {}
    for gid in chosen:
        d = described.get(gid)
        groups[gid] = Group(
            gid,
            cat.group(gid),
            d.state if d else "Unknown",
            d.members if d else 0,
            {tp: c for tp, c in relevant[gid].items() if tp in partitions},
        )
    return Snapshot(now, cat, sorted(by_name), partitions, groups, max(0, len(listed) - len(chosen)))


def _relevant(offsets: dict[TP, int], posthogs: bool, cat: Catalogue) -> dict[TP, int]:
    """The committed offsets that belong to this deployment. A PostHog group counts on every topic it committed
    on (only those with this deployment's KAFKA_PREFIX, when it has one: a shared cluster holds other tenants'
    topics under the same group names); any other group only on PostHog's topics."""
    if posthogs:
        return {tp: c for tp, c in offsets.items() if tp[0].startswith(cat.prefix)}
    names = set(cat.topic_names)
    return {tp: c for tp, c in offsets.items() if tp[0] in names}


# --- how long ago an offset was written ---------------------------------------------------------------


Bracket = tuple[float, float | None]  # (more than, at most) seconds ago; at most None: older than the ladder


def ladder_bracket(part: Partition, offset: int) -> Bracket | None:
    """When the message at `offset` was written, from the ladder alone; None when nothing is unread there."""
    if offset >= part.end:
        return None
    younger = 0.0
    for age in LADDER:
        since = part.by_age.get(age)
        if since is None:
            return None
        if since <= offset:
            return (younger, float(age))
        younger = float(age)
    return (younger, None)


def refine(
    kafka: Kafka, snap: Snapshot, targets: dict[tuple[str, int, int], Bracket]
) -> dict[tuple[str, int, int], Bracket]:
    """Narrow brackets by bisection: each round asks, for every target at once, the first offset written
    since the middle of its bracket. Stops at BISECT_ROUNDS, at a few percent, or near the deadline."""
    found = dict(targets)
    for _ in range(BISECT_ROUNDS):
        open_ = {k: b for k, b in found.items() if b[1] is not None and b[1] - b[0] > max(1.0, 0.05 * b[1])}
        if not open_ or kafka.deadline.remaining() < BISECT_MARGIN_SECONDS:
            break
        # One timestamp per partition and request: targets sharing a partition go in successive requests.
        waves: list[dict[tuple[str, int], tuple[int, float]]] = []
        for (topic, p, offset), (low, high) in open_.items():
            middle = (low + (high or low)) / 2
            wave = next((w for w in waves if (topic, p) not in w), None)
            if wave is None:
                wave = {}
                waves.append(wave)
            wave[(topic, p)] = (offset, middle)
        for wave in waves:
            answer = kafka.offsets_for_times({tp: int((snap.at - middle) * 1000) for tp, (_, middle) in wave.items()})
            for tp, (offset, middle) in wave.items():
                low, high = found[(tp[0], tp[1], offset)]
                first = answer[tp].offset
                written_since = first is not None and first <= offset
                found[(tp[0], tp[1], offset)] = (low, middle) if written_since else (middle, high)
    return found


def estimate(bracket: Bracket | None) -> float | None:
    """A single figure for a bracket: its middle, or its lower end when it is open."""
    if bracket is None:
        return 0.0
    low, high = bracket
    return low if high is None else (low + high) / 2


def say_ago(bracket: Bracket | None) -> str:
    """How long ago, in words: 'about 3 h 5 min', 'more than 7 d'."""
    if bracket is None:
        return "0 s"
    low, high = bracket
    if high is None:
        return f"more than {units.duration(low)}"
    return f"about {units.duration((low + high) / 2)}"
