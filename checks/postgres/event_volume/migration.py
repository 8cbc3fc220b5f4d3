"""Moving a Postgres-backed PostHog to ClickHouse: the documented steps, and whether the version allows it.

From docs/self-host/migrate-from-postgres-to-clickhouse: both instances must run the same PostHog
version, at least 1.29.0; 1.30.0 fixes the export of autocaptured events.
"""

from __future__ import annotations

import re

from posthog_doctor.check import Advice

from ...common import docs

# The metadata tables the guide copies to the new instance ("Exporting Postgres data", step 1).
METADATA_TABLES = (
    "posthog_action",
    "posthog_actionstep",
    "posthog_annotation",
    "posthog_cohort",
    "posthog_dashboard",
    "posthog_dashboarditem",
    "posthog_featureflag",
    "posthog_featureflagoverride",
    "posthog_messagingrecord",
    "posthog_organization",
    "posthog_organizationinvite",
    "posthog_organizationmembership",
    "posthog_personalapikey",
    "posthog_plugin",
    "posthog_pluginattachment",
    "posthog_pluginconfig",
    "posthog_pluginstorage",
    "posthog_team",
    "posthog_user",
    "posthog_user_groups",
    "posthog_user_user_permissions",
)
MINIMUM = (1, 29, 0)
RECOMMENDED = (1, 30, 0)


def parse_version(text: str) -> tuple[int, ...] | None:
    numbers = re.match(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    return tuple(int(n or 0) for n in numbers.groups()) if numbers else None


def version_advice(version: str | None) -> Advice:
    """What the version means for the move: upgrade first, upgrade to 1.30.0, or ready."""
    parsed = parse_version(version or "")
    if parsed is None:
        return Advice(
            "Check the PostHog version first (System Status shows it): moving events needs 1.29.0 or "
            "later on both instances, and 1.30.0 to export autocaptured events correctly.",
            links=[docs.MIGRATE_TO_CLICKHOUSE],
        )
    if parsed < MINIMUM:
        return Advice(
            f"This PostHog is {version}: upgrade it to 1.30.0 first (moving events needs at least 1.29.0, "
            "and 1.30.0 exports autocaptured events correctly). Long-running Postgres migrations during "
            "that upgrade have their own guide.",
            links=[docs.MIGRATE_TO_CLICKHOUSE, docs.POSTGRES_UPGRADE_MIGRATIONS],
        )
    if parsed < RECOMMENDED:
        return Advice(
            f"This PostHog is {version}: it can move events, but upgrade to 1.30.0 first unless you do not "
            "use autocapture (1.29 exports autocaptured events incorrectly).",
            links=[docs.MIGRATE_TO_CLICKHOUSE],
        )
    return Advice(
        f"This PostHog is {version}, recent enough to move (1.29.0 or later; run the same version on the "
        "new instance).",
        links=[docs.MIGRATE_TO_CLICKHOUSE],
    )


def metadata_dump_command() -> str:
    """The guide's pg_dump, its table list as one anchored pattern (pg_dump reads -t like psql's \\d)."""
    names = "|".join(table.removeprefix("posthog_") for table in METADATA_TABLES)
    return f"pg_dump -d posthog -f export.sql --no-owner --data-only -t 'posthog_({names})'"


def migration_steps() -> Advice:
    return Advice(
        "Move to ClickHouse (or to PostHog Cloud): deploy a fresh ClickHouse-backed PostHog at the same version with "
        "no events in it; copy the Postgres metadata (teams, users, dashboards, actions, cohorts, feature flags, "
        "plugins) with pg_dump --data-only and load it there; then install the Migrator 3000 plugin on this "
        "instance to export the events, and point your event sources at the new instance once the history is "
        "across.",
        commands=[metadata_dump_command()],
        links=[docs.MIGRATE_TO_CLICKHOUSE, docs.MIGRATOR_PLUGIN, docs.SCALING],
    )
