"""kafka-python behind a wall: a read-only admin client, bounded by the check's deadline.

`Session` owns one admin client. Every call runs on a worker thread and is abandoned (its client closed)
when it has not answered by the deadline: kafka-python's own timeouts are sized from the deadline too,
but a watchdog is the only bound that always holds. Library failures come back as `ConnectorError`s in
plain words. `_ReadOnlyAdmin` is the only surface the connector can reach: the admin client's write
requests (create, delete, alter, commit) do not exist there.

kafka-python asks the broker to create every topic it looks up unless told otherwise (and a broker with
`auto.create.topics.enable=true`, Apache Kafka's default, does): `client_factory` switches that off
inside the client, where the admin and consumer settings do not reach.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from ..base import ConnectorError, Deadline, ErrorKind, MissingObject, first_line
from .preflight import CLIENT_ID, closes_on_metadata, preflight
from .target import KafkaTarget, hostport
from .tls import ssl_context

CALL_CAP_SECONDS = 10.0
CONNECT_CAP_SECONDS = 5.0
SASL_HANDSHAKE = 17


class Session:
    """One admin client for one check, bound to its deadline. Not thread-safe: each check has its own."""

    def __init__(self, target: KafkaTarget, deadline: Deadline):
        self.target = target
        self.deadline = deadline
        self.where = target.where
        self.api_versions: dict[int, tuple[int, int]] = {}  # from the preflight's ApiVersions answer
        self.token = uuid.uuid4().hex[:8]  # names this session's threads, so a leak is findable
        self._admin: _ReadOnlyAdmin | None = None

    def admin(self) -> _ReadOnlyAdmin:
        """The admin client, connected on first use (preflight first, to name a failure precisely)."""
        if self._admin is not None:
            return self._admin
        if self.deadline.expired():
            raise ConnectorError(f"no time left to connect to {self.where}", ErrorKind.TIMEOUT)
        limit = self.deadline.limit(CONNECT_CAP_SECONDS)
        self.api_versions = preflight(self.target, self.where, limit)
        left = self.deadline.limit(CONNECT_CAP_SECONDS)
        made: list[Any] = []
        config = self.client_config(left)
        config["kafka_client"] = client_factory(config.pop("setup_ms"), made)
        try:
            self._admin = self.bounded(
                "connect", lambda: _ReadOnlyAdmin(config), left + 1.0, cleanup=lambda: stop_clients(made)
            )
        except ConnectorError:
            stop_clients(made)
            raise
        except Exception as exc:  # noqa: BLE001 - every client failure becomes a plain-words ConnectorError
            auth = _auth_failure(made)
            stop_clients(made)
            raise self._bootstrap_error(exc, auth, left) from None
        return self._admin

    def call(self, what: str, fn: Callable[..., Any], *args: Any, cleanup: Callable[[], Any] | None = None) -> Any:
        """`fn(*args)` within the deadline; a ConnectorError saying `what` failed, and why, otherwise."""
        limit = self.deadline.limit(CALL_CAP_SECONDS)
        if self.deadline.expired():
            raise ConnectorError(f"no time left to {what} at {self.where}", ErrorKind.TIMEOUT)
        try:
            return self.bounded(what, lambda: fn(*args), limit + 0.5, cleanup=cleanup)
        except ConnectorError:
            raise
        except Exception as exc:  # noqa: BLE001 - translated below
            raise self._translate(exc, what, limit) from None

    def bounded(
        self, what: str, fn: Callable[[], Any], seconds: float, *, cleanup: Callable[[], Any] | None = None
    ) -> Any:
        """Run `fn` on a worker thread and wait at most `seconds`: the hard bound behind every call.
        A call still running then is abandoned and its client closed (by default the admin client),
        which ends it."""
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                box["error"] = exc

        worker = threading.Thread(target=work, daemon=True, name=f"{CLIENT_ID}-call-{self.token}")
        worker.start()
        worker.join(max(0.05, seconds))
        if worker.is_alive():
            if cleanup is None:
                victim, self._admin = self._admin, None
                cleanup = victim.close if victim is not None else (lambda: None)
            threading.Thread(target=cleanup, daemon=True, name=f"{CLIENT_ID}-close-{self.token}").start()
            raise ConnectorError(f"no answer from {self.where} within {seconds:.1f} s ({what})", ErrorKind.TIMEOUT)
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def client_config(self, limit: float) -> dict[str, Any]:
        """kafka-python settings for this target, with every timeout sized from `limit` seconds."""
        t = self.target
        config: dict[str, Any] = {
            "bootstrap_servers": [hostport(h, p) for h, p in t.hosts],
            "client_id": f"{CLIENT_ID}-{self.token}",  # names the client's IO thread, so leaks are findable
            "request_timeout_ms": int(min(limit, CALL_CAP_SECONDS) * 1000),
            "bootstrap_timeout_ms": int(max(limit, 0.2) * 1000),
            "reconnect_backoff_ms": 50,
            "reconnect_backoff_max_ms": 1000,
            "retry_backoff_ms": 50,
            "metadata_max_age_ms": 300_000,
            "security_protocol": t.security_protocol,
            "setup_ms": int(min(limit, CONNECT_CAP_SECONDS) * 1000),  # turned into kafka_client by the caller
        }
        if t.uses_tls:
            config["ssl_context"] = ssl_context(t)
            config["ssl_check_hostname"] = t.ssl_verify and t.ssl_check_hostname
        if t.uses_sasl:
            config.update(sasl_mechanism=t.sasl_mechanism, sasl_plain_username=t.user, sasl_plain_password=t.password)
        return config

    def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            admin.close()

    # -- errors in plain words --

    def _translate(self, exc: BaseException, what: str, limit: float) -> ConnectorError:
        from kafka import errors

        text = first_line(str(exc)) or type(exc).__name__
        if isinstance(exc, (errors.KafkaTimeoutError, errors.RequestTimedOutError)):
            self.close()
            return ConnectorError(f"no answer from {self.where} within {limit:.1f} s ({what})", ErrorKind.TIMEOUT)
        if isinstance(exc, (errors.IncompatibleBrokerVersion, errors.UnsupportedVersionError)):
            return ConnectorError(f"{self.where} does not support the request to {what}", ErrorKind.UNSUPPORTED)
        if isinstance(exc, errors.UnknownTopicOrPartitionError):
            return MissingObject(f"{self.where}: {what}: unknown topic or partition ({text})")
        denied = (
            errors.TopicAuthorizationFailedError,
            errors.GroupAuthorizationFailedError,
            errors.ClusterAuthorizationFailedError,
        )
        if isinstance(exc, denied) or "Authorization" in type(exc).__name__:
            return ConnectorError(
                f"{self.where} denied the request to {what}: the user lacks the ACL ({type(exc).__name__})",
                ErrorKind.PERMISSION,
            )
        if isinstance(exc, _sasl_errors()):
            return ConnectorError(f"{self.where} rejected the login ({_sasl_hint(self.target)})", ErrorKind.AUTH)
        if isinstance(exc, (errors.KafkaConnectionError, errors.NodeNotReadyError, ConnectionError, OSError)):
            self.close()
            return ConnectorError(
                f"lost the connection to {self.where} while trying to {what}: {text}", ErrorKind.ERROR
            )
        if isinstance(exc, errors.KafkaError):
            return ConnectorError(f"{self.where} could not {what}: {text}", ErrorKind.ERROR)
        return ConnectorError(
            f"{self.where}: unexpected failure while trying to {what}: {type(exc).__name__}: {text}", ErrorKind.ERROR
        )

    def _bootstrap_error(self, exc: BaseException, auth: BaseException | None, limit: float) -> ConnectorError:
        """The preflight proved the broker answers Kafka requests; say why the client still failed."""
        from kafka import errors

        t = self.target
        if auth is not None or isinstance(exc, _sasl_errors()):
            return ConnectorError(f"{self.where} rejected the login ({_sasl_hint(t)})", ErrorKind.AUTH)
        if t.uses_sasl:
            if self.api_versions and SASL_HANDSHAKE not in self.api_versions:
                return ConnectorError(
                    f"{self.where} offers no SASL login, but security_protocol is {t.security_protocol}",
                    ErrorKind.AUTH,
                )
            # A broker that turns the login down may just close the connection: kafka-python then only
            # reports that it could not bootstrap. The broker did answer ApiVersions in the preflight.
            return ConnectorError(
                f"{self.where} answered, but the {t.sasl_mechanism} login as {t.user!r} did not "
                f"succeed within {limit:.1f} s ({_sasl_hint(t)})",
                ErrorKind.AUTH,
            )
        if closes_on_metadata(t, limit):
            return ConnectorError(
                f"{self.where} answered ApiVersions but closed the connection when asked for "
                "metadata: it probably requires a login (set security_protocol=SASL_PLAINTEXT "
                "or SASL_SSL with a user, or PostHog's KAFKA_SASL_* variables)",
                ErrorKind.AUTH,
            )
        if isinstance(exc, errors.KafkaTimeoutError):
            return ConnectorError(
                f"no answer from {self.where} within {limit:.1f} s: it accepted the connection but "
                "the client could not read the cluster's metadata",
                ErrorKind.TIMEOUT,
            )
        return ConnectorError(
            f"cannot talk to {self.where}: {first_line(str(exc)) or type(exc).__name__}", ErrorKind.ERROR
        )


def _sasl_errors() -> tuple[type[BaseException], ...]:
    from kafka import errors

    return (errors.SaslAuthenticationFailedError, errors.UnsupportedSaslMechanismError, errors.IllegalSaslStateError)


def _sasl_hint(t: KafkaTarget) -> str:
    if not t.uses_sasl:
        return "it needs a SASL login: set the user, password and security_protocol"
    return (
        f"check the user name, the password and sasl_mechanism={t.sasl_mechanism} "
        "(PostHog: KAFKA_SASL_USER, KAFKA_SASL_PASSWORD, KAFKA_SASL_MECHANISM)"
    )


class _ReadOnlyAdmin:
    """kafka-python's admin client behind a wall: only the read requests below exist here."""

    def __init__(self, config: dict[str, Any]):
        self.__client = _admin_class()(**config)

    def describe_cluster(self) -> dict[str, Any]:
        return self.__client.describe_cluster()

    def broker_version(self, broker_id: int) -> tuple[int, ...] | None:
        data = self.__client.get_broker_version_data(broker_id)
        return tuple(getattr(data, "broker_version", None) or ()) or None

    def describe_topics(self, names: list[str] | None) -> list[dict[str, Any]]:
        return self.__client.describe_topics(names)

    def list_partition_offsets(self, specs: dict[Any, int]) -> dict[Any, Any]:
        return self.__client.list_partition_offsets(specs)

    def list_groups(self) -> list[dict[str, Any]]:
        return self.__client.list_groups()

    def describe_groups(self, ids: list[str]) -> dict[str, Any]:
        return self.__client.describe_groups(ids)

    def list_group_offsets(self, specs: dict[str, Any]) -> dict[str, Any]:
        return self.__client.list_group_offsets(specs)

    def describe_configs(self, resources: list[Any]) -> dict[str, Any]:
        return self.__client.describe_configs(resources, config_filter="all")

    def describe_log_dirs(self) -> list[dict[str, Any]]:
        return self.__client.describe_log_dirs()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing must not mask the real error
            self.__client.close()


