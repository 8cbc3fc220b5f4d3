"""Which Redis PostHog really uses, decided once per run from PostHog's own keys.

Django, Celery and (until 2025) the plugin server share one Redis: `REDIS_URL`, else
`POSTHOG_REDIS_HOST/PORT/PASSWORD` (posthog/settings/data_stores.py; Celery's broker is the same URL,
posthog/settings/celery.py). The hobby stack has run two Redis servers since 2024 and moved Django and Celery
from one to the other: docker-compose.hobby.yml @ 4ea531a points every REDIS_URL at `redis` (only the plugin
server's CDP and cookieless Redis at `redis7`), the newest .env.services @ 728597e points Django and Celery at
`redis7`. With PostHog's setting given (or one URL), that Redis is the one. With only guesses (both hobby
hosts), each that answers is read and the one holding PostHog's fresh heartbeats wins:

- `POSTHOG_HEARTBEAT`: Unix time, written every 10 s by Celery's `redis_heartbeat` task in every version
  (posthog/celery.py in 1.31; posthog/tasks/scheduled.py @ 3e7c2be), with no expiry;
- `@posthog-plugin-server/ping`: an ISO time written every 5 s with a 60 s TTL by plugin servers up to 2024
  (`startPreflightSchedules`; gone from nodejs/src/capabilities.ts @ c84f604).

A Redis the doctor only guessed and that holds no fresh heartbeat may simply not be PostHog's: the checks
then say "no heartbeat in this Redis" with what was tried, never "workers offline".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from posthog_doctor.check import Candidate, ConnectorError, Context, ErrorKind, Redis, Skip, units

CELERY_HEARTBEAT_KEY = "POSTHOG_HEARTBEAT"
PLUGIN_PING_KEY = "@posthog-plugin-server/ping"
PLUGIN_VERSION_KEY = "@posthog-plugin-server/version"
CELERY_FRESH_SECONDS = 300.0  # Django's rule: workers are alive while the heartbeat is younger
PING_FRESH_SECONDS = 60.0  # the ping's TTL: an existing ping is at most this old


@dataclass(frozen=True)
class RedisLook:
    """What one candidate Redis holds of PostHog's heartbeats."""

    where: str  # host:port/db, no password
    answered: bool
    said: str  # why not, when it did not answer
    celery_age: float | None = None  # seconds since POSTHOG_HEARTBEAT was written
    ping_age: float | None = None  # seconds since the plugin server's ping
    version: str = ""  # @posthog-plugin-server/version

    @property
    def fresh(self) -> bool:
        return (self.celery_age is not None and self.celery_age < CELERY_FRESH_SECONDS) or (
            self.ping_age is not None and self.ping_age < PING_FRESH_SECONDS
        )

    @property
    def posthogs(self) -> bool:
        """Whether PostHog wrote here at all (a stale heartbeat counts)."""
        return self.celery_age is not None or self.ping_age is not None or bool(self.version)

    def describe(self) -> str:
        if not self.answered:
            return f"{self.where} (no answer: {self.said})"
        parts = []
        if self.celery_age is not None:
            parts.append(f"Celery heartbeat {units.duration(max(self.celery_age, 0))} old")
        if self.ping_age is not None:
            parts.append(f"plugin server ping {units.duration(max(self.ping_age, 0))} old")
        if not parts and self.version:
            parts.append(f"plugin server version {self.version} but no heartbeat")
        return f"{self.where} ({', '.join(parts) or 'no PostHog heartbeat'})"


@dataclass(frozen=True)
class RedisChoice:
    """The Redis the PostHog checks read, and why."""

    candidate: Candidate | None  # None when no candidate answered
    why: str
    configured: bool  # one Redis given by PostHog's setting, a flag or the config (not a guess)
    looks: list[RedisLook] = field(default_factory=list)

    @property
    def confirmed(self) -> bool:
        """Configured, or holding one of PostHog's fresh heartbeats: a missing key then means what it says."""
        chosen = self.chosen_look
        return self.configured or (chosen is not None and chosen.fresh)

    @property
    def chosen_look(self) -> RedisLook | None:
        if self.candidate is None:
            return None
        where = _where(self.candidate)
        return next((look for look in self.looks if look.where == where), None)

    @property
    def where(self) -> str:
        return _where(self.candidate) if self.candidate is not None else "no Redis"

    def tried(self) -> str:
        """Every candidate and what it held, for a sentence."""
        return "; ".join(look.describe() for look in self.looks) or "no Redis"


