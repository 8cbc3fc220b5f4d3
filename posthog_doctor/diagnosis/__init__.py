"""The diagnosis step: after the checks, before the report is written, with no I/O.

It walks the stages of the event's path in order, each stage's state decided by the checks that speak for
it, and names the first broken one. Then it matches the rules: a rule whose signals are present is a
candidate cause, and every red result it explains hangs under it. A candidate whose own signal another
candidate explains is a consequence, not a root; the roots are ranked by how much they explain. What the
rules say lives in the checks' package (`checks/diagnosis/rules.yaml`), reviewed like code: the engine
knows how to walk and link, never what PostHog is.
"""

from __future__ import annotations

import functools
from importlib.resources import files

from ..model import CauseView, CheckResult, Diagnosis, StageView, Status
from .rules import Condition, Knowledge, Rule, RulesError, Stage, load_rules

__all__ = ["RulesError", "bundled_knowledge", "diagnose", "diagnose_safely", "load_rules"]

RULES_PACKAGE, RULES_FILE = "posthog_doctor.checks.diagnosis", "rules.yaml"
MAX_CAUSES = 3
RED = (Status.FAIL, Status.ERROR, Status.WARN)
_STATE_OF = {Status.FAIL: "broken", Status.WARN: "degraded", Status.OK: "ok", Status.ERROR: "unknown"}
_STATE_RANK = {"broken": 4, "degraded": 3, "unknown": 2, "ok": 1, "unchecked": 0}


@functools.lru_cache(maxsize=1)
def bundled_knowledge() -> Knowledge:
    """The rules shipped with the bundled checks, read once per process."""
    path = files(RULES_PACKAGE).joinpath(RULES_FILE)
    return load_rules(path.read_text(encoding="utf-8"), f"{RULES_PACKAGE.rsplit('.', 1)[-1]}/{RULES_FILE}")


def diagnose(results: list[CheckResult], knowledge: Knowledge | None = None) -> Diagnosis:
    """Where ingestion breaks and why, from the check results alone."""
    knowledge = knowledge or bundled_knowledge()
    stages = [_stage_view(stage, results) for stage in knowledge.stages]
    matched = [(rule, hits) for rule in knowledge.rules if (hits := _signals(rule, results)) is not None]
    roots, notes, explained = _link(matched, results, knowledge)
    lag = next((c for c in roots if c.kind == "lag"), None)
    causes = [c for c in roots if c.kind in ("cause", "lag")][:MAX_CAUSES]
    break_stage = _break(stages, causes, results)
    red = [r.id for r in results if r.status in RED]
    unexplained = [i for i in red if i not in explained]
    return Diagnosis(
        headline=_headline(stages, break_stage, causes, lag),
        break_stage=break_stage,
        stages=stages,
        causes=causes,
        notes=notes,
        unexplained=unexplained,
        lag_minutes=_lag_minutes(lag, matched),
    )


def diagnose_safely(results: list[CheckResult]) -> Diagnosis:
    """The diagnosis of a run; a broken rules file is said in the headline instead of stopping the report."""
    try:
        return diagnose(results)
    except RulesError as exc:
        return Diagnosis(headline=f"the diagnosis could not run (a posthog-doctor bug): {exc}")


# --- stages -------------------------------------------------------------------------------------


def _stage_view(stage: Stage, results: list[CheckResult]) -> StageView:
    """A stage's state: the worst its checks say (a filter on a condition applies to bad results only)."""
    heard: list[tuple[str, CheckResult]] = []
    for result in results:
        for condition in stage.speaks:
            state = _speaks(condition, result)
            if state:
                heard.append((state, result))
                break
    if not heard:
        return StageView(stage.id, stage.title, stage.kind, "unchecked", settle=stage.access)
    state, strongest = max(heard, key=lambda h: _STATE_RANK[h[0]])
    if state == "ok" and any(s == "unknown" for s, _ in heard):
        state = "ok"  # one check saw it working: that is enough
    checks = list(dict.fromkeys(r.id for _, r in heard))
    settle = stage.access if state == "unknown" else ""
    return StageView(stage.id, stage.title, stage.kind, state, checks, strongest.summary, settle)


