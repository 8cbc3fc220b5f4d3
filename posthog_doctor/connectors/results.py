"""Statements and their results, shared by the SQL connectors.

A `Query` is declared by a check (so `posthog-doctor explain` prints it without connecting) and handed
to a connector in place of text; its name travels into the server-side query id, so a DBA, the read-only
proof and the benchmark can attribute every statement the doctor sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Query:
    """A statement a check may send: the component it is for, a short name, and the SQL."""

    component: str
    name: str
    text: str

    @classmethod
    def from_file(cls, anchor: str, filename: str, component: str, name: str | None = None) -> Query:
        """Load SQL kept beside the check: `Query.from_file(__file__, "digest.sql", "clickhouse")`."""
        path = Path(anchor).with_name(filename)
        return cls(component, name or path.stem, path.read_text(encoding="utf-8").strip())


def as_query(query: Query | str, component: str) -> Query:
    """A Query for a statement given as plain text (named `adhoc`), so every statement carries a name."""
    return query if isinstance(query, Query) else Query(component, "adhoc", query)


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    partial: bool = False  # a read budget or the result cap cut the answer short
    partial_reason: str = ""
    rows_read: int = 0
    bytes_read: int = 0
    elapsed_ms: float = 0.0
    query_id: str = ""
    name: str = ""  # the Query's name

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def first(self) -> dict[str, Any] | None:
        return dict(zip(self.columns, self.rows[0], strict=True)) if self.rows else None

    def one(self) -> dict[str, Any]:
        """The single row of a statement that always returns one (an aggregate, a server setting)."""
        row = self.first()
        if row is None:
            from .base import ConnectorError, ErrorKind

            raise ConnectorError(f"{self.name or 'a query'} returned no row where one was expected", ErrorKind.PROTOCOL)
        return row

    def scalar(self, default: Any = None) -> Any:
        return self.rows[0][0] if self.rows and self.rows[0] else default


@dataclass
class IoTally:
    """What one check cost its targets, reported as the check's `io`."""

    queries: int = 0
    rows_read: int = 0
    bytes_read: int = 0
    partial_queries: int = 0
    listeners: list[Callable[[QueryResult], None]] = field(default_factory=list)

    def record(self, result: QueryResult) -> None:
        self.queries += 1
        self.rows_read += result.rows_read
        self.bytes_read += result.bytes_read
        self.partial_queries += int(result.partial)
        for listener in self.listeners:
            listener(result)

    def as_dict(self) -> dict[str, int]:
        if not self.queries:
            return {}
        return {
            "queries": self.queries,
            "rows_read": self.rows_read,
            "bytes_read": self.bytes_read,
            "partial_queries": self.partial_queries,
        }
