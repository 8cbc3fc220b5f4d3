"""Is Redis out of memory? A full Redis evicts PostHog's keys or refuses its writes, and both look like a dead service.

Celery's broker queue, its heartbeat and the plugin server's ping all live in this Redis (CELERY_BROKER_URL is
REDIS_URL). PostHog's own deployments cap Redis and evict the least recently used keys (docker-compose.base.yml:
`redis-server --maxmemory-policy allkeys-lru --maxmemory 200mb`; the Helm chart: 400mb), so a Redis that fills up
drops keys silently; one set to `noeviction` refuses every write instead. The facts come from INFO only, shared
with other checks through `checks/common/redis_memory.py`.
"""

from __future__ import annotations

from posthog_doctor.check import Advice, Check, Context, Finding, Item, Option, Outcome, Values, conclude, units

from ..common import docs
from ..common.redis_memory import MEMORY_ADVICE as ROOM
from ..common.redis_memory import RedisMemory, redis_memory

MiB = 1024 * 1024

NOEVICTION = Advice(
    "With maxmemory-policy noeviction a full Redis answers every write with 'OOM command not allowed': Celery "
    "cannot queue tasks or write its heartbeat, and the plugin server's writes fail. PostHog's compose file and "
    "Helm chart run Redis with allkeys-lru; use that (or a larger maxmemory) unless this Redis is shared with "
    "something that must never lose a key.",
    commands=["docker compose exec redis redis-cli CONFIG SET maxmemory-policy allkeys-lru"],
    links=[docs.HOBBY_COMPOSE, docs.REDIS_EVICTION],
)
CONNECTIONS = Advice(
    "Redis refused connections because maxclients was reached: PostHog's web, worker and plugin server each "
    "hold a pool. Look for a client leaking connections (redis-cli CLIENT LIST), or raise maxclients.",
    commands=["docker compose exec redis redis-cli INFO clients"],
    links=[docs.REDIS_RUNBOOK],
)
FRAGMENTATION = Advice(
    "Redis holds much more memory from the system than its data needs (fragmentation). Enable active "
    "defragmentation (CONFIG SET activedefrag yes, jemalloc builds) or restart Redis at a quiet time.",
    links=[docs.REDIS_MEMORY_OPTIMIZATION],
)


class RedisMemoryPressure(Check):
    """Redis memory against maxmemory, the eviction policy, keys evicted, writes refused for memory (OOM) and
    connections refused, and fragmentation: the causes of heartbeats and tasks that vanish."""

    id = "redis.memory"
    title = "Redis memory and evictions"
    needs = ("redis",)
    tags = ("redis", "celery")
    category = "Deployments/Maintenance"
    timeout = 10.0
    options = {
        "noeviction_warn_pct": Option(90.0, "with noeviction, warn when this share of maxmemory is used"),
        "unbounded_warn_pct": Option(80.0, "without maxmemory, warn when Redis uses this share of the host's memory"),
        "fragmentation_warn": Option(1.5, "warn when the resident memory is this many times what Redis uses"),
        "fragmentation_waste_mb": Option(100.0, "and the difference is at least this many MiB"),
    }

    def run(self, ctx: Context) -> Outcome:
        memory = redis_memory(ctx)
        findings = [
            *write_findings(memory, ctx.options),
            *eviction_findings(memory),
            *connection_findings(memory),
            *fragmentation_findings(memory, ctx.options),
        ]
        metrics = {
            "used_pct": memory.used_pct,
            "evicted_keys": memory.evicted_keys,
            "oom_rejections": memory.oom_rejections,
            "fragmentation": memory.fragmentation,
        }
        return conclude(
            findings,
            f"Redis {memory.version}: {memory.describe()}, no key evicted and no write refused",
            evidence=[evidence(memory)],
            metrics=metrics,
        )


