"""The documentation pages findings link to, named once so a moved page is fixed in one place."""

POSTHOG = "https://posthog.com/docs"

DEPLOYMENT = f"{POSTHOG}/self-host/open-source/deployment"
SELF_HOST = f"{POSTHOG}/self-host"  # requirements of today's hobby stack (contents/docs/self-host/index.mdx)
ENV_VARS = f"{POSTHOG}/self-host/configure/environment-variables"
TROUBLESHOOTING = f"{POSTHOG}/self-host/deploy/troubleshooting"
UPGRADING = f"{POSTHOG}/self-host/configure/upgrading-posthog"
SCALING = f"{POSTHOG}/self-host/configure/scaling-posthog"
POSTGRES_VS_CLICKHOUSE = f"{POSTHOG}/self-host/postgres-vs-clickhouse"
MIGRATE_TO_CLICKHOUSE = f"{POSTHOG}/self-host/migrate-from-postgres-to-clickhouse"
POSTGRES_UPGRADE_MIGRATIONS = f"{POSTHOG}/self-host/postgres-upgrade-migrations"
MIGRATOR_PLUGIN = "https://github.com/PostHog/posthog-plugin-migrator3000"
SUPPORT_HERO = "https://posthog.com/handbook/engineering/operations/support-hero"

INGESTION_LAG = f"{POSTHOG}/runbook/services/plugin-server/ingestion-lag"
PLUGIN_SERVER = f"{POSTHOG}/runbook/services/plugin-server"
PLUGIN_BACKPRESSURE = f"{POSTHOG}/self-host/runbook/alerts/plugin-server-backpressure"
KAFKA_ENGINE = f"{POSTHOG}/self-host/runbook/clickhouse/kafka-engine"
CLICKHOUSE_LOAD = f"{POSTHOG}/runbook/services/clickhouse/debugging-load"
CLICKHOUSE_RESIZE_DISK = f"{POSTHOG}/runbook/services/clickhouse/resize-disk"
CLICKHOUSE_REPLICATION = f"{POSTHOG}/self-host/runbook/clickhouse/sharding-and-replication"
KAFKA_RESIZE_DISK = f"{POSTHOG}/runbook/services/kafka/resize-disk"
KAFKA_RETENTION = f"{POSTHOG}/runbook/services/kafka/log-retention"
KAFKA_RUNBOOK = f"{POSTHOG}/self-host/runbook/kafka"
POSTGRES_RUNBOOK = f"{POSTHOG}/runbook/services/postgresql"

PG_ACTIVITY = "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW"
PG_SLOTS = "https://www.postgresql.org/docs/current/warm-standby.html#STREAMING-REPLICATION-SLOTS"
PG_STATISTICS = "https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-STATISTICS"

# PostHog pages the ClickHouse depth checks link (research-depth §11: each is a file in PostHog/posthog.com).
CLICKHOUSE_RUNBOOK = f"{POSTHOG}/self-host/runbook/clickhouse"
CLICKHOUSE_INGESTION = f"{POSTHOG}/how-posthog-works/clickhouse"
ZOOKEEPER_RUNBOOK = f"{POSTHOG}/runbook/services/zookeeper"
UPGRADE_NOTES = f"{POSTHOG}/runbook/upgrade-notes"
TIMESTAMPS = f"{POSTHOG}/data/timestamps"
INGESTION_WARNINGS = f"{POSTHOG}/data/ingestion-warnings"
ERROR_TRACKING = f"{POSTHOG}/error-tracking"
SESSION_REPLAY = f"{POSTHOG}/session-replay"

# ClickHouse's own reference: PostHog has no page on system log tables, mutations or system.errors.
CLICKHOUSE_DOCS = "https://clickhouse.com/docs/en"
CH_SYSTEM_ERRORS = f"{CLICKHOUSE_DOCS}/operations/system-tables/errors"
CH_MUTATIONS = f"{CLICKHOUSE_DOCS}/operations/system-tables/mutations"
CH_KILL_MUTATION = f"{CLICKHOUSE_DOCS}/sql-reference/statements/kill#kill-mutation"
CH_MERGES = f"{CLICKHOUSE_DOCS}/operations/system-tables/merges"
CH_MERGE_TREE_SETTINGS = f"{CLICKHOUSE_DOCS}/operations/settings/merge-tree-settings"
CH_SYSTEM_TABLES = f"{CLICKHOUSE_DOCS}/operations/system-tables"
CH_QUERY_LOG_SETTINGS = f"{CLICKHOUSE_DOCS}/operations/server-configuration-parameters/settings#query_log"

