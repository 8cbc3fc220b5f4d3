"""Consumer lag, worked out from two readings of offsets: how far behind, growing or shrinking, lag or stall.

Pure arithmetic on what the connector returned (no Kafka access here), so the verdicts can be proven on
offsets read from a real broker and on offsets a broker that cannot delete records cannot produce.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from posthog_doctor.check import units

from ._offsets import TP, Bracket, Group, Snapshot, estimate, say_ago


@dataclass
class PartitionLag:
    topic: str
    partition: int
    committed: int
    earliest: int
    end: int
    behind: Bracket | None = None  # when the first unread message was written; None: nothing unread

    @property
    def lag(self) -> int:
        """Messages not yet read: from the committed offset (or the earliest still kept) to the end."""
        return max(0, self.end - max(self.committed, self.earliest))

    @property
    def expired(self) -> int:
        """Messages deleted by retention before the group read them."""
        return max(0, self.earliest - self.committed)

    @property
    def label(self) -> str:
        return f"{self.topic}[{self.partition}]"


@dataclass
class Sample:
    """A second reading of the same partitions, `interval` seconds after the snapshot."""

    interval: float
    ends: dict[TP, int]
    committed: dict[str, dict[TP, int]]  # group -> its committed offsets


@dataclass
class GroupLag:
    group: Group
    partitions: list[PartitionLag]
    uncommitted: list[TP] = field(default_factory=list)  # partitions of its topics it never committed on
    interval: float = 0.0  # seconds between the two readings (0: one reading only)
    progress: int = 0  # offsets committed between the readings, summed over its partitions
    arrived: int = 0  # messages written to its partitions between the readings
    lag_after: int | None = None  # lag at the second reading

    @property
    def id(self) -> str:
        return self.group.id

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def expired(self) -> int:
        return sum(p.expired for p in self.partitions)

    @property
    def worst(self) -> PartitionLag | None:
        """The partition whose first unread message is oldest."""
        lagging = [p for p in self.partitions if p.behind is not None]
        return max(lagging, key=lambda p: estimate(p.behind) or 0.0, default=None)

    @property
    def behind_seconds(self) -> float:
        worst = self.worst
        return 0.0 if worst is None else estimate(worst.behind) or 0.0

    @property
    def sampled(self) -> bool:
        return self.interval > 0

    @property
    def moving(self) -> bool:
        return self.progress > 0

    @property
    def consume_rate(self) -> float | None:
        return self.progress / self.interval if self.sampled else None

    @property
    def produce_rate(self) -> float | None:
        return self.arrived / self.interval if self.sampled else None

    @property
    def catch_up_seconds(self) -> float | None:
        """At the rates seen between the readings, seconds until the lag is read; None when it would not be."""
        if not self.sampled:
            return None
        net = (self.progress - self.arrived) / self.interval
        remaining = self.lag_after if self.lag_after is not None else self.lag
        if remaining <= 0:
            return 0.0
        return remaining / net if net > 0 else None

    @property
    def trend(self) -> str:
        if not self.sampled:
            return "one reading"
        if self.lag_after is None:
            return "unknown"
        if self.lag_after > self.lag:
            return "growing"
        if self.lag_after < self.lag:
            return "shrinking"
        return "steady"


def group_lags(snap: Snapshot, brackets: dict[tuple[str, int, int], Bracket]) -> list[GroupLag]:
    """Each group's lag on the partitions it committed on (and the partitions of its topics it never did)."""
    out = []
    for group in snap.groups.values():
        parts = []
        for (topic, p), committed in sorted(group.committed.items()):
            part = snap.partitions[(topic, p)]
            row = PartitionLag(topic, p, committed, part.earliest, part.end)
            if row.lag:
                row.behind = brackets.get((topic, p, max(committed, part.earliest)))
            parts.append(row)
        # Partitions of a topic it reads but never committed on: new partitions, or ones it never got.
        reads = set(group.topics)
        uncommitted = [
            tp
            for tp, part in sorted(snap.partitions.items())
            if tp[0] in reads and tp not in group.committed and part.messages
        ]
        if parts or uncommitted:
            out.append(GroupLag(group, parts, uncommitted))
    return out


def unread_offsets(lags: list[GroupLag]) -> list[tuple[str, int, int]]:
    """The first unread offset of every lagging partition: what the time-behind readings are asked about."""
    return sorted({(p.topic, p.partition, max(p.committed, p.earliest)) for g in lags for p in g.partitions if p.lag})


def apply_sample(lags: list[GroupLag], sample: Sample, snap: Snapshot) -> None:
    """Fold the second reading into each group: progress, arrivals, and the lag after."""
    for g in lags:
        later = sample.committed.get(g.id, {})
        g.interval = sample.interval
        g.progress = sum(max(0, later.get((p.topic, p.partition), p.committed) - p.committed) for p in g.partitions)
        g.arrived = sum(max(0, sample.ends.get((p.topic, p.partition), p.end) - p.end) for p in g.partitions)
        g.lag_after = sum(
            max(
                0,
                sample.ends.get((p.topic, p.partition), p.end)
                - max(later.get((p.topic, p.partition), p.committed), p.earliest),
            )
            for p in g.partitions
        )


@dataclass(frozen=True)
class Thresholds:
    warn_behind: float  # seconds
    fail_behind: float
    stall_behind: float  # below this, no commit between the readings is a consumer between commits


def verdict(g: GroupLag, t: Thresholds) -> tuple[str, str]:
    """(status, sentence) for one group: ok, warn or fail, with how far behind, and lag versus stall."""
    behind = g.behind_seconds
    worst = g.worst
    how_far = f"{g.lag:,} messages behind" + (f", the oldest unread written {_ago(worst)} ago" if worst else "")
    if g.lag == 0:
        return "ok", "caught up"
    if g.sampled and not g.moving and g.arrived > 0 and behind >= t.stall_behind:
        return "fail", (
            f"stalled: no offset committed in {g.interval:.0f} s while {g.arrived:,} new messages arrived; {how_far}"
        )
    if g.sampled and not g.moving and g.group.members == 0 and behind >= t.stall_behind:
        return "fail", f"stalled: no consumer is running in this group ({g.group.state}); {how_far}"
    pace = _pace(g)
    if behind >= t.fail_behind:
        return "fail", f"lagging: {how_far}{pace}"
    if behind >= t.warn_behind:
        return "warn", f"lagging: {how_far}{pace}"
    return "ok", f"keeping up: {how_far}{pace}"


def _ago(p: PartitionLag) -> str:
    return say_ago(p.behind)


def _pace(g: GroupLag) -> str:
    if not g.sampled:
        return ""
    if not g.moving:
        arrivals = f"while {g.arrived:,} new messages arrived" if g.arrived else "(no new messages either)"
        return f"; no offset committed in {g.interval:.0f} s {arrivals}"
    eta = g.catch_up_seconds
    rates = f"reading {g.consume_rate:,.1f}/s, {g.produce_rate:,.1f}/s arriving"
    if eta is None:
        return f"; falling further behind ({rates})"
    return f"; catching up: at the current rate in about {units.duration(eta)} ({rates})"