def _speaks(condition: Condition, result: CheckResult) -> str:
    """How `result` describes a stage through `condition`: a state, or "" when it says nothing of it."""
    from fnmatch import fnmatchcase

    if not fnmatchcase(result.id, condition.check):
        return ""
    if result.status is Status.SKIPPED:
        # Skipped because a component is down or switched off: the stage could not be seen.
        return "unknown" if ("unavailable" in result.summary or "disabled" in result.summary) else ""
    if result.status is Status.OK:
        return "ok"
    if (condition.summary or condition.finding or condition.metric) and not condition.matches(result):
        if condition.finding is not None and any(
            f.status is Status.OK and condition.finding.search(f"{f.key} {f.text}") for f in result.findings
        ):
            return "ok"  # a bad result about something else, whose own finding on this stage is fine
        return ""  # a bad result about something else than this stage
    if result.status not in condition.statuses and condition.statuses != frozenset(Status):
        return ""
    return _STATE_OF[result.status]


def _first_broken(stages: list[StageView]) -> str:
    """The first broken stage along the path; else the first broken dead-letter branch (events diverted)."""
    for kind in ("path", "dead_letter"):
        found = next((s.id for s in stages if s.kind == kind and s.state == "broken"), "")
        if found:
            return found
    return ""


def _break(stages: list[StageView], causes: list[CauseView], results: list[CheckResult]) -> str:
    """Where events stop: the top root cause's own stage when it is broken and every stage broken before it is
    only its consequence (a stopped consumer shows as a backlog upstream of it); else the first broken stage."""
    first = _first_broken(stages)
    top = next((c for c in causes if c.kind == "cause"), None)
    at = next((s for s in stages if top is not None and s.id == top.stage), None)
    if top is None or at is None or at.state != "broken" or at.kind not in ("path", "dead_letter") or at.id == first:
        return first
    red = {r.id for r in results if r.status in RED}
    upstream = [s for s in stages[: stages.index(at)] if s.kind in ("path", "dead_letter") and s.state == "broken"]
    if all({c for c in s.checks if c in red} <= set(top.explains) for s in upstream):
        return at.id
    return first


# --- causes -------------------------------------------------------------------------------------


def _signals(rule: Rule, results: list[CheckResult]) -> list[tuple[Condition, CheckResult]] | None:
    """The results that reveal `rule` (one per `when` condition), or None when it does not apply."""
    hits = []
    for condition in rule.when:
        hit = next((r for r in results if condition.matches(r)), None)
        if hit is None:
            return None
        hits.append((condition, hit))
    if any(condition.matches(r) for condition in rule.unless for r in results):
        return None
    return hits


def _link(matched, results: list[CheckResult], knowledge: Knowledge):
    """Root causes (ranked, with their chains), notes, and every check id some root or note explains."""
    order = {s.id: i for i, s in enumerate(knowledge.stages)}
    own = {rule.id: {r.id for _, r in hits if r.status in RED} for rule, hits in matched}
    explains = {
        rule.id: own[rule.id] | {r.id for c in rule.explains for r in results if c.matches(r)} for rule, _ in matched
    }
    causes = [(rule, hits) for rule, hits in matched if rule.kind in ("cause", "lag")]

    # The same links at the grain of findings: one check can carry two independent problems (two consumer groups
    # of one lag check), and a rule accounts for another only when it covers the very findings that revealed it.
    own_findings = {rule.id: _covered(hits, whole=False) for rule, hits in matched}
    covers = {
        rule.id: own_findings[rule.id]
        | _covered(((c, r) for c in rule.explains for r in results if c.matches(r)), whole=True)
        for rule, _ in matched
    }

    def accounts(other: Rule, rule: Rule) -> bool:
        return bool(own_findings[rule.id]) and all(
            unit in covers[other.id] or (unit[0], "*") in covers[other.id] for unit in own_findings[rule.id]
        )

    def consequence_of(rule: Rule, other: Rule) -> bool:
        """`other` accounts for `rule`'s own signal; when each accounts for the other, the lower rank leads."""
        if other is rule or not own[rule.id] or not accounts(other, rule):
            return False
        mutual = accounts(rule, other)
        return not mutual or (other.rank, other.id) < (rule.rank, rule.id)

    roots = [(rule, hits) for rule, hits in causes if not any(consequence_of(rule, o) for o, _ in causes)]
    for rule, _ in roots:  # a root takes over what its consequences explained
        for other, _ in causes:
            if consequence_of(other, rule):
                explains[rule.id] |= explains[other.id]
    roots.sort(key=lambda rh: (-len(explains[rh[0].id]), rh[0].rank, order.get(rh[0].stage, len(order))))
    by_id = {r.id: r for r in results}
    views = [_view(rule, hits, explains[rule.id], by_id, order, knowledge) for rule, hits in roots]
    notes = [
        _view(rule, hits, explains[rule.id], by_id, order, knowledge)
        for rule, hits in matched
        if rule.kind in ("false_alarm", "conflict")
    ]
    # A reconciled false alarm accounts for its finding; an unreconciled conflict accounts for nothing, and one
    # whose every red signal a root cause explains is reconciled by that cause (it is not shown).
    by_roots = {check_id for view in views for check_id in view.explains}
    notes = [n for n in notes if n.kind != "conflict" or not _own_red(n, by_id) <= by_roots]
    explained = {check_id for view in views + notes if view.kind != "conflict" for check_id in view.explains}
    return views, notes, explained