def posthog_redis(ctx: Context) -> RedisChoice:
    """The Redis PostHog uses, decided once per run (see the module's docstring)."""
    return ctx.shared("redis:posthog", lambda: _choose(ctx))


def redis_of(ctx: Context) -> tuple[Redis, RedisChoice]:
    """A connection to PostHog's Redis and the choice behind it; Skip when no Redis answered."""
    choice = posthog_redis(ctx)
    if choice.candidate is None:
        raise Skip(f"Redis unavailable: {choice.why}")
    return ctx.connect("redis", choice.candidate.endpoint), choice


def _choose(ctx: Context) -> RedisChoice:
    own = [c for c in ctx.candidates("redis") if not c.role]
    answered = [c for c in own if c.probe.reachable]
    configured = len(own) == 1 and own[0].endpoint.source != "default"
    looks = [_look(ctx, c) for c in own]
    if not answered:
        return RedisChoice(None, "; ".join(look.describe() for look in looks) or "no Redis configured", False, looks)
    if configured:
        source = own[0].endpoint.source.removeprefix("env:").removeprefix("flag ")
        return RedisChoice(own[0], f"the Redis {source} names", True, looks)
    by_where = {look.where: look for look in looks}
    ranked = sorted(answered, key=lambda c: _rank(by_where[_where(c)]))
    chosen = ranked[0]
    look = by_where[_where(chosen)]
    if len(own) == 1:
        why = f"the only Redis tried ({'a default guess' if own[0].endpoint.source == 'default' else 'as given'})"
    elif look.fresh or look.posthogs:
        others = [by_where[_where(c)].describe() for c in own if c is not chosen]
        why = f"it holds PostHog's newest heartbeat: {look.describe()}; also tried {'; '.join(others)}"
    else:
        why = f"the first that answered; none holds a PostHog heartbeat: {'; '.join(x.describe() for x in looks)}"
    return RedisChoice(chosen, why, False, looks)


def _rank(look: RedisLook) -> tuple[int, float]:
    """Lower is better: a fresh Celery heartbeat, then a fresh ping, then any PostHog key, then none."""
    if look.celery_age is not None and look.celery_age < CELERY_FRESH_SECONDS:
        return (0, look.celery_age)
    if look.ping_age is not None and look.ping_age < PING_FRESH_SECONDS:
        return (1, look.ping_age)
    if look.posthogs:
        return (2, min(a for a in (look.celery_age, look.ping_age, float("inf")) if a is not None))
    return (3, 0.0)


def _look(ctx: Context, candidate: Candidate) -> RedisLook:
    where = _where(candidate)
    if not candidate.probe.reachable:
        return RedisLook(where, False, candidate.probe.summary)
    redis: Redis = ctx.connect("redis", candidate.endpoint)
    try:
        celery = _text(redis, CELERY_HEARTBEAT_KEY)
        ping = _text(redis, PLUGIN_PING_KEY)
        version = _text(redis, PLUGIN_VERSION_KEY) or ""
    except ConnectorError as exc:
        return RedisLook(where, False, str(exc))
    return RedisLook(where, True, "", _celery_age(celery), ping_age(ping), version[:40])


def _text(redis: Redis, key: str) -> str | None:
    try:
        return redis.get(key)
    except ConnectorError as exc:
        if exc.kind in (ErrorKind.WRONG_TYPE, ErrorKind.TOO_LARGE):
            return None  # not what PostHog writes: the heartbeat checks explain it
        raise


def _celery_age(raw: str | None) -> float | None:
    try:
        return time.time() - float((raw or "").strip()) if raw is not None else None
    except ValueError:
        return None


def ping_age(raw: str | None) -> float | None:
    """Seconds since the plugin server wrote its ping (an ISO time), None when missing or unreadable."""
    when = units.parse_timestamp(raw) if raw else None
    return (datetime.now(UTC) - when).total_seconds() if when is not None else None


def _where(candidate: Candidate) -> str:
    ep = candidate.endpoint
    return f"{ep.host}:{ep.port}/{ep.database or '0'}"


def fresh_plugin_ping(ctx: Context) -> float | None:
    """The age of the plugin server's ping in PostHog's Redis when it is fresh (under 60 s), else None.

    A fresh ping is a running plugin server (one from 2021-2024: newer ones do not write it). The context
    must declare `redis`; without a Redis there is no answer (None).
    """
    if "redis" not in ctx.components:
        return None
    try:
        look = posthog_redis(ctx).chosen_look
    except (ConnectorError, Skip):
        return None
    if look is None or look.ping_age is None or not -5 < look.ping_age < PING_FRESH_SECONDS:
        return None
    return max(look.ping_age, 0.0)
