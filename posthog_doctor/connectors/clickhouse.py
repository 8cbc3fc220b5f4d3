"""ClickHouse, read-only and bounded, over the native protocol (clickhouse-driver) or in-process (chdb).

Every query carries `readonly=2`, a server-side `max_execution_time` sized from the check's deadline,
a cap on result rows, and, when the caller names one, a read budget with `read_overflow_mode='break'`.
An answer cut by a budget comes back marked `partial`, never silently short. Query ids read
`posthog-doctor:<run>:<check>:<query name>:<n>:<random>`, so a DBA (and the benchmark) can find and
attribute every statement the doctor sent in `system.query_log`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import threading
import time
import uuid
from typing import Any

from ..endpoints import Endpoint
from .base import ConnectorError, Deadline, ErrorKind, MissingObject, first_line, network_error, strip_comments, to_text
from .results import IoTally, Query, QueryResult, as_query

# clickhouse-driver fills a 400-year table of dates when it is imported (about 75 ms of start-up); its lazy
# table (this variable, spelt as the driver spells it) gives the same dates, computed when first read.
os.environ.setdefault("CLICKHOUSE_DRIVER_LASY_DATE_LUT", "lazy")

MAX_RESULT_ROWS = 10_000
MAX_MEMORY_BYTES = 2_000_000_000
QUERY_CAP_SECONDS = 30.0

# Statements the doctor may send. readonly=2 enforces this on the server; this is the second lock.
_READ_STATEMENT = re.compile(r"^\s*(\(\s*)*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXISTS|EXPLAIN)\b", re.I)
# Reading a Kafka-engine table consumes its messages on older servers: never do it. (The system table
# `system.kafka_consumers` only describes consumers and is safe to read.)
_KAFKA_TABLE_READ = re.compile(r"\b(FROM|JOIN)\s+(?!`?system`?\.)(`?\w+`?\.)?`?kafka_\w*", re.I)
_EXCEPTION_TEXT = re.compile(
    r"DB::Exception:\s*(.*?)(?:\s*Stack trace:|\s*\(([A-Z_]+)\)\s*(?:\(version [^)]*\))?\s*$|$)", re.S
)
_CODE = re.compile(r"Code:\s*(\d+)")

_AUTH_CODES = {192, 193, 194, 516}
_PERMISSION_CODES = {497, 164, 291}  # access denied, readonly, database access denied
_MISSING_CODES = {60, 47, 16, 36}  # table, identifier, column, bad arguments about a missing object
_TIMEOUT_CODES = {159, 209}
_BUDGET_CODES = {158, 307, 396}

# Statements the connector sends on its own behalf (`posthog-doctor explain` lists them too).
VERSION_QUERY = Query("clickhouse", "version", "SELECT version() AS version")
TABLES_QUERY = Query(
    "clickhouse",
    "tables",
    "SELECT name, engine FROM system.tables WHERE database = %(database)s ORDER BY name LIMIT 5000",
)
OWN_QUERIES = (VERSION_QUERY, TABLES_QUERY)


class ClickHouse:
    """One ClickHouse session for one check. Not thread-safe; the engine gives each check its own."""

    def __init__(
        self,
        endpoint: Endpoint,
        deadline: Deadline,
        *,
        tag: str = "",
        tally: IoTally | None = None,
        max_result_rows: int = MAX_RESULT_ROWS,
    ):
        self.endpoint = endpoint
        self.deadline = deadline
        self.tag = tag
        self.tally = tally or IoTally()
        self.max_result_rows = max_result_rows
        self.settings_allowed = True  # False when the user's profile forbids setting limits (readonly=1)
        self._backend: _Backend | None = None
        self._version: tuple[int, ...] | None = None
        self._count = 0

    @property
    def database(self) -> str:
        return self.endpoint.database or "default"

    @property
    def where(self) -> str:
        return f"ClickHouse at {self.endpoint.host}:{self.endpoint.port}" if self.endpoint.scheme != "chdb" else "chdb"

    def query(
        self,
        query: Query | str,
        params: dict[str, Any] | None = None,
        *,
        max_rows_to_read: int | None = None,
        max_bytes_to_read: int | None = None,
        timeout: float | None = None,
        partial_on_timeout: bool = False,
    ) -> QueryResult:
        """Run a read-only query. Parameters use the driver's `%(name)s` substitution. With `partial_on_timeout`
        the server stops reading at the time limit and answers from what it read (marked partial) instead of
        failing: for an aggregate whose partial answer still says something."""
        query = as_query(query, "clickhouse")
        sql = query.text.strip().rstrip(";")
        if not _READ_STATEMENT.match(strip_comments(sql)):
            raise ConnectorError("refused to send a statement that is not a read", ErrorKind.NOT_ALLOWED)
        if _KAFKA_TABLE_READ.search(strip_comments(sql)):
            raise ConnectorError(
                "refused to read a Kafka-engine table: reading it would consume its messages", ErrorKind.NOT_ALLOWED
            )
        limit = self.deadline.limit(timeout or QUERY_CAP_SECONDS)
        settings: dict[str, Any] = {
            "readonly": 2,  # reads only, but still lets us set the limits below
            "max_execution_time": max(1, math.ceil(limit)),
            "max_result_rows": self.max_result_rows,
            "result_overflow_mode": "break",
            "max_memory_usage": MAX_MEMORY_BYTES,
        }
        if max_rows_to_read:
            settings.update(max_rows_to_read=int(max_rows_to_read), read_overflow_mode="break")
        if max_bytes_to_read:
            settings.update(max_bytes_to_read=int(max_bytes_to_read), read_overflow_mode="break")
        if partial_on_timeout:
            settings.update(timeout_overflow_mode="break")
        self._count += 1
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", query.name)[:60] or "adhoc"
        query_id = f"posthog-doctor:{self.tag or 'query'}:{name}:{self._count}:{uuid.uuid4().hex[:8]}"
        backend = self._connect(limit)
        started = time.monotonic()
        try:
            columns, rows, rows_read, bytes_read = backend.execute(
                sql, params, settings if self.settings_allowed else {}, query_id, limit
            )
        except _SettingsLocked:
            # A readonly=1 profile forbids any setting: run without limits rather than not at all,
            # and let the report say so. The client-side deadline still applies.
            self.settings_allowed = False
            columns, rows, rows_read, bytes_read = backend.execute(sql, params, {}, query_id, limit)
        elapsed = (time.monotonic() - started) * 1000
        result = QueryResult(
            columns,
            [tuple(to_text(v) for v in row) for row in rows],
            rows_read=rows_read,
            bytes_read=bytes_read,
            elapsed_ms=elapsed,
            query_id=query_id,
            name=query.name,
        )
        reasons = []
        if max_rows_to_read and rows_read >= max_rows_to_read:
            reasons.append(f"stopped after reading {rows_read:,} rows (budget {int(max_rows_to_read):,})")
        if max_bytes_to_read and bytes_read >= max_bytes_to_read:
            reasons.append(f"stopped after reading {bytes_read:,} bytes (budget {int(max_bytes_to_read):,})")
        if len(rows) >= self.max_result_rows:
            reasons.append(f"result cut at {self.max_result_rows:,} rows")
        if partial_on_timeout and elapsed >= 1000 * max(1, math.ceil(limit)) * 0.98:
            reasons.append(f"stopped at its time limit ({math.ceil(limit)} s) after reading {rows_read:,} rows")
        if reasons:
            result.partial, result.partial_reason = True, "; ".join(reasons)
        self.tally.record(result)
        return result

    def version(self) -> tuple[int, ...]:
        """The server's version as numbers, e.g. (23, 9, 2, 56)."""
        if self._version is None:
            text = str(self.query(VERSION_QUERY).scalar(""))
            self._version = tuple(int(p) for p in re.findall(r"\d+", text)[:4])
        return self._version

    def tables(self, database: str | None = None) -> dict[str, str]:
        """Name -> engine of every table and view in `database` (default: the connection's database)."""
        result = self.query(TABLES_QUERY, {"database": database or self.database})
        return {str(row[0]): str(row[1]) for row in result.rows}

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def _connect(self, limit: float) -> _Backend:
        if self._backend is None:
            if self.endpoint.scheme == "chdb":
                self._backend = _ChdbBackend(self.endpoint)
            else:
                self._backend = _NativeBackend(self.endpoint, self.where, limit)
        return self._backend


