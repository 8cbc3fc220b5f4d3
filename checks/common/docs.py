"""The documentation pages findings link to, named once so a moved page is fixed in one place."""

POSTHOG = "https://posthog.com/docs"

DEPLOYMENT = f"{POSTHOG}/self-host/open-source/deployment"
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
POSTGRES_RUNBOOK = f"{POSTHOG}/runbook/services/postgresql"

PG_ACTIVITY = "https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW"
PG_SLOTS = "https://www.postgresql.org/docs/current/warm-standby.html#STREAMING-REPLICATION-SLOTS"
PG_STATISTICS = "https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-STATISTICS"

# ZooKeeper / ClickHouse Keeper (posthog.com contents/docs/runbook/services/zookeeper/index.md: disk growth,
# zkCleanup.sh, autopurge).
ZOOKEEPER_RUNBOOK = f"{POSTHOG}/runbook/services/zookeeper"
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
