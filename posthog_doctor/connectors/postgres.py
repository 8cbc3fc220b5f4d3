"""Postgres, read-only and bounded (psycopg 3).

Each check gets one connection tagged `application_name=posthog-doctor`, whose transactions are
`READ ONLY`. Every statement runs under `statement_timeout` (sized from the check's deadline) and a short
`lock_timeout`, so the doctor never waits behind, or holds up, the customer's writers. A watchdog
cancels a statement the server has not answered by the client-side deadline.

The planner is part of the safety policy: `plan()` and `estimate_rows()` ask `EXPLAIN` (never ANALYZE),
which costs catalog lookups however big a table is, and `query(..., no_scan=True)` sends a statement only
after its plan shows no sequential scan, so a statement promised to read an index end cannot turn into a
scan of a hundred-million-row table.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from ..endpoints import Endpoint
from .base import (
    ConnectorError,
    Deadline,
    ErrorKind,
    MissingObject,
    WouldScan,
    first_line,
    network_error,
    strip_comments,
    to_text,
)
from .results import IoTally, Query, QueryResult, as_query

LOCK_TIMEOUT_MS = 500
SSL_PARAMS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword")
QUERY_CAP_SECONDS = 30.0
MAX_RESULT_ROWS = 10_000
_READ_STATEMENT = re.compile(
    r"^\s*(\(\s*)*(SELECT|WITH|SHOW|VALUES|TABLE)\b|^\s*EXPLAIN\b(?![^;]*\bANALY[SZ]E\b)", re.I
)


def explained(query: Query) -> Query:
    """The EXPLAIN form of `query`, declared beside it so `posthog-doctor explain` shows it too."""
    return Query(query.component, f"{query.name} (plan)", f"EXPLAIN (FORMAT JSON) {query.text}")


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a plan, depth first."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def sequential_scans(plan: dict[str, Any]) -> list[str]:
    """Relations the plan reads with a (possibly parallel) sequential scan."""
    return [n.get("Relation Name", "?") for n in plan_nodes(plan) if n.get("Node Type") == "Seq Scan"]


class Postgres:
    """One read-only Postgres session for one check."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline, *, tally: IoTally | None = None):
        self.endpoint = endpoint
        self.deadline = deadline
        self.tally = tally or IoTally()
        self.where = f"Postgres at {endpoint.host}:{endpoint.port}"
        self._conn: Any = None  # a psycopg.Connection, made on first use (psycopg is imported lazily)

    def query(
        self,
        query: Query | str,
        params: dict[str, Any] | tuple | None = None,
        *,
        timeout: float | None = None,
        no_scan: bool = False,
    ) -> QueryResult:
        """Run one read-only statement; parameters use psycopg's `%(name)s` placeholders.

        With `no_scan`, the statement is planned first and refused (`WouldScan`) when the plan reads a table
        sequentially. The only gap is a plan change in the milliseconds between the two (an ANALYZE
        finishing), and the statement_timeout every statement carries bounds even that.
        """
        import psycopg

        query = as_query(query, "postgres")
        if no_scan:
            scanned = sequential_scans(self.plan(query, params))
            if scanned:
                raise WouldScan(f"the planner would scan {', '.join(sorted(set(scanned)))} to answer {query.name}")
        sql = query.text.strip().rstrip(";")
        if not _READ_STATEMENT.match(strip_comments(sql)):
            raise ConnectorError("refused to send a statement that is not a read", ErrorKind.NOT_ALLOWED)
        limit = self.deadline.limit(timeout or QUERY_CAP_SECONDS)
        conn = self._connect(limit)
        watchdog = threading.Timer(limit + 1.0, self._cancel)
        watchdog.daemon = True
        started = time.monotonic()
        watchdog.start()
        try:
            with conn.cursor() as cur:
                cur.execute(f"SET LOCAL statement_timeout = {max(100, math.ceil(limit * 1000))}")
                cur.execute(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
                cur.execute(sql, params)
                columns = [d.name for d in cur.description] if cur.description else []
                rows = cur.fetchmany(MAX_RESULT_ROWS + 1) if cur.description else []
            conn.rollback()  # end the read-only transaction: nothing to keep, nothing left open
        except psycopg.Error as exc:
            self._reset()
            raise _translate(exc, self.where, limit) from None
        except OSError as exc:
            self._reset()
            raise network_error(exc, self.where, limit) from None
        finally:
            watchdog.cancel()
        elapsed = (time.monotonic() - started) * 1000
        result = QueryResult(
            columns, [tuple(to_text(v) for v in r) for r in rows[:MAX_RESULT_ROWS]], elapsed_ms=elapsed, name=query.name
        )
        if len(rows) > MAX_RESULT_ROWS:
            result.partial, result.partial_reason = True, f"result cut at {MAX_RESULT_ROWS:,} rows"
        self.tally.record(result)
        return result

    def plan(self, query: Query, params: dict[str, Any] | tuple | None = None) -> dict[str, Any]:
        """The top plan node of `query`, planned with `params` (values known, so estimates are specific)."""
        document = self.query(explained(query), params).scalar()
        if isinstance(document, str):  # a driver that hands back json as text
            document = json.loads(document)
        return document[0]["Plan"]

    def estimate_rows(self, query: Query, params: dict[str, Any] | None = None) -> float:
        """The planner's estimate of how many rows `query` returns (it never estimates below 1)."""
        return float(self.plan(query, params)["Plan Rows"])

    def close(self) -> None:
        self._reset()

    def _connect(self, limit: float):
        import psycopg

        if self._conn is not None:
            return self._conn
        kwargs = connect_kwargs(self.endpoint, limit)
        try:
            conn = psycopg.connect(**kwargs)
        except psycopg.Error as exc:
            raise _translate(exc, self.where, limit) from None
        except OSError as exc:
            raise network_error(exc, self.where, limit) from None
        conn.read_only = True  # every transaction starts with BEGIN READ ONLY
        self._conn = conn
        return conn

    def _cancel(self) -> None:
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(Exception):  # best effort: the runner's deadline is the backstop
                conn.cancel_safe(timeout=2.0)

    def _reset(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close; it is gone either way
                conn.close()


def connect_kwargs(ep: Endpoint, limit: float) -> dict[str, Any]:
    """psycopg's connection arguments for an endpoint: its address, credentials, and its TLS settings as PostHog
    passes them (DATABASE_URL's own query, or the sslmode, sslrootcert, sslcert and sslkey it builds from
    POSTHOG_POSTGRES_SSL_MODE and POSTHOG_POSTGRES_CLI_SSL_CA/CRT/KEY)."""
    kwargs: dict[str, Any] = {
        "host": ep.host,
        "port": ep.port,
        "dbname": ep.database or "posthog",
        "user": ep.user or "postgres",
        "application_name": "posthog-doctor",
        "connect_timeout": max(1, math.ceil(min(limit, 10.0))),
    }
    if ep.password:
        kwargs["password"] = ep.password
    for name in SSL_PARAMS:
        if ep.param(name):
            kwargs[name] = ep.param(name)
    return kwargs


def _translate(exc: Exception, where: str, limit: float) -> ConnectorError:
    """Turn a psycopg error into a plain-words ConnectorError."""
    from psycopg import errors

    text = first_line(str(exc))
    lowered = str(exc).lower()
    if isinstance(exc, errors.QueryCanceled):
        return ConnectorError(f"{where} stopped the query at its time limit ({limit:.0f} s)", ErrorKind.TIMEOUT)
    if isinstance(exc, errors.LockNotAvailable):
        return ConnectorError(
            f"{where}: gave up waiting for a lock after {LOCK_TIMEOUT_MS} ms (busy table)", ErrorKind.TIMEOUT
        )
    if isinstance(
        exc, (errors.UndefinedTable, errors.UndefinedColumn, errors.UndefinedObject, errors.UndefinedFunction)
    ):
        return MissingObject(f"{where}: {text}")
    if isinstance(exc, errors.InsufficientPrivilege):
        return ConnectorError(f"{where} denied the query: {text}", ErrorKind.PERMISSION)
    if isinstance(exc, errors.InvalidCatalogName) or ("database" in lowered and "does not exist" in lowered):
        return ConnectorError(f"{where}: {text}", ErrorKind.MISSING_DATABASE)
    if (
        "password authentication failed" in lowered
        or "no password supplied" in lowered
        or "pg_hba.conf" in lowered
        or isinstance(exc, errors.InvalidPassword)
    ):
        return ConnectorError(f"{where} rejected the user or password", ErrorKind.AUTH)
    if "ssl" in lowered and ("not support" in lowered or "required" in lowered or "negotiation" in lowered):
        return ConnectorError(
            f"{where}: TLS mismatch: {text} (set ?sslmode=disable or =require to match the server)", ErrorKind.TLS
        )
    if "timeout expired" in lowered:
        return ConnectorError(f"no answer from {where} within {limit:.1f} s", ErrorKind.TIMEOUT)
    return (
        network_error(exc, where, limit)
        if isinstance(exc, errors.OperationalError)
        else ConnectorError(f"{where} returned an error: {text}", ErrorKind.ERROR)
    )
