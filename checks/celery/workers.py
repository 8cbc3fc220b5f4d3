"""Are PostHog's Celery workers alive, and keeping up with their queue?

The periodic task `redis_heartbeat` writes Redis `POSTHOG_HEARTBEAT` = Unix time (posthog/tasks/tasks.py);
Django's `get_celery_heartbeat()` reports the workers "offline" unless the heartbeat is 0-299 s old, and
that is what `/_preflight/` shows as `celery`. The queue depth System Status shows is `LLEN celery`.
"""

from __future__ import annotations

import time

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    ErrorKind,
    Finding,
    Item,
    Option,
    Outcome,
    Redis,
    Values,
    conclude,
    units,
)

from ..common import docs

HEARTBEAT_KEY = "POSTHOG_HEARTBEAT"
QUEUE_KEY = "celery"
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


class CeleryWorkers(Check):
    """Reads the Celery heartbeat (`POSTHOG_HEARTBEAT`) and the depth of the `celery` queue from Redis."""

    id = "celery.workers"
    title = "Celery workers"
    needs = ("redis",)
    tags = ("celery", "redis")
    category = "Deployments/Maintenance"
    timeout = 10.0
    options = {
        "offline_seconds": Option(300.0, "a heartbeat this old means the workers are offline (Django's rule)"),
        "late_seconds": Option(60.0, "warn when the heartbeat (written every 10 s) is older than this"),
        "queue_warn": Option(1000, "warn when the celery queue holds more tasks than this"),
        "queue_fail": Option(10000, "fail when the celery queue holds more tasks than this"),
    }

    def run(self, ctx: Context) -> Outcome:
        o = ctx.options
        findings: list[Finding] = []

        age, heartbeat_said = self._heartbeat_age(ctx.redis)
        if age is None:
            findings.append(Finding.fail(heartbeat_said, RESTART))
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
                )
            )
        elif age >= o["late_seconds"]:
            findings.append(
                Finding.warn(f"heartbeat late: {units.duration(age)} old (it is written every 10 s)", RESTART)
            )

        depth, depth_said = self._queue_depth(ctx.redis)
        level = next((lv for lv in ("fail", "warn") if depth is not None and depth > o[f"queue_{lv}"]), None)
        if level is not None:
            # A fresh heartbeat with a long queue: the workers are alive but behind.
            found = Finding.fail if level == "fail" else Finding.warn
            findings.append(
                found(
                    f"{depth:,} tasks waiting in the celery queue (more than {o[f'queue_{level}']:,})",
                    *([] if findings else [SCALE]),
                )
            )

        evidence = [
            Values(
                "Celery",
                [
                    Item("Heartbeat age (s)", None if age is None else round(age), "heartbeat_age_seconds"),
                    Item("Heartbeat", heartbeat_said, "heartbeat"),
                    Item("Tasks in the celery queue", depth if depth is not None else depth_said, "queue_depth"),
                ],
            )
        ]
        queue_text = f"{depth:,} tasks queued" if depth is not None else depth_said
        metrics = {"heartbeat_age_seconds": age, "queue_depth": depth}  # compared by `diff` after a fix
        return conclude(
            findings,
            f"workers alive: heartbeat {units.duration(age)} old, {queue_text}",
            evidence=evidence,
            metrics=metrics,
            suffix="" if level else f" ({queue_text})",
        )

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
    def _queue_depth(redis: Redis) -> tuple[int | None, str]:
        try:
            return redis.llen(QUEUE_KEY), ""
        except ConnectorError as exc:
            if exc.kind != ErrorKind.WRONG_TYPE:
                raise
            return None, f"the {QUEUE_KEY!r} key is a {redis.type(QUEUE_KEY)}, not Celery's list"
