"""Are PostHog's Celery workers alive, and keeping up with their queues?

The periodic task `redis_heartbeat` writes Redis `POSTHOG_HEARTBEAT` = Unix time every 10 s (posthog/celery.py
in 1.31; posthog/tasks/scheduled.py @ 3e7c2be); Django's `get_celery_heartbeat()` reports the workers
"offline" unless the heartbeat is 0-299 s old, and that is what `/_preflight/` shows as `celery`. Each Celery
queue is a Redis list in the broker database (the same REDIS_URL): System Status shows only `celery`, but
PostHog has defined up to 14 queues at once since 2024 (queues.yaml), and a backlog on any of them is work
not done.

The heartbeat is read in the Redis PostHog uses (checks/common/posthog_redis.py). In a Redis the doctor only
guessed and that holds no fresh PostHog key, a missing or old heartbeat may just mean PostHog writes to
another Redis: that is said as such, never as "workers offline".
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    ErrorKind,
    Evidence,
    Finding,
    Item,
    Option,
    Outcome,
    Redis,
    Skip,
    Table,
    Values,
    conclude,
    load_yaml,
    units,
)

from ..common import docs
from ..common.posthog_redis import CELERY_HEARTBEAT_KEY, RedisChoice, redis_of
from ..common.redis_memory import MEMORY_ADVICE, redis_memory_or_none
from ..common.web import preflight

HEARTBEAT_KEY = CELERY_HEARTBEAT_KEY
CLOCK_SKEW_SECONDS = 5

RESTART = Advice(
    "Restart the Celery worker and read its last log lines. The heartbeat is a scheduled task, so the "
    "scheduler (celery beat: the hobby worker runs with --with-scheduler) must run too.",
    commands=[
        "docker compose restart worker",
        "docker compose logs --tail 200 worker",
        "kubectl -n posthog rollout restart deployment/posthog-worker",
    ],
    links=[docs.TROUBLESHOOTING],
)
SCALE = Advice(
    "The workers are alive but behind: give them more replicas or concurrency, and look in their logs for slow tasks.",
    commands=["kubectl -n posthog scale deployment/posthog-worker --replicas=2"],
    links=[docs.TROUBLESHOOTING],
)
WHICH_REDIS = Advice(
    "Give the doctor the Redis PostHog uses: REDIS_URL from the web container's environment (hobby: "
    "`docker compose exec web env | grep REDIS_URL`; the newest hobby stack uses redis7) or POSTHOG_REDIS_HOST "
    "from the chart (Helm), as --redis-url or in the env file.",
    links=[docs.ENV_VARS],
)


@functools.lru_cache(maxsize=1)
def queues() -> dict[str, str]:
    """Every Celery queue PostHog has defined, with what runs on it (queues.yaml)."""
    data = load_yaml(Path(__file__).with_name("queues.yaml").read_text(encoding="utf-8"))
    return {str(q["name"]): str(q["what"]) for q in data["queues"]}


class CeleryWorkers(Check):
    """Reads the Celery heartbeat (`POSTHOG_HEARTBEAT`) and the depth of every Celery queue PostHog defines, in the
    Redis PostHog uses."""

    id = "celery.workers"
    title = "Celery workers"
    needs = ("redis",)
    uses = ("posthog_api",)
    tags = ("celery", "redis")
    category = "Deployments/Maintenance"
    timeout = 10.0
    options = {
        "offline_seconds": Option(300.0, "a heartbeat this old means the workers are offline (Django's rule)"),
        "late_seconds": Option(60.0, "warn when the heartbeat (written every 10 s) is older than this"),
        "queue_warn": Option(1000, "warn when one Celery queue holds more tasks than this"),
        "queue_fail": Option(10000, "fail when one Celery queue holds more tasks than this"),
        "total_warn": Option(5000, "warn when all Celery queues together hold more tasks than this"),
        "total_fail": Option(50000, "fail when all Celery queues together hold more tasks than this"),
    }

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        redis, choice = redis_of(ctx)
        findings: list[Finding] = []

        age, heartbeat_said = self._heartbeat_age(redis)
        offline = age is None or age >= o["offline_seconds"]
        doubt = self._doubt(ctx, choice) if offline else ""
        memory = redis_memory_or_none(ctx) if offline and not doubt else None
        evicted = memory.missing_key_cause() if memory else ""
        if doubt:
            findings.append(Finding.warn(doubt, WHICH_REDIS, RESTART, key="other_redis"))
        elif evicted:  # Redis lost or refused the heartbeat: say that before "workers offline"
            findings.append(Finding.fail(f"{evicted}; {heartbeat_said}", MEMORY_ADVICE, RESTART, key="heartbeat"))
        elif age is None:
            findings.append(Finding.fail(heartbeat_said, RESTART, key="heartbeat"))
        elif age < -CLOCK_SKEW_SECONDS:
            findings.append(
                Finding.warn(
                    f"the heartbeat is {-age:.0f} s in the future: the clocks of the worker and "
                    "this machine differ, so its age cannot be judged",
                    RESTART,
                )
            )
        elif age >= o["offline_seconds"]:
            findings.append(
                Finding.fail(
                    f"workers offline: last heartbeat {units.duration(age)} ago (offline after "
                    f"{o['offline_seconds']:g} s)",
                    RESTART,
                    key="heartbeat",
                )
            )
        elif age >= o["late_seconds"]:
            findings.append(
                Finding.warn(f"heartbeat late: {units.duration(age)} old (it is written every 10 s)", RESTART)
            )

        depths, odd = self._queue_depths(redis)
        workers_fine = not findings
        backlog = self._backlog(depths, o, workers_fine)
        findings += backlog
        total = sum(depths.values())
        evidence: list[Evidence] = [
            Values(
                "Celery",
                [
                    Item("Heartbeat age (s)", None if age is None else round(age), "heartbeat_age_seconds"),
                    Item("Heartbeat", heartbeat_said, "heartbeat"),
                    Item("Tasks in all queues", total, "queue_depth"),
                    Item("Tasks in the celery queue", depths.get("celery", 0), "celery_queue_depth"),
                    Item("Redis read", f"{choice.where}: {choice.why}", "redis"),
                ],
            ),
            Table(
                "Celery queues",
                ["Queue", "Tasks", "Runs"],
                [
                    [name, depths.get(name, 0), what]
                    for name, what in queues().items()
                    if name in depths or name == "celery"
                ]
                + [[name, said, queues()[name]] for name, said in odd.items()],
                note="Queues PostHog has defined over its versions; an absent one holds no task.",
            ),
        ]
        queue_text = _queued(depths) + ("; " + "; ".join(f"{n}: {s}" for n, s in odd.items()) if odd else "")
        # Key figures `diff` compares after a fix: the total, and each queue that holds tasks.
        metrics: dict[str, float | None] = {"heartbeat_age_seconds": age, "queue_depth": total}
        metrics.update({f"queue_depth.{name}": n for name, n in depths.items() if n})
        return conclude(
            findings,
            f"workers alive: heartbeat {units.duration(age)} old, {queue_text}",
            evidence=evidence,
            metrics=metrics,
            suffix="" if backlog else f" ({queue_text})",
        )

    @staticmethod
    def _doubt(ctx: Context, choice: RedisChoice) -> str:
        """Why a missing or old heartbeat may not be the workers' fault: "" when it is."""
        django_says = _preflight_celery(ctx)
        look = choice.chosen_look
        where = f"this Redis ({choice.where})"
        if django_says is True:
            return (
                f"no fresh Celery heartbeat in {where}, yet Django sees its workers alive (/_preflight/ celery: "
                f"true): PostHog uses another Redis (tried: {choice.tried()})"
            )
        if django_says is None and not choice.confirmed:
            held = "an old" if look is not None and look.celery_age is not None else "no"
            return (
                f"{held} Celery heartbeat in {where}; PostHog may use another one (tried: {choice.tried()}), so "
                "whether the workers run cannot be told from here"
            )
        return ""

    def _backlog(self, depths: dict[str, int], o: dict[str, Any], workers_fine: bool) -> list[Finding]:
        """Queues (and the total) over their thresholds. A fresh heartbeat with a long queue: alive but behind."""
        found = []
        for name, depth in sorted(depths.items(), key=lambda kv: -kv[1]):
            level = next((lv for lv in ("fail", "warn") if depth > o[f"queue_{lv}"]), None)
            if level is not None:
                make = Finding.fail if level == "fail" else Finding.warn
                found.append(
                    make(
                        f"{depth:,} tasks waiting in the {name} queue (more than {o[f'queue_{level}']:,})",
                        *([SCALE] if workers_fine else []),
                        key=f"queue.{name}",
                    )
                )
        total = sum(depths.values())
        level = next((lv for lv in ("fail", "warn") if total > o[f"total_{lv}"]), None)
        if level is not None and not any(f.status.value == level for f in found):
            make = Finding.fail if level == "fail" else Finding.warn
            found.append(
                make(
                    f"{total:,} tasks waiting in all Celery queues together (more than {o[f'total_{level}']:,}): "
                    + _queued(depths),
                    *([SCALE] if workers_fine else []),
                    key="queue.total",
                )
            )
        return found

    @staticmethod
    def _heartbeat_age(redis: Redis) -> tuple[float | None, str]:
        """(age in seconds, what the key holds in words); age None means no usable heartbeat."""
        try:
            raw = redis.get(HEARTBEAT_KEY)
        except ConnectorError as exc:
            if exc.kind != ErrorKind.WRONG_TYPE:
                raise
            return None, f"{HEARTBEAT_KEY} holds a {redis.type(HEARTBEAT_KEY)}, not the Unix time the workers write"
        if raw is None:
            return None, (
                f"no Celery heartbeat ({HEARTBEAT_KEY} is missing): no worker has run its heartbeat task "
                "against this Redis database, or the key was evicted"
            )
        try:
            written = float(raw.strip())
        except ValueError:
            return None, f"{HEARTBEAT_KEY} holds {raw[:40]!r}, not a Unix time"
        return time.time() - written, f"written at Unix time {written:.0f}"

    @staticmethod
    def _queue_depths(redis: Redis) -> tuple[dict[str, int], dict[str, str]]:
        """(tasks per queue that holds any, plus always `celery`; a note per queue key of another type)."""
        depths: dict[str, int] = {}
        odd: dict[str, str] = {}
        for name in queues():
            try:
                depth = redis.llen(name)
            except ConnectorError as exc:
                if exc.kind != ErrorKind.WRONG_TYPE:
                    raise
                odd[name] = f"the {name!r} key is a {redis.type(name)}, not Celery's list"
                continue
            if depth or name == "celery":
                depths[name] = depth
        return depths, odd


def _queued(depths: dict[str, int]) -> str:
    total = sum(depths.values())
    busy = [f"{name} {n:,}" for name, n in sorted(depths.items(), key=lambda kv: -kv[1]) if n]
    if not busy:
        return "0 tasks queued"
    only_celery = depths.get("celery", 0) == total
    return f"{total:,} tasks queued" + ("" if only_celery else f" ({', '.join(busy)})")


def _preflight_celery(ctx: Context) -> bool | None:
    """Django's own view of its workers (`/_preflight/` celery), or None when it cannot be asked."""
    if not ctx.available("posthog_api"):
        return None
    try:
        value = preflight(ctx).get("celery")
    except (ConnectorError, Skip):
        return None
    return value if isinstance(value, bool) else None
