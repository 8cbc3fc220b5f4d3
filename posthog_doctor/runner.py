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

    done: queue.Queue[tuple[str, str, CheckResult | None]] = queue.Queue()
    # Every component is probed at once, and each check starts as soon as the components it touches have
    # answered (or failed to): a slow probe delays only the checks that need that component.
    probing = Probing(
        plan.components,
        settings,
        min(PROBE_SECONDS, settings.timeout / 3),
        f"{run_id}:probe",
        lambda name: done.put(("probe", name, None)),
    )
    state = RunState(
        run_id,
        probing.endpoints,
        probing.probes,
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
        runnable.append(entry.check)
    for r in results:
        progress.finished(r)

    ran, deadline_hit = _run_pool(
        runnable, state, options, settings.concurrency, run_deadline, settings.timeout, progress, probing, done
    )
    probes = probing.finish()
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


class Probing:
    """Probes every component in a thread of its own; `probes` and `endpoints` fill in as they answer, and
    `notify(name)` is called as each one does."""

    def __init__(self, names: list[str], settings: Settings, seconds: float, tag: str, notify=lambda name: None):
        self.names = list(names)
        self.probes: dict[str, ProbeResult] = {}
        self.endpoints = dict(settings.endpoints)
        self.seconds = seconds
        self._lock = threading.Lock()
        self._notify = notify
        self.stop_at = time.monotonic() + seconds + 2.0  # the probes' own limits end them sooner; the backstop
        self._threads = [
            threading.Thread(target=self._work, args=(n, settings, tag), daemon=True, name=f"probe-{n}") for n in names
        ]
        for t in self._threads:
            t.start()

    def _work(self, name: str, settings: Settings, tag: str) -> None:
        result, endpoint = probe(
            COMPONENTS[name],
            settings.endpoints.get(name),
            seconds=self.seconds,
            status_file=settings.status_file,
            tag=tag,
        )
        with self._lock:
            if name in self.probes:  # the backstop gave up on it first
                return
            if endpoint is not None:
                self.endpoints[name] = endpoint
            self.probes[name] = result
        self._notify(name)

    def answered(self, names) -> bool:
        with self._lock:
            return all(n in self.probes for n in names)

    def expire(self) -> None:
        """Past the backstop, a probe that has not answered is a timeout."""
        if time.monotonic() < self.stop_at:
            return
        with self._lock:
            for name in self.names:
                self.probes.setdefault(
                    name, ProbeResult(False, f"no answer within {self.seconds:.0f} s", error_kind=ErrorKind.TIMEOUT)
                )

    def finish(self) -> dict[str, ProbeResult]:
        """Every probe's result, waiting up to the backstop for those still running."""
        for t in self._threads:
            t.join(max(0.0, self.stop_at - time.monotonic()))
        self.stop_at = min(self.stop_at, time.monotonic())
        self.expire()
        with self._lock:
            return dict(self.probes)


def probe_components(names: list[str], settings: Settings, seconds: float, tag: str = "probe"):
    """Probe every component in parallel and wait for them all; returns probe results and the endpoints used."""
    probing = Probing(names, settings, seconds, tag)
    probes = probing.finish()
    return probes, dict(probing.endpoints)


def _run_pool(
    checks: list[type[Check]],
    state: RunState,
    options: dict[str, dict[str, Any]],
    concurrency: int,
    run_deadline: Deadline,
    timeout_s: float,
    progress: Progress,
    probing: Probing,
    done: queue.Queue[tuple[str, str, CheckResult | None]],
) -> tuple[list[CheckResult], bool]:
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
        probing.expire()
        for check in list(pending):  # in plan order, each once the components it touches have been probed
            if len(running) >= concurrency or run_deadline.expired():
                break
            if not probing.answered(check.components()):
                continue
            pending.remove(check)
            down = [n for n in check.needs if not state.probes.get(n, ProbeResult(True, "")).reachable]
            if down:
                name = down[0]
                reason = f"{COMPONENTS[name].label} unavailable: {state.probes[name].summary}"
                finish(_result(check, Outcome(Status.SKIPPED, reason), 0))
            else:
                start(check)
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
        if not running and pending and not any(probing.answered(c.components()) for c in pending):
            wake = probing.stop_at  # nothing runs: wait for a probe (or the probes' backstop)
        else:
            wake = min([d for _, _, d, _ in running.values()] + [run_deadline.at, probing.stop_at])
        try:
            kind, key, result = done.get(timeout=max(0.01, min(wake, run_deadline.at) - time.monotonic()))
            # a probe's answer only wakes the loop; a late result of an abandoned check is dropped
            if kind == "check" and key in running and result is not None:
                del running[key]
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
    done.put(("check", check.id, _result(check, outcome, time.monotonic() - begun, io=ctx.tally.as_dict())))


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