def write_findings(m: RedisMemory, o) -> list[Finding]:
    since = f"in the {units.duration(m.uptime_seconds)} since it started"
    if m.refuses_writes:
        refused = f"refused {m.oom_rejections:,} writes for lack of memory {since}" if m.oom_rejections else ""
        if m.full:
            text = "Redis is full and refuses writes" + (f": it {refused}" if refused else "")
            return [Finding.fail(f"{text} ({m.describe()})", NOEVICTION if m.policy == "noeviction" else ROOM, ROOM)]
        return [Finding.warn(f"Redis {refused}; now {m.describe()}", ROOM)]
    if m.policy == "noeviction" and m.used_pct is not None and m.used_pct >= o["noeviction_warn_pct"]:
        return [Finding.warn(f"Redis is close to refusing writes: {m.describe()}", NOEVICTION, ROOM)]
    if not m.maxmemory_bytes and m.system_bytes:
        share = 100.0 * m.used_bytes / m.system_bytes
        if share >= o["unbounded_warn_pct"]:
            return [
                Finding.warn(
                    f"Redis has no maxmemory and uses {units.size(m.used_bytes)}, {share:.0f}% of the host's "
                    f"{units.size(m.system_bytes)}: the kernel will kill it when memory runs out",
                    ROOM,
                )
            ]
    return []


def eviction_findings(m: RedisMemory) -> list[Finding]:
    if not m.evicts:
        return []
    now = " and is evicting now" if m.over_limit_now else ""
    return [
        Finding.warn(
            f"Redis evicted {m.evicted_keys:,} keys in the {units.duration(m.uptime_seconds)} since it started{now} "
            f"({m.describe()}): it drops the least recently used keys when full, and Celery's heartbeat, queued "
            "tasks and the plugin server's ping are keys like any other",
            ROOM,
        )
    ]


def connection_findings(m: RedisMemory) -> list[Finding]:
    if not m.rejected_connections:
        return []
    return [
        Finding.warn(
            f"Redis refused {m.rejected_connections:,} connections (maxclients reached) in the "
            f"{units.duration(m.uptime_seconds)} since it started",
            CONNECTIONS,
        )
    ]


def fragmentation_findings(m: RedisMemory, o) -> list[Finding]:
    if m.fragmentation is None or m.rss_bytes is None:
        return []
    waste = m.rss_bytes - m.used_bytes
    if m.fragmentation >= o["fragmentation_warn"] and waste >= o["fragmentation_waste_mb"] * MiB:
        return [
            Finding.warn(
                f"Redis holds {units.size(m.rss_bytes)} of memory for {units.size(m.used_bytes)} of data "
                f"(fragmentation {m.fragmentation:g})",
                FRAGMENTATION,
            )
        ]
    return []


def evidence(m: RedisMemory) -> Values:
    counted = "not counted by this Redis (errorstats: 6.2+)"
    return Values(
        "Redis memory",
        [
            Item("Redis version", m.version, "version"),
            Item("Up for", units.duration(m.uptime_seconds), "uptime"),
            Item("Memory used", units.size(m.used_bytes), "used"),
            Item("maxmemory", m.limit, "maxmemory"),
            Item("Used of maxmemory (%)", m.used_pct, "used_pct"),
            Item("maxmemory-policy", m.policy, "policy"),
            Item("Keys evicted", m.evicted_keys, "evicted_keys"),
            Item("Writes refused for memory (OOM)", counted if m.oom_rejections is None else m.oom_rejections, "oom"),
            Item("Error replies, all kinds", m.error_replies, "error_replies"),
            Item("Connections refused", m.rejected_connections, "rejected_connections"),
            Item("Resident memory (RSS)", None if m.rss_bytes is None else units.size(m.rss_bytes), "rss"),
            Item("Fragmentation ratio", m.fragmentation, "fragmentation"),
            Item("Host memory", None if m.system_bytes is None else units.size(m.system_bytes), "system_memory"),
        ],
        note="Counters run since Redis started (or since CONFIG RESETSTAT).",
    )
