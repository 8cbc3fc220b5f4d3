"""Running a plan: probe the components, run the checks in a bounded pool, each under its deadline.

Python cannot kill a thread, so a check that overruns its deadline is abandoned, not stopped: its
result becomes `error` ("did not finish within N s"), its slot in the pool is freed, and its thread (a
daemon) is left to end on the connectors' own client-side timeouts. One hung server therefore costs one
check its deadline, never the run.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import __version__
from .bounds import bound_outcome
from .check import Check
from .config import Settings
from .connectors import ConnectorError, MissingObject, ProbeResult, probe
from .connectors.base import Deadline, ErrorKind
from .context import Context, RunState
from .model import CheckResult, Report, Status
from .outcome import Outcome, Skip, Undetermined
from .plan import Plan
from .registry import LoadProblem
from .topology import COMPONENTS

PROBE_SECONDS = 5.0


@dataclass
class Progress:
    """Callbacks the terminal uses to show live progress (all optional)."""

    started: Callable[[type[Check]], None] = lambda check: None
    finished: Callable[[CheckResult], None] = lambda result: None


def run_plan(
    plan: Plan,
    settings: Settings,
    options: dict[str, dict[str, Any]],
    *,
    problems: Sequence[LoadProblem] = (),
    progress: Progress | None = None,
) -> Report:
    progress = progress or Progress()
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    run_deadline = Deadline(settings.timeout)
    run_id = uuid.uuid4().hex[:12]

    probes, endpoints = probe_components(
        plan.components, settings, min(PROBE_SECONDS, settings.timeout / 3), tag=f"{run_id}:probe"
    )
    state = RunState(
        run_id,
        endpoints,
        probes,
        api_key=settings.api_key,
        project_token=settings.project_token,
        status_file=settings.status_file,
        include_payloads=settings.include_payloads,
    )

    results: list[CheckResult] = [_load_problem_result(p) for p in problems]
    runnable: list[type[Check]] = []
    for entry in plan.entries:
        if not entry.runs:
            results.append(_result(entry.check, Outcome(Status.SKIPPED, entry.reason), 0))
            continue
        down = [n for n in entry.check.needs if not probes.get(n, ProbeResult(True, "")).reachable]
        if down:
            name = down[0]
            reason = f"{COMPONENTS[name].label} unavailable: {probes[name].summary}"
            results.append(_result(entry.check, Outcome(Status.SKIPPED, reason), 0))
        else:
            runnable.append(entry.check)
    for r in results:
        progress.finished(r)

    ran, deadline_hit = _run_pool(
        runnable, state, options, settings.concurrency, run_deadline, settings.timeout, progress
    )
    results.extend(ran)
    order = {e.check.id: i for i, e in enumerate(plan.entries)}
    results.sort(key=lambda r: order.get(r.id, -1))

    target = settings.target_summary()
    target["components"] = {
        name: (probes[name].endpoint or target["components"].get(name, ""))
        if name in probes
        else target["components"].get(name, "")
        for name in target["components"]
    }
    target["probes"] = {
        name: {"reachable": p.reachable, "summary": p.summary, "version": p.version} for name, p in probes.items()
    }
    return Report(
        tool={"name": "posthog-doctor", "version": __version__},
        generated_at=started_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        target=target,
        checks=results,
        run={
            "id": run_id,
            "duration_ms": int((time.monotonic() - t0) * 1000),
            "timeout_s": settings.timeout,
            "concurrency": settings.concurrency,
            "deadline_hit": deadline_hit,
            "deselected": plan.deselected,
            "load_problems": [{"source": p.source, "reason": p.reason} for p in problems],
        },
    )


def probe_components(names: list[str], settings: Settings, seconds: float, tag: str = "probe"):
    """Probe every component in parallel; returns probe results and the endpoints actually used."""
    probes: dict[str, ProbeResult] = {}
    endpoints = dict(settings.endpoints)
    lock = threading.Lock()

    def work(name: str) -> None:
        result, endpoint = probe(
            COMPONENTS[name], settings.endpoints.get(name), seconds=seconds, status_file=settings.status_file, tag=tag
        )
        with lock:
            probes[name] = result
            if endpoint is not None:
                endpoints[name] = endpoint

    threads = [threading.Thread(target=work, args=(n,), daemon=True, name=f"probe-{n}") for n in names]
    for t in threads:
        t.start()
    stop_at = time.monotonic() + seconds + 2.0  # the probe's own limits end it sooner; this is the backstop
    for t in threads:
        t.join(max(0.0, stop_at - time.monotonic()))
    with lock:
        for name in names:
            probes.setdefault(
                name, ProbeResult(False, f"no answer within {seconds:.0f} s", error_kind=ErrorKind.TIMEOUT)
            )
        return dict(probes), endpoints


def _run_pool(
    checks: list[type[Check]],
    state: RunState,
    options: dict[str, dict[str, Any]],
    concurrency: int,
    run_deadline: Deadline,
    timeout_s: float,
    progress: Progress,
) -> tuple[list[CheckResult], bool]:
    done: queue.Queue[tuple[str, CheckResult]] = queue.Queue()
    pending = list(checks)
    running: dict[str, tuple[type[Check], float, float, str]] = {}  # id -> (check, started, deadline, limit)
    results: list[CheckResult] = []
    deadline_hit = False

    def start(check: type[Check]) -> None:
        left = run_deadline.remaining()
        seconds = min(check.timeout, left)
        limit = f"its {check.timeout:g} s limit" if check.timeout < left else f"the run's --timeout of {timeout_s:g} s"
        begun = time.monotonic()
        running[check.id] = (check, begun, begun + seconds, limit)
        progress.started(check)
        threading.Thread(
            target=_execute,
            args=(check, state, options.get(check.id, {}), seconds, done),
            daemon=True,
            name=f"check-{check.id}",
        ).start()

    def finish(result: CheckResult) -> None:
        results.append(result)
        progress.finished(result)

    while pending or running:
        while pending and len(running) < concurrency and not run_deadline.expired():
            start(pending.pop(0))
        if run_deadline.expired():
            deadline_hit = bool(pending or running)
            for check, begun, _, _ in running.values():
                finish(_timed_out(check, begun, f"the run's --timeout of {timeout_s:g} s"))
            running.clear()
            for check in pending:
                finish(
                    _result(
                        check,
                        Outcome(Status.ERROR, f"not started: the run's --timeout of {timeout_s:g} s was reached first"),
                        0,
                    )
                )
            pending.clear()
            break
        next_deadline = min([d for _, _, d, _ in running.values()] + [run_deadline.at])
        try:
            check_id, result = done.get(timeout=max(0.01, next_deadline - time.monotonic()))
            if check_id in running:  # a late result of an abandoned check is dropped
                del running[check_id]
                finish(result)
        except queue.Empty:
            pass
        now = time.monotonic()
        for check_id, (check, begun, deadline, limit) in list(running.items()):
            if now >= deadline:
                del running[check_id]
                finish(_timed_out(check, begun, limit))
    return results, deadline_hit


def _execute(check: type[Check], state: RunState, options: dict[str, Any], seconds: float, done: queue.Queue) -> None:
    begun = time.monotonic()
    # Connectors give up a little before the runner does, so a check can still report the timeout it met.
    ctx = Context(check.id, check.components(), state, options, Deadline(seconds - min(1.0, seconds * 0.1)))
    try:
        outcome = _outcome_of(check, ctx)
    finally:
        ctx.close()
    done.put((check.id, _result(check, outcome, time.monotonic() - begun, io=ctx.tally.as_dict())))


def _outcome_of(check: type[Check], ctx: Context) -> Outcome:
    """Run the check; every way it can end becomes an Outcome with a one-line summary."""
    try:
        outcome = check().run(ctx)
        if not isinstance(outcome, Outcome):
            return Outcome(
                Status.ERROR, f"check returned {type(outcome).__name__} instead of an outcome (a bug in the check)"
            )
        return outcome
    except Skip as exc:
        return Outcome(Status.SKIPPED, str(exc) or "does not apply here")
    except Undetermined as exc:
        return Outcome(Status.ERROR, str(exc) or "could not determine")
    except MissingObject as exc:
        return Outcome(Status.SKIPPED, f"not applicable to this deployment: {exc}")
    except ConnectorError as exc:
        return Outcome(Status.ERROR, f"could not determine: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug in one check must not stop the report
        text = " ".join(str(exc).split())[:200]
        return Outcome(Status.ERROR, f"the check crashed ({type(exc).__name__}{': ' + text if text else ''})")


def _timed_out(check: type[Check], begun: float, limit: str) -> CheckResult:
    seconds = time.monotonic() - begun
    result = _result(
        check,
        Outcome(
            Status.ERROR, f"did not finish within {limit} ({seconds:.1f} s): a component may be hanging or overloaded"
        ),
        seconds,
    )
    result.timed_out = True
    return result


def _result(check: type[Check], outcome: Outcome, seconds: float, io: dict[str, int] | None = None) -> CheckResult:
    outcome = bound_outcome(outcome)
    return CheckResult(
        id=check.id,
        title=check.title,
        status=outcome.status,
        summary=outcome.summary,
        category=check.category,
        tags=list(check.tags),
        components=list(check.components()),
        evidence=outcome.evidence,
        advice=outcome.advice,
        duration_ms=int(seconds * 1000),
        partial=outcome.partial,
        io=io or {},
        metrics=outcome.metrics,
        findings=outcome.findings,
    )


def _load_problem_result(problem: LoadProblem) -> CheckResult:
    return CheckResult(
        id="extension." + "".join(ch if ch.isalnum() else "_" for ch in problem.source.rsplit("/", 1)[-1].lower())[:60],
        title=f"Load {problem.source}",
        status=Status.ERROR,
        summary=f"a check could not be loaded: {problem.reason}",
        category="Bug",
    )