class _SettingsLocked(Exception):
    """The server refused our per-query settings (a readonly=1 profile)."""


class _Backend:
    def execute(self, sql: str, params: dict | None, settings: dict, query_id: str, limit: float):
        raise NotImplementedError

    def close(self) -> None:
        pass


class _NativeBackend(_Backend):
    def __init__(self, endpoint: Endpoint, where: str, limit: float):
        from clickhouse_driver import Client  # imported lazily: keeps start-up fast

        verify = endpoint.param("verify", "true").lower() not in ("0", "false", "no", "off")
        self.where = where
        self.database = endpoint.database or "default"
        self.client = Client(
            endpoint.host,
            endpoint.port,
            database=endpoint.database or "default",
            user=endpoint.user or "default",
            password=endpoint.password,
            client_name="posthog-doctor",
            connect_timeout=min(limit, 10.0),
            send_receive_timeout=limit + 1,
            sync_request_timeout=min(limit, 5.0),
            secure=endpoint.secure,
            verify=verify,
            ca_certs=endpoint.param("ca") or None,
        )

    def execute(self, sql, params, settings, query_id, limit):
        from clickhouse_driver import errors

        self.client.connection.send_receive_timeout = limit + 1
        try:
            rows, types = self.client.execute(sql, params, with_column_types=True, settings=settings, query_id=query_id)
        except errors.ServerException as exc:
            raise server_error(exc.code, exc.message, self.where, settings) from None
        except errors.SocketTimeoutError:
            self.close()
            raise ConnectorError(f"no answer from {self.where} within {limit:.1f} s", ErrorKind.TIMEOUT) from None
        except EOFError:
            handshake_done = self.client.connection.server_info is not None
            self.close()
            if not handshake_done:  # older servers hang up on a refused handshake instead of saying why
                raise ConnectorError(
                    f"{self.where} closed the connection during the handshake: the user may not use database "
                    f"{self.database!r} (allow_databases), or the port does not speak ClickHouse's native protocol",
                    ErrorKind.PROTOCOL,
                ) from None
            raise ConnectorError(f"{self.where} closed the connection unexpectedly", ErrorKind.PROTOCOL) from None
        except (errors.NetworkError, OSError) as exc:
            self.close()
            raise network_error(exc, self.where, limit) from None
        except errors.Error as exc:
            self.close()
            raise protocol_error(exc, self.where) from None
        progress = self.client.last_query.progress if self.client.last_query else None
        return [name for name, _ in types], rows, getattr(progress, "rows", 0), getattr(progress, "bytes", 0)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken socket must not mask the real error
            self.client.disconnect()


