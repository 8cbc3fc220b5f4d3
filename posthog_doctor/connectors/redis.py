"""Redis, read-only: the connector exposes only commands that cannot change anything."""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from ..endpoints import Endpoint
from .base import ConnectorError, Deadline, ErrorKind, network_error, to_text

CALL_CAP_SECONDS = 5.0
MAX_VALUE_BYTES = 64_000  # a key the doctor reads is a heartbeat or a version, never a blob


@functools.lru_cache(maxsize=1)
def _no_client_info() -> dict[str, Any]:
    """Keyword arguments that stop redis-py sending CLIENT SETINFO on connect (the name varies by version)."""
    import inspect

    import redis

    params = inspect.signature(redis.Redis.__init__).parameters
    if "driver_info" in params:
        return {"driver_info": None}
    if "lib_name" in params:
        return {"lib_name": None, "lib_version": None}
    return {}


class Redis:
    """Read-only Redis access for one check: GET, TTL, TYPE, EXISTS, LLEN, INFO, PING."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline):
        self.endpoint = endpoint
        self.deadline = deadline
        self.where = f"Redis at {endpoint.host}:{endpoint.port}"
        self._client: Any = None  # a redis.Redis, made on first use (redis is imported lazily)
        self._answered = False  # whether this Redis has answered once (a TLS mismatch hangs before that)

    def get(self, key: str) -> str | None:
        if self._call("STRLEN", key) > MAX_VALUE_BYTES:
            raise ConnectorError(
                f"{self.where}: key {key!r} holds more than {MAX_VALUE_BYTES:,} bytes; not read", ErrorKind.TOO_LARGE
            )
        value = self._call("GET", key)
        return None if value is None else to_text(value)

    def ttl(self, key: str) -> int:
        """Seconds to live; -1 no expiry, -2 no such key."""
        return int(self._call("TTL", key))

    def type(self, key: str) -> str:
        return to_text(self._call("TYPE", key))

    def exists(self, key: str) -> bool:
        return bool(self._call("EXISTS", key))

    def llen(self, key: str) -> int:
        return int(self._call("LLEN", key))

    def info(self, section: str = "default") -> dict[str, Any]:
        return to_text(self._call("INFO", section))

    def ping(self) -> bool:
        return bool(self._call("PING"))

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # closing must not mask the real error
                client.close()

    def _call(self, *command: Any) -> Any:
        import redis

        limit = self.deadline.limit(CALL_CAP_SECONDS)
        client = self._connect(limit)
        try:
            answer = client.execute_command(*command)
            self._answered = True
            return answer
        except redis.exceptions.ResponseError as exc:
            text = str(exc)
            if text.startswith("WRONGTYPE"):
                raise ConnectorError(
                    f"{self.where}: key {command[1]!r} holds a different type than expected", ErrorKind.WRONG_TYPE
                ) from None
            if "NOAUTH" in text or "WRONGPASS" in text or "invalid password" in text.lower():
                raise ConnectorError(f"{self.where} rejected the password (or needs one)", ErrorKind.AUTH) from None
            if "NOPERM" in text:
                raise ConnectorError(f"{self.where} denied {command[0]}: {text}", ErrorKind.PERMISSION) from None
            raise ConnectorError(f"{self.where} returned an error: {text}", ErrorKind.ERROR) from None
        except redis.exceptions.AuthenticationError:
            self.close()
            raise ConnectorError(f"{self.where} rejected the password (or needs one)", ErrorKind.AUTH) from None
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            self.close()
            cause = exc.__cause__ or exc.__context__ or exc
            error = network_error(cause if isinstance(cause, OSError) else exc, self.where, limit)
            if error.kind == ErrorKind.TIMEOUT and self.endpoint.secure and not self._answered:
                # A plain Redis reads a TLS hello as a half-typed command and waits for the rest.
                raise ConnectorError(
                    f"no TLS handshake from {self.where} within {limit:.1f} s: if this Redis does not "
                    "use TLS, use redis:// instead of rediss://",
                    ErrorKind.TIMEOUT,
                ) from None
            raise error from None
        except redis.exceptions.RedisError as exc:
            self.close()
            raise ConnectorError(f"cannot talk to {self.where}: {exc}", ErrorKind.PROTOCOL) from None

    def _connect(self, limit: float):
        import redis

        if self._client is None:
            ep = self.endpoint
            self._client = redis.Redis(
                host=ep.host,
                port=ep.port,
                db=int(ep.database or 0),
                username=ep.user or None,
                password=ep.password or None,
                ssl=ep.secure,
                socket_connect_timeout=min(limit, 5.0),
                socket_timeout=limit,
                retry=None,  # type: ignore[arg-type]  # None: no retries (stubs want a Retry)
                protocol=2,
                **_no_client_info(),
            )
        else:
            self._client.connection_pool.connection_kwargs["socket_timeout"] = limit
        return self._client
