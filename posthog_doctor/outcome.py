"""What a check concludes: findings (one status and sentence each, with advice), and the one outcome made of them.

A check either builds its outcome directly (`ok("…")`, `fail("…", advice=[…])`) or collects `Finding`s as it
looks and lets `conclude` turn them into one outcome: the worst status wins, the summary lists what is
wrong in the order it was found, and each piece of advice appears once. `Skip` and `Undetermined` end a
check early: it does not apply here, or it could not find out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .model import Advice, Evidence, FindingRecord, Status, worst


class Skip(Exception):
    """Raise to report `skipped`: the check does not apply here. The message is the reason."""


class Undetermined(Exception):
    """Raise to report `error`: the check could not find out. The message says why, in plain words."""


@dataclass
class Outcome:
    """What a check returns: a status, a one-line summary, evidence and advice."""

    status: Status
    summary: str
    evidence: list[Evidence] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    partial: bool = False
    metrics: dict[str, float] = field(default_factory=dict)  # key figures `diff` compares between runs
    findings: list[FindingRecord] = field(default_factory=list)  # what the verdict was made of (see `conclude`)


def outcome(
    status: Status | str,
    summary: str,
    *,
    evidence: Sequence[Evidence] = (),
    advice: Sequence[Advice] = (),
    partial: bool = False,
    metrics: Mapping[str, float | None] | None = None,
) -> Outcome:
    """An outcome of any status; metrics whose value is None (not measured) are left out."""
    return Outcome(
        Status(status),
        summary,
        list(evidence),
        list(advice),
        partial,
        {k: v for k, v in (metrics or {}).items() if v is not None},
    )


def ok(summary: str, **details) -> Outcome:
    """Healthy: the summary says what was seen."""
    return outcome(Status.OK, summary, **details)


def warn(summary: str, **details) -> Outcome:
    """Something a support engineer should look at, not (yet) breaking PostHog."""
    return outcome(Status.WARN, summary, **details)


def fail(summary: str, **details) -> Outcome:
    """Broken: events are lost or a component does not work."""
    return outcome(Status.FAIL, summary, **details)


def undetermined(summary: str, **details) -> Outcome:
    """The check could not find out (reported as `error`, never as healthy)."""
    return outcome(Status.ERROR, summary, **details)


@dataclass(frozen=True)
class Finding:
    """One thing a check found: a status, a sentence, and what to do about it.

    `key` names the finding stably (for a parser's findings, or a test) where the sentence may change.
    """

    status: Status
    text: str
    advice: tuple[Advice, ...] = ()
    key: str = ""

    @classmethod
    def ok(cls, text: str, *, key: str = "") -> Finding:
        return cls(Status.OK, text, key=key)

    @classmethod
    def warn(cls, text: str, *advice: Advice, key: str = "") -> Finding:
        return cls(Status.WARN, text, advice, key)

    @classmethod
    def fail(cls, text: str, *advice: Advice, key: str = "") -> Finding:
        return cls(Status.FAIL, text, advice, key)

    @classmethod
    def undetermined(cls, text: str, *advice: Advice, key: str = "") -> Finding:
        return cls(Status.ERROR, text, advice, key)

    @property
    def bad(self) -> bool:
        """Whether the finding is something to act on (anything but ok)."""
        return self.status is not Status.OK


def conclude(
    findings: Iterable[Finding],
    healthy: str,
    *,
    evidence: Sequence[Evidence] = (),
    advice: Sequence[Advice] = (),
    partial: bool = False,
    suffix: str = "",
    summary: str | None = None,
    metrics: Mapping[str, float | None] | None = None,
) -> Outcome:
    """The outcome of a check from its findings.

    Status: the worst finding's (ok when none is bad). Summary: `healthy` when no finding is bad;
    otherwise `summary` when given, else the bad findings' sentences joined with "; " in the order found,
    with `suffix` appended (a figure worth keeping beside the problems). Advice: the bad findings' own,
    the worst finding's first, then `advice`; each text once. Every finding is kept in the report.
    """
    found = list(findings)
    bad = [f for f in found if f.bad]
    if not bad:
        result = outcome(Status.OK, healthy, evidence=evidence, partial=partial, metrics=metrics)
    else:
        by_severity = sorted(bad, key=lambda f: -f.status.rank)  # stable: equally bad ones keep their order
        unique: dict[str, Advice] = {}
        for piece in [a for f in by_severity for a in f.advice] + list(advice):
            unique.setdefault(piece.text, piece)
        result = outcome(
            worst(f.status for f in bad),
            summary if summary is not None else "; ".join(f.text for f in bad) + suffix,
            evidence=evidence,
            advice=list(unique.values()),
            partial=partial,
            metrics=metrics,
        )
    index = {a.text: i for i, a in enumerate(result.advice)}
    result.findings = [
        FindingRecord(f.status, f.text, f.key, [index[a.text] for a in f.advice if a.text in index]) for f in found
    ]
    return result