def _covered(pairs, *, whole: bool) -> set[tuple[str, str]]:
    """(check id, finding key) for each red finding a condition matched on a red result; (check id, "*") for a red
    result that records no finding, and, when `whole`, for one matched without a finding filter (all of it)."""
    units: set[tuple[str, str]] = set()
    for condition, result in pairs:
        if result.status not in RED:
            continue
        bad = [f for f in result.findings if f.status is not Status.OK]
        if not bad or (whole and condition.finding is None):
            units.add((result.id, "*"))
            continue
        units |= {
            (result.id, f.key or f.text)
            for f in bad
            if condition.finding is None or condition.finding.search(f"{f.key} {f.text}")
        }
    return units


def _own_red(note: CauseView, by_id: dict[str, CheckResult]) -> set[str]:
    """The red results among what a note was matched on (its chain's own signals)."""
    return {i for i in note.explains if by_id[i].status in RED} or {"-"}


def _view(
    rule: Rule, hits, explains: set[str], by_id: dict[str, CheckResult], order: dict[str, int], knowledge: Knowledge
) -> CauseView:
    """A cause as the report shows it: its own signals, then its consequences from upstream to downstream."""
    chain = [condition.say(result) for condition, result in hits]
    said = {r.id for _, r in hits}
    in_report = {check_id: n for n, check_id in enumerate(by_id)}
    for check_id in sorted(explains - said, key=lambda i: (_position(i, knowledge, order), in_report[i])):
        result = by_id[check_id]
        condition = next((c for c in rule.explains if c.matches(result)), None)
        chain.append(condition.say(result) if condition else Condition(result.id, frozenset()).say(result))
    return CauseView(
        id=rule.id,
        kind=rule.kind,
        title=rule.title,
        stage=rule.stage,
        chain=chain,
        explains=[i for i in by_id if i in explains],
        confirm=rule.confirm,
        next_step=rule.next_step,
        commands=list(rule.commands),
        links=list(rule.links),
        reason=rule.reason,
        source=rule.source,
    )


def _position(check_id: str, knowledge: Knowledge, order: dict[str, int]) -> int:
    """Where along the path a check speaks (its first stage), so a chain reads upstream to downstream."""
    from fnmatch import fnmatchcase

    for stage in knowledge.stages:
        if any(fnmatchcase(check_id, c.check) for c in stage.speaks):
            return order[stage.id]
    return len(order)


# --- words --------------------------------------------------------------------------------------


def _headline(stages: list[StageView], break_stage: str, causes: list[CauseView], lag: CauseView | None) -> str:
    path = [s for s in stages if s.kind == "path"]
    if break_stage:
        where = next(s for s in stages if s.id == break_stage)
        cause = next((c for c in causes if c.kind == "cause"), None)
        if where.kind == "dead_letter":
            return f"Events are dead-lettered ({where.title})" + (f": {cause.title}" if cause else f": {where.said}")
        return f"Ingestion breaks at {where.title}" + (f": {cause.title}" if cause else f": {where.said}")
    if lag is not None:
        at = next((s.title for s in stages if s.id == lag.stage), "")
        return f"Events arrive, but late{f' at {at}' if at else ''}: {lag.chain[0] if lag.chain else lag.title}"
    cause = next((c for c in causes if c.kind == "cause"), None)
    checked = [s for s in path if s.state in ("ok", "degraded")]
    blind = [s for s in path if s.state in ("unknown", "unchecked")]
    if cause is not None:
        return f"No stage of the event path is broken; the likeliest cause of what was found: {cause.title}"
    if not checked:
        return "The event path could not be checked: " + (blind[0].settle or "no check spoke for it")
    if blind:
        names = ", ".join(s.title for s in blind[:3])
        return f"Events flow through the {len(checked)} stages checked; not seen: {names}"
    return f"Events flow through every stage of the path ({len(checked)} checked)"


def _lag_minutes(lag: CauseView | None, matched) -> float | None:
    if lag is None:
        return None
    for rule, hits in matched:
        if rule.id == lag.id:
            for condition, result in hits:
                if condition.metric and condition.metric in result.metrics:
                    value = result.metrics[condition.metric]
                    return round(value / 60, 1) if condition.metric.endswith("seconds") else round(value, 1)
    return None