_chdb_sessions: dict[str, Any] = {}
_chdb_lock = threading.Lock()  # the embedded engine is one per process: serialise its use


def chdb_session(path: str):
    """The process-wide chdb session for a data directory (":memory:" for a throwaway one)."""
    try:
        from chdb import session as chdb_api
    except ImportError:
        raise ConnectorError("chdb:// needs the chdb package (pip install chdb-core)", ErrorKind.ERROR) from None
    with _chdb_lock:
        if path not in _chdb_sessions:
            _chdb_sessions[path] = chdb_api.Session(path if path != ":memory:" else "")
        return _chdb_sessions[path]


class _ChdbBackend(_Backend):
    """The current ClickHouse engine in-process, through the same settings and checks as a server."""

    def __init__(self, endpoint: Endpoint):
        self.session = chdb_session(endpoint.param("path", ":memory:"))
        self.database = endpoint.database

    def execute(self, sql, params, settings, query_id, limit):
        if params:  # the driver's own client-side substitution, so both backends quote alike
            from clickhouse_driver.context import Context
            from clickhouse_driver.util.escape import escape_params

            sql = sql % escape_params(params, Context())
        clauses = dict(settings, output_format_json_quote_64bit_integers=0, output_format_json_validate_utf8=1)
        text = f"{sql}\nSETTINGS " + ", ".join(f"{k} = {_literal(v)}" for k, v in clauses.items())
        with _chdb_lock:
            try:
                self.session.query(f"USE `{self.database}`")
                result = self.session.query(text, "JSONCompact")
            except Exception as exc:  # noqa: BLE001 - chdb raises plain exceptions carrying the server's text
                message = str(exc)
                code = _CODE.search(message)
                raise server_error(int(code.group(1)) if code else 0, message, "chdb", settings) from None
        if result is None or not result.bytes():
            return [], [], 0, 0
        data = json.loads(result.bytes())
        columns = [m["name"] for m in data.get("meta", [])]
        stats = data.get("statistics", {})
        return (
            columns,
            [tuple(row) for row in data.get("data", [])],
            int(stats.get("rows_read", 0)),
            int(stats.get("bytes_read", 0)),
        )


