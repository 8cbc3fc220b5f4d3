"""The diagnosis's knowledge as typed rules, read from a reviewed YAML file (the checks' package ships it).

The engine knows the shape of the file, not what it says: stages along a path, conditions on check
results, and causes that link a root signal to the results it explains. Every problem in the file is a
`RulesError` naming the entry, raised when the file is read, so a broken rule never silently diagnoses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from ..model import CheckResult, Status
from ..yaml_data import YAMLError, load_yaml

STAGE_KINDS = ("path", "dead_letter", "service")
CAUSE_KINDS = ("cause", "lag", "false_alarm", "conflict")
# {metric}, {metric|minutes}, {metric|seconds}, {metric|count}; {finding}: the text of the finding that matched.
_PLACEHOLDER = re.compile(r"\{([\w.-]+)(?:\|(minutes|seconds|count))?\}")


class RulesError(ValueError):
    """The diagnosis rules file is malformed; the message names the entry."""


@dataclass(frozen=True)
class Condition:
    """What a check result must look like: its id (a glob), its status, and optionally its words or figures."""

    check: str
    statuses: frozenset[Status]
    summary: re.Pattern[str] | None = None  # searched in the summary
    finding: re.Pattern[str] | None = None  # searched in the key and text of its findings that are not ok
    metric: str = ""
    above: float | None = None
    below: float | None = None
    says: str = ""  # how the evidence chain says it; {metric} placeholders are filled in

    def matches(self, result: CheckResult) -> bool:
        if not fnmatchcase(result.id, self.check) or result.status not in self.statuses:
            return False
        if self.summary is not None and not self.summary.search(result.summary):
            return False
        if self.finding is not None and not any(
            self.finding.search(f"{f.key} {f.text}") for f in result.findings if f.status is not Status.OK
        ):
            return False
        if self.metric:
            value = result.metrics.get(self.metric)
            if value is None:
                return False
            if self.above is not None and not value > self.above:
                return False
            if self.below is not None and not value < self.below:
                return False
        return True

    def say(self, result: CheckResult, limit: int = 110) -> str:
        """This piece of evidence in a few words: the rule's phrase with figures filled in, else the summary."""
        if self.says:
            return _PLACEHOLDER.sub(lambda m: self._fill(result, m.group(1), m.group(2)), self.says)
        text = result.summary
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def _fill(self, result: CheckResult, name: str, unit: str | None) -> str:
        if name != "finding":
            return _figure(result, name, unit)
        bad = [
            f.text
            for f in result.findings
            if f.status is not Status.OK and (self.finding is None or self.finding.search(f"{f.key} {f.text}"))
        ]
        return bad[0] if bad else result.summary


@dataclass(frozen=True)
class Stage:
    id: str
    title: str
    kind: str
    speaks: tuple[Condition, ...]  # the checks that say how this stage is; filters apply to bad results only
    access: str = ""  # what to give the doctor to see this stage


@dataclass(frozen=True)
class Rule:
    """A known cause: the signals that reveal it (`when`, none of `unless`) and the results it explains."""

    id: str
    kind: str
    title: str
    stage: str
    when: tuple[Condition, ...]
    unless: tuple[Condition, ...] = ()
    explains: tuple[Condition, ...] = ()
    confirm: str = ""
    next_step: str = ""
    commands: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    reason: str = ""
    source: str = ""
    rank: int = 50  # lower first, among causes that explain as much


@dataclass(frozen=True)
class Knowledge:
    stages: tuple[Stage, ...]
    rules: tuple[Rule, ...]
    links: dict[str, str] = field(default_factory=dict)

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)