# Async migrations: the page PostHog's own `run_async_migrations --check` prints, and the runbook (upgrade path).
ASYNC_MIGRATIONS = f"{POSTHOG}/self-host/configure/async-migrations/overview"
ASYNC_MIGRATIONS_RUNBOOK = f"{POSTHOG}/runbook/async-migrations"
ASYNC_MIGRATION_MODEL = "https://github.com/PostHog/posthog/blob/master/posthog/models/async_migration.py"
MIGRATE_CLICKHOUSE = "https://github.com/PostHog/posthog/blob/master/posthog/management/commands/migrate_clickhouse.py"
CLICKHOUSE_MIGRATIONS_SOURCE = "https://github.com/PostHog/posthog/tree/master/posthog/clickhouse/migrations"

# Redis: PostHog has only a stub runbook; its compose file carries the settings (maxmemory, allkeys-lru).
REDIS_RUNBOOK = f"{POSTHOG}/self-host/runbook/redis"
HOBBY_COMPOSE = "https://github.com/PostHog/posthog/blob/master/docker-compose.base.yml"
REDIS_EVICTION = "https://redis.io/docs/latest/develop/reference/eviction/"
REDIS_MEMORY_OPTIMIZATION = (
    "https://redis.io/docs/latest/operate/oss_and_stack/management/optimization/memory-optimization/"
)

# Event definitions: written by the plugin server until PostHog moved them to property-defs-rs (PR #24843, 2024).
PROPERTY_DEFS_RS = "https://github.com/PostHog/posthog/tree/master/rust/property-defs-rs"
PROPERTY_DEFS_MOVE = "https://github.com/PostHog/posthog/pull/24843"

# ZooKeeper / ClickHouse Keeper (posthog.com contents/docs/runbook/services/zookeeper/index.md: disk growth,
# zkCleanup.sh, autopurge).
ZOOKEEPER_4LW = "https://zookeeper.apache.org/doc/current/zookeeperAdmin.html#sc_4lw"
ZOOKEEPER_IMAGE = "https://hub.docker.com/_/zookeeper"  # ZOO_4LW_COMMANDS_WHITELIST, ZOO_AUTOPURGE_*
CLICKHOUSE_KEEPER = "https://clickhouse.com/docs/en/guides/sre/keeper/clickhouse-keeper"
CLICKHOUSE_ZOOKEEPER_TABLE = "https://clickhouse.com/docs/en/operations/system-tables/zookeeper"
HOBBY_DEPLOY = f"{POSTHOG}/self-host/deploy/hobby"

# Capture: the public endpoints SDKs send events to (posthog.com contents/docs/api/capture.mdx) and the
# reverse-proxy pages (contents/docs/advanced/proxy/).
CAPTURE_API = f"{POSTHOG}/api/capture"
PROXY_CADDY = f"{POSTHOG}/advanced/proxy/caddy"
PROXY_TROUBLESHOOTING = f"{POSTHOG}/advanced/proxy/troubleshooting"
# PostHog's source, where the docs say nothing: how capture answers and which GET validates a token.
SOURCE = "https://github.com/PostHog/posthog/blob"
RUST_CAPTURE_ROUTER = f"{SOURCE}/bb3f43dbb62b71c0c2b6423d946f537c5ffc0ffb/rust/capture/src/router.rs"
REMOTE_CONFIG_VIEW = f"{SOURCE}/7c159bb4143c6039104b598d865ccfd5f9b0f55b/posthog/api/remote_config.py"
EARLY_ACCESS_VIEW = f"{SOURCE}/00b3f8bbb89d122319a5d500ab76e28bdf2f01da/posthog/api/early_access_feature.py"
HOBBY_COMPOSE_SOURCE = f"{SOURCE}/00cbfd237ce7978ba4056cbab9df25b9995c70d2/docker-compose.base.yml"
