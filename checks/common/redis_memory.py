"""Redis memory pressure, read once per run and shared: a Redis that evicts or refuses writes explains missing keys.

PostHog runs Redis with a memory limit and `allkeys-lru` (hobby: `--maxmemory 200mb`, docker-compose.base.yml;
Helm: `--maxmemory 400mb`, charts values.yaml), so when it is full Redis silently drops the least recently used
keys, and the Celery heartbeat (`POSTHOG_HEARTBEAT`), the plugin server's ping and queued Celery tasks are keys
like any other. With `noeviction` (or a `volatile-*` policy and no expiring keys) a full Redis instead refuses
every write with `OOM command not allowed`, so nothing can write its heartbeat either. Either way the heartbeat
checks would say "workers offline" when the cause is Redis: `redis_memory(ctx)` gives them the fact to say first.

Counters come from `INFO memory`, `INFO stats` and `INFO errorstats` (errorstat_OOM: Redis 6.2+); they count
since Redis started (or since CONFIG RESETSTAT), which is why the uptime is kept beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

from posthog_doctor.check import Advice, ConnectorError, Context, units

from . import docs

FULL_PCT = 95.0  # used_memory at or above this share of maxmemory counts as full

# What to do about a Redis short of memory: for redis.memory and for any check whose key it may have cost.
MEMORY_ADVICE = Advice(
    "Give Redis room, or find what fills it. PostHog's own defaults are maxmemory 200 MB (hobby) and 400 MB "
    "(Helm) with maxmemory-policy allkeys-lru. A deep Celery queue (see celery.workers) or large cache keys are "
    "the usual fillers: list them with redis-cli --bigkeys and MEMORY STATS. Raise the limit where Redis is "
    "started so it survives a restart (docker-compose: the redis service's command; Helm: redis.master.extraFlags).",
    commands=[
        "docker compose exec redis redis-cli --bigkeys",
        "docker compose exec redis redis-cli CONFIG SET maxmemory 400mb   # until the next restart",
        "docker compose exec redis redis-cli INFO memory",
    ],
    links=[docs.HOBBY_COMPOSE, docs.REDIS_EVICTION, docs.REDIS_RUNBOOK],
)


@dataclass(frozen=True)
class RedisMemory:
    """What Redis says about its memory and what it did under pressure (counters since `uptime_seconds`)."""

    version: str
    uptime_seconds: int
    used_bytes: int
    maxmemory_bytes: int  # 0: no limit
    policy: str
    evicted_keys: int
    oom_rejections: int | None  # writes refused for memory (errorstat_OOM); None: this Redis does not count them
    rejected_connections: int
    error_replies: int | None  # every error reply (total_error_replies, Redis 6.2+)
    fragmentation: float | None  # used_memory_rss / used_memory
    rss_bytes: int | None
    system_bytes: int | None  # total_system_memory (0 or absent on some platforms)
    over_limit_now: bool | None  # current_eviction_exceeded_time > 0 (Redis 7+): evicting right now

    @property
    def used_pct(self) -> float | None:
        return round(100.0 * self.used_bytes / self.maxmemory_bytes, 1) if self.maxmemory_bytes else None

    @property
    def full(self) -> bool:
        return self.used_pct is not None and self.used_pct >= FULL_PCT

    @property
    def evicts(self) -> bool:
        return self.evicted_keys > 0

    @property
    def refuses_writes(self) -> bool:
        """Writes were refused for memory, or are refused now (full under a policy that cannot evict)."""
        return bool(self.oom_rejections) or (self.full and self.policy == "noeviction")

    @property
    def limit(self) -> str:
        return units.size(self.maxmemory_bytes) if self.maxmemory_bytes else "no limit"

    def describe(self) -> str:
        """One phrase: how full Redis is, and under which policy."""
        used = units.size(self.used_bytes)
        if not self.maxmemory_bytes:
            return f"{used} used, no maxmemory, policy {self.policy}"
        return f"{used} of maxmemory {self.limit} used ({self.used_pct:g}%), policy {self.policy}"

    def missing_key_cause(self) -> str:
        """A sentence for a check that found a PostHog key missing or stale ("" when memory explains nothing).

        Say it before concluding a service is down: the key may have been evicted, or its write refused.
        """
        since = f"in the {units.duration(self.uptime_seconds)} since it started"
        if self.refuses_writes:
            refused = (
                f"refused {self.oom_rejections:,} writes for lack of memory {since}" if self.oom_rejections else ""
            )
            state = "is full and refuses writes" if self.full else ""
            what = " and ".join(filter(None, (state, refused)))
            return (
                f"Redis {what} ({self.describe()}): a heartbeat that cannot be written goes stale while the "
                "service writing it may be alive"
            )
        if self.evicts:
            return (
                f"Redis has evicted {self.evicted_keys:,} keys {since} ({self.describe()}): a heartbeat or queued "
                "task may have been evicted rather than never written"
            )
        return ""


def redis_memory(ctx: Context) -> RedisMemory:
    """Redis's memory facts of this run, read by whichever check asks first (the check must use Redis)."""
    return ctx.shared("redis.memory", lambda: read_memory(ctx))


def redis_memory_or_none(ctx: Context) -> RedisMemory | None:
    """The same, or None when Redis is not reachable or will not say (INFO denied): for checks that only
    want to add the cause to their own finding."""
    try:
        return redis_memory(ctx)
    except ConnectorError:
        return None


def read_memory(ctx: Context) -> RedisMemory:
    from .posthog_redis import redis_of  # the Redis PostHog uses (redis or redis7), not merely the first that answers

    redis, _ = redis_of(ctx)
    memory, stats, server = redis.info("memory"), redis.info("stats"), redis.info("server")
    try:
        errors = redis.info("errorstats")  # Redis 6.2+; older servers answer with an empty section
    except ConnectorError:
        errors = {}
    oom = errors.get("errorstat_OOM")
    has_errorstats = bool(errors) or "total_error_replies" in stats
    exceeded = stats.get("current_eviction_exceeded_time")
    return RedisMemory(
        version=str(server.get("redis_version", "")),
        uptime_seconds=_int(server.get("uptime_in_seconds")),
        used_bytes=_int(memory.get("used_memory")),
        maxmemory_bytes=_int(memory.get("maxmemory")),
        policy=str(memory.get("maxmemory_policy", "unknown")),
        evicted_keys=_int(stats.get("evicted_keys")),
        oom_rejections=_int(oom.get("count")) if isinstance(oom, dict) else (0 if has_errorstats else None),
        rejected_connections=_int(stats.get("rejected_connections")),
        error_replies=_int(stats["total_error_replies"]) if "total_error_replies" in stats else None,
        fragmentation=_float(memory.get("mem_fragmentation_ratio")),
        rss_bytes=_int(memory["used_memory_rss"]) if "used_memory_rss" in memory else None,
        system_bytes=_int(memory.get("total_system_memory")) or None,
        over_limit_now=None if exceeded is None else _int(exceeded) > 0,
    )


def _int(value) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _float(value) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