def load_rules(text: str, where: str = "rules") -> Knowledge:
    """Parse and check the rules file; any problem is a RulesError naming the entry."""
    try:
        data = load_yaml(text) or {}
    except YAMLError as exc:
        raise RulesError(f"{where}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise RulesError(f"{where}: expected a mapping with stages and rules")
    links = {str(k): str(v) for k, v in (data.get("links") or {}).items()}
    stages = tuple(_stage(entry, f"{where}: stage {i}") for i, entry in enumerate(data.get("stages") or []))
    ids = [s.id for s in stages]
    if len(set(ids)) != len(ids):
        raise RulesError(f"{where}: stage ids repeat")
    rules = tuple(
        _rule(entry, f"{where}: rule {i}", set(ids), links) for i, entry in enumerate(data.get("rules") or [])
    )
    if len({r.id for r in rules}) != len(rules):
        raise RulesError(f"{where}: rule ids repeat")
    return Knowledge(stages, rules, links)


def _stage(entry: Any, where: str) -> Stage:
    entry = _mapping(entry, where)
    where = f"{where} ({entry.get('id', '?')})"
    kind = str(entry.get("kind", "path"))
    if kind not in STAGE_KINDS:
        raise RulesError(f"{where}: kind must be one of {', '.join(STAGE_KINDS)}")
    speaks = tuple(
        _condition(c, where, {Status.OK, Status.WARN, Status.FAIL, Status.ERROR, Status.SKIPPED})
        for c in entry.get("speaks") or []
    )
    return Stage(
        _text(entry, "id", where),
        _text(entry, "title", where),
        kind,
        speaks,
        " ".join(str(entry.get("access", "")).split()),
    )


def _rule(entry: Any, where: str, stages: set[str], links: dict[str, str]) -> Rule:
    entry = _mapping(entry, where)
    where = f"{where} ({entry.get('id', '?')})"
    kind = str(entry.get("kind", "cause"))
    if kind not in CAUSE_KINDS:
        raise RulesError(f"{where}: kind must be one of {', '.join(CAUSE_KINDS)}")
    stage = str(entry.get("stage", ""))
    if stage and stage not in stages:
        raise RulesError(f"{where}: unknown stage {stage!r}")
    when = tuple(_condition(c, where, {Status.FAIL}) for c in entry.get("when") or [])
    if not when:
        raise RulesError(f"{where}: a rule needs at least one `when` condition")
    if not str(entry.get("reason", "")).strip() or not str(entry.get("source", "")).strip():
        raise RulesError(f"{where}: every rule says why (`reason`) and where that is known from (`source`)")
    unknown_links = [name for name in entry.get("links") or [] if name not in links and "://" not in str(name)]
    if unknown_links:
        raise RulesError(f"{where}: unknown link names {unknown_links}")
    return Rule(
        id=_text(entry, "id", where),
        kind=kind,
        title=_text(entry, "title", where),
        stage=stage,
        when=when,
        unless=tuple(_condition(c, where, {Status.FAIL, Status.WARN, Status.ERROR}) for c in entry.get("unless") or []),
        explains=tuple(
            _condition(c, where, {Status.FAIL, Status.WARN, Status.ERROR}) for c in entry.get("explains") or []
        ),
        confirm=_words(entry.get("confirm")),
        next_step=_words(entry.get("next")),
        commands=tuple(str(c) for c in entry.get("commands") or []),
        links=tuple(links.get(str(name), str(name)) for name in entry.get("links") or []),
        reason=_words(entry.get("reason")),
        source=_words(entry.get("source")),
        rank=int(entry.get("rank", 50)),
    )


def _condition(entry: Any, where: str, default_statuses: set[Status]) -> Condition:
    if isinstance(entry, str):
        entry = {"check": entry}
    entry = _mapping(entry, where)
    check = _text(entry, "check", where)
    raw = entry.get("status")
    try:
        statuses = (
            frozenset(Status(s) for s in ([raw] if isinstance(raw, str) else raw))
            if raw
            else frozenset(default_statuses)
        )
    except ValueError:
        raise RulesError(f"{where}: {check}: unknown status in {raw!r}") from None
    metric = entry.get("metric") or {}
    if metric and not isinstance(metric, dict):
        raise RulesError(f"{where}: {check}: metric must be a mapping with name, above or below")
    return Condition(
        check=check,
        statuses=statuses,
        summary=_pattern(entry.get("summary"), where),
        finding=_pattern(entry.get("finding"), where),
        metric=str(metric.get("name", "")),
        above=float(metric["above"]) if "above" in metric else None,
        below=float(metric["below"]) if "below" in metric else None,
        says=_words(entry.get("says")),
    )


def _pattern(raw: Any, where: str) -> re.Pattern[str] | None:
    if raw in (None, ""):
        return None
    try:
        return re.compile(str(raw), re.I)
    except re.error as exc:
        raise RulesError(f"{where}: bad pattern {raw!r} ({exc})") from None


def _mapping(entry: Any, where: str) -> dict:
    if not isinstance(entry, dict):
        raise RulesError(f"{where}: expected a mapping, got {type(entry).__name__}")
    return entry


def _text(entry: dict, key: str, where: str) -> str:
    value = " ".join(str(entry.get(key, "")).split())
    if not value:
        raise RulesError(f"{where}: `{key}` is missing")
    return value


def _words(raw: Any) -> str:
    return " ".join(str(raw or "").split())


def _figure(result: CheckResult, name: str, unit: str | None) -> str:
    from .. import units

    value = result.metrics.get(name)
    if value is None:
        return "?"
    if unit == "minutes":
        return units.duration(value * 60)
    if unit == "seconds":
        return units.duration(value)
    if unit == "count" or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"