def _literal(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else str(int(value))


def server_error(code: int, message: str, where: str, settings: dict) -> Exception:
    """Turn a ClickHouse server exception into a plain-words ConnectorError."""
    found = _EXCEPTION_TEXT.search(message or "")
    text = first_line(found.group(1) if found else message)
    lowered = text.lower()
    if code == 164 and settings and "setting" in lowered and ("modify" in lowered or "override" in lowered):
        return _SettingsLocked()
    if code in _AUTH_CODES:
        return ConnectorError(f"{where} rejected the user or password: {text}", ErrorKind.AUTH)
    if code == 81:
        return ConnectorError(f"{where}: {text}", ErrorKind.MISSING_DATABASE)
    if code in _MISSING_CODES:
        return MissingObject(f"{where}: {text}")
    if code in _PERMISSION_CODES:
        return ConnectorError(f"{where} denied the query: {text}", ErrorKind.PERMISSION)
    if code in _TIMEOUT_CODES:
        return ConnectorError(
            f"{where} stopped the query at its time limit ({settings.get('max_execution_time', '?')} s)",
            ErrorKind.TIMEOUT,
        )
    if code in _BUDGET_CODES:
        return ConnectorError(f"{where}: the query hit its read budget: {text}", ErrorKind.BUDGET)
    if code == 241:
        return ConnectorError(f"{where}: the query hit its memory limit: {text}", ErrorKind.MEMORY)
    if code in (46, 62, 43, 44, 115):  # unknown function, syntax, type or setting: an older server
        return ConnectorError(f"{where} does not support this query (older version?): {text}", ErrorKind.UNSUPPORTED)
    return ConnectorError(f"{where} returned an error: {text or 'code ' + str(code)}", ErrorKind.ERROR)


def protocol_error(exc: Exception, where: str) -> ConnectorError:
    text = first_line(str(exc))
    if "unexpected packet" in text.lower() or "unknown packet" in text.lower():
        return ConnectorError(
            f"{where} answered something that is not the ClickHouse native protocol "
            "(wrong port, or TLS on one side only? try ?secure=true or the plain port)",
            ErrorKind.PROTOCOL,
        )
    return ConnectorError(f"cannot talk to {where}: {text or type(exc).__name__}", ErrorKind.PROTOCOL)
