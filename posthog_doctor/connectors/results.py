"""The result of a database query, shared by the SQL connectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


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

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def first(self) -> dict[str, Any] | None:
        return dict(zip(self.columns, self.rows[0])) if self.rows else None

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
        return {"queries": self.queries, "rows_read": self.rows_read, "bytes_read": self.bytes_read,
                "partial_queries": self.partial_queries}
