"""Where ClickHouse's bytes go: every table's parts (one metadata query, shared per run) sorted into the groups of
disk_groups.yaml, so a disk warning names what to trim."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from posthog_doctor.check import Context, Query, load_yaml, units

from ._common import as_int

PARTS_BY_TABLE = Query.from_file(__file__, "parts_by_table.sql", "clickhouse")
GROUPS_FILE = Path(__file__).with_name("disk_groups.yaml")


@dataclass(frozen=True)
class DiskGroup:
    id: str
    title: str
    tables: re.Pattern | None
    system: bool  # matches only the system database (else every other database)
    trim: str

    def matches(self, database: str, table: str) -> bool:
        if self.tables is None:
            return True
        return (database == "system") == self.system and bool(self.tables.search(table))


@dataclass
class TableBytes:
    database: str
    table: str
    bytes: int
    rows: int
    parts: int
    oldest: int
    newest: int

    @property
    def name(self) -> str:
        return f"{self.database}.{self.table}"


@dataclass
class GroupBytes:
    group: DiskGroup
    bytes: int = 0
    rows: int = 0
    tables: list[TableBytes] = field(default_factory=list)


def load_groups(path: Path = GROUPS_FILE) -> tuple[DiskGroup, ...]:
    data = load_yaml(path.read_text(encoding="utf-8")) or {}
    groups = tuple(
        DiskGroup(
            id=str(g["id"]),
            title=str(g["title"]),
            tables=re.compile(g["tables"]) if g.get("tables") else None,
            system=g.get("database") == "system",
            trim=" ".join(str(g.get("trim") or "").split()),
        )
        for g in data.get("groups") or []
    )
    if not groups or groups[-1].tables is not None:
        raise ValueError(f"{path.name}: the last group must have no pattern (it takes every other table)")
    return groups


GROUPS = load_groups()


def tables_on_disk(ctx: Context) -> list[TableBytes]:
    """Every table with active parts, biggest first (read once per run)."""

    def read() -> list[TableBytes]:
        return [
            TableBytes(
                str(r["database"]),
                str(r["table"]),
                as_int(r["bytes"]),
                as_int(r["rows"]),
                as_int(r["parts"]),
                as_int(r["oldest"]),
                as_int(r["newest"]),
            )
            for r in ctx.clickhouse.query(PARTS_BY_TABLE).dicts()
        ]

    return ctx.shared("clickhouse.parts_by_table", read)


def attribute(tables: list[TableBytes]) -> list[GroupBytes]:
    """Bytes per group, in the groups' order (groups without data left out)."""
    by_id = {g.id: GroupBytes(g) for g in GROUPS}
    for t in tables:
        group = next(g for g in GROUPS if g.matches(t.database, t.table))
        entry = by_id[group.id]
        entry.bytes += t.bytes
        entry.rows += t.rows
        entry.tables.append(t)
    return [g for g in by_id.values() if g.tables]


def share_sentence(groups: list[GroupBytes], limit: int = 3) -> str:
    """'events 60% (12.0 GiB), ClickHouse system logs 30% (6.0 GiB; system.trace_log 5.1 GiB)' for the biggest."""
    total = sum(g.bytes for g in groups)
    if not total:
        return ""
    parts = []
    for g in sorted(groups, key=lambda g: -g.bytes)[:limit]:
        biggest = max(g.tables, key=lambda t: t.bytes)
        detail = f"; {biggest.name} {units.size(biggest.bytes)}" if len(g.tables) > 1 and g.group.trim else ""
        parts.append(f"{g.group.title} {100 * g.bytes / total:.0f}% ({units.size(g.bytes)}{detail})")
    return ", ".join(parts)