_admin_cls: Any = None


def _admin_class() -> Any:
    """kafka-python's admin client, minus its ACL decoding: DescribeGroups always asks for the ACL
    operations, and an operation code the library does not know (tansu sends some) made the whole
    answer fail. The doctor never needs them."""
    global _admin_cls
    if _admin_cls is None:
        quiet_library()
        from kafka import KafkaAdminClient

        class _Admin(KafkaAdminClient):
            def _process_acl_operations(self, obj: dict[str, Any]) -> dict[str, Any]:
                obj.pop("authorized_operations", None)
                return obj

        _admin_cls = _Admin
    return _admin_cls


def quiet_library() -> None:
    """kafka-python logs every retry at WARNING and ERROR; the doctor reports errors itself, in plain words."""
    library = logging.getLogger("kafka")
    if not any(isinstance(h, logging.NullHandler) for h in library.handlers):
        library.addHandler(logging.NullHandler())
    library.propagate = False


def client_factory(setup_ms: int, made: list[Any] | None = None) -> Callable[..., Any]:
    """Build kafka-python's network client with our limits, and keep hold of it so a client whose
    bootstrap failed can still be stopped (its IO thread otherwise outlives the error)."""
    quiet_library()
    from kafka.net.compat import KafkaNetClient

    def make(**config: Any) -> Any:
        config.update(
            socket_connection_setup_timeout_ms=max(200, setup_ms),
            socket_connection_setup_timeout_max_ms=max(200, setup_ms),
            client_software_name=CLIENT_ID,
        )
        client = KafkaNetClient(**config)
        # kafka-python asks the broker to create every topic it looks up unless told otherwise, and the
        # consumer's own allow_auto_create_topics=False does not reach this setting: looking must not create.
        client._manager.cluster.config["allow_auto_create_topics"] = False
        if made is not None:
            made.append(client)
        return client

    return make


def stop_clients(made: list[Any]) -> None:
    """Stop network clients that may still run an IO thread (best effort: they already failed)."""
    for client in made:
        with contextlib.suppress(Exception):
            client._manager._net.stop(timeout_ms=1000)
        with contextlib.suppress(Exception):
            client.close()
    made.clear()


def _auth_failure(made: list[Any]) -> BaseException | None:
    for client in made:
        failures = getattr(client._manager, "_auth_failures", None) or {}
        for exc in failures.values():
            return exc
    return None
