"""Kafka, read-only by construction: metadata, offsets, consumer groups, configs, log dirs, and the newest
messages of a topic read by assigned partitions (no group, no commit).

Built on kafka-python. The admin client is wrapped so only read requests exist (`_ReadOnlyAdmin`); no
producer is ever imported; the tail consumer has no group id, so it cannot join a group or commit, and
auto-commit is off anyway. Topic auto-creation is switched off in the client's metadata requests: by
default kafka-python asks the broker to create any topic it looks up, which a broker with
`auto.create.topics.enable=true` (Apache Kafka's default) does.

Every call ends by the check's deadline: kafka-python's own timeouts are sized from it, and a watchdog
abandons the client if it still has not answered. Before the client connects, a short preflight
(DNS, TCP, TLS, one ApiVersions request) tells a refused port, a silent one, a TLS mismatch and a port that
does not speak Kafka apart, because kafka-python reports all of them as "Unable to bootstrap".

Where Kafka is: `parse_bootstrap("kafka://[user:password@]host1:9092,host2:9092?prefix=...&...")`, or
PostHog's own environment through `kafka_env_url(env)`. `KafkaTarget.to_endpoint()` packs a target into
the engine's `Endpoint` (first host in `host`/`port`, every host in the `hosts` parameter) and
`Kafka(endpoint, deadline)` unpacks it.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import logging
import os
import socket
import ssl
import struct
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from ..endpoints import Endpoint, EndpointError
from .base import ConnectorError, Deadline, MissingObject, first_line, resolves

CALL_CAP_SECONDS = 10.0
CONNECT_CAP_SECONDS = 5.0
DEFAULT_PORT = 9092
MAX_TAIL_MESSAGES = 1_000
MAX_TAIL_BYTES = 8_000_000
VALUE_HEAD_BYTES = 256  # the caller masks what it shows; this only bounds what it could show
MAX_HEADER_VALUE_CHARS = 1_000
CLIENT_ID = "posthog-doctor"

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
# URL parameters a Kafka URL may carry; anything else is a typo worth naming.
_PARAMS = ("prefix", "security_protocol", "sasl_mechanism", "ssl_cafile", "ssl_certfile", "ssl_keyfile",
           "ssl_verify", "ssl_check_hostname", "ssl_cadata_b64", "ssl_cert_b64", "ssl_key_b64")
_API_NAMES = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
              10: "FindCoordinator", 11: "JoinGroup", 15: "DescribeGroups", 16: "ListGroups", 17: "SaslHandshake",
              18: "ApiVersions", 19: "CreateTopics", 32: "DescribeConfigs", 35: "DescribeLogDirs",
              36: "SaslAuthenticate", 60: "DescribeCluster"}
_DESCRIBE_LOG_DIRS = 35


class KafkaUrlError(EndpointError):
    """A Kafka URL or environment that cannot describe a cluster. Never contains the password."""


# --- where Kafka is ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KafkaTarget:
    """A Kafka cluster to talk to: bootstrap hosts, topic prefix, TLS and SASL settings."""

    hosts: tuple[tuple[str, int], ...]
    prefix: str = ""
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    ssl_cadata: str = field(default="", repr=False)  # PEM text (PostHog's KAFKA_TRUSTED_CERT_B64, decoded)
    ssl_cert_pem: str = field(default="", repr=False)
    ssl_key_pem: str = field(default="", repr=False)
    ssl_verify: bool = True
    ssl_check_hostname: bool = True

    @property
    def bootstrap(self) -> str:
        return ",".join(_hostport(h, p) for h, p in self.hosts)

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    @property
    def where(self) -> str:
        host, port = self.hosts[0]
        more = f" (+{len(self.hosts) - 1} more)" if len(self.hosts) > 1 else ""
        return f"Kafka at {_hostport(host, port)}{more}"

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.password, self.ssl_key_pem) if s]

    def prefixed(self, topic: str) -> str:
        """A PostHog topic name with this deployment's KAFKA_PREFIX in front."""
        return f"{self.prefix}{topic}"

    def params(self) -> list[tuple[str, str]]:
        """The non-default settings as URL parameters (secrets included: redact before showing)."""
        out: list[tuple[str, str]] = []
        if self.prefix:
            out.append(("prefix", self.prefix))
        if self.security_protocol != "PLAINTEXT":
            out.append(("security_protocol", self.security_protocol))
        if self.sasl_mechanism:
            out.append(("sasl_mechanism", self.sasl_mechanism))
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            if getattr(self, name):
                out.append((name, getattr(self, name)))
        for name, pem in (("ssl_cadata_b64", self.ssl_cadata), ("ssl_cert_b64", self.ssl_cert_pem),
                          ("ssl_key_b64", self.ssl_key_pem)):
            if pem:
                out.append((name, base64.b64encode(pem.encode()).decode()))
        if not self.ssl_verify:
            out.append(("ssl_verify", "false"))
        if not self.ssl_check_hostname:
            out.append(("ssl_check_hostname", "false"))
        return out

    def url(self, *, redact: bool = True) -> str:
        """The URL; with `redact` (the default) the password and the client key become `***`."""
        auth = ""
        if self.user or self.password:
            auth = quote(self.user, safe="")
            if self.password:
                auth += ":" + ("***" if redact else quote(self.password, safe=""))
            auth += "@"
        query = []
        for key, value in self.params():
            if redact and key == "ssl_key_b64":
                shown = "***"
            elif redact and key.endswith("_b64"):
                shown = f"({len(value)} chars)"  # a certificate is not secret, only long
            else:
                shown = quote(value, safe="/")
            query.append(f"{key}={shown}")
        return f"kafka://{auth}{self.bootstrap}" + ("?" + "&".join(query) if query else "")

    def __str__(self) -> str:  # never show a password by accident
        return self.url()

    def to_endpoint(self, component: str = "kafka", *, source: str = "flag",
                    fallback_hosts: tuple[str, ...] = ()) -> Endpoint:
        """The engine's Endpoint for this target: first host in host/port, all of them in `hosts`."""
        host, port = self.hosts[0]
        params = (("hosts", self.bootstrap),) + tuple(self.params())
        return Endpoint(component, "kafka", "kafka", host, port, user=self.user, password=self.password,
                        params=params, source=source, fallback_hosts=fallback_hosts)

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> KafkaTarget:
        """Unpack an Endpoint made by `to_endpoint` (or by the engine from a kafka:// URL)."""
        hosts = _split_hosts(endpoint.param("hosts")) if endpoint.param("hosts") else []
        first = (endpoint.host, endpoint.port or DEFAULT_PORT)
        if not hosts:
            hosts = [first]
        elif hosts[0] != first:  # the engine swapped the host for a fallback that resolves
            hosts[0] = first
        settings = dict(endpoint.params)
        settings.pop("hosts", None)
        return _target(tuple(hosts), settings, endpoint.user, endpoint.password)


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _split_hosts(text: str) -> list[tuple[str, int]]:
    """`host1:9092,kafka://host2,[::1]:9093` -> [(host, port), ...]; a `scheme://` per entry is dropped."""
    hosts = []
    for raw in str(text).split(","):
        entry = raw.strip()
        if "://" in entry:
            entry = entry.split("://", 1)[1]
        entry = entry.rstrip("/")
        if not entry:
            continue
        if entry.startswith("["):
            host, _, rest = entry[1:].partition("]")
            port_text = rest.removeprefix(":")
        elif entry.count(":") == 1:
            host, _, port_text = entry.partition(":")
        else:
            host, port_text = entry, ""
        if not host:
            raise KafkaUrlError(f"bad Kafka host {raw.strip()!r}: no host name")
        try:
            port = int(port_text) if port_text else DEFAULT_PORT
        except ValueError:
            raise KafkaUrlError(f"bad Kafka host {raw.strip()!r}: the port is not a number") from None
        if not 0 < port < 65536:
            raise KafkaUrlError(f"bad Kafka host {raw.strip()!r}: port out of range")
        hosts.append((host, port))
    return hosts


def _b64_text(name: str, value: str) -> str:
    try:
        return base64.b64decode(value.strip(), validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise KafkaUrlError(f"{name} is not base64-encoded PEM text") from None


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise KafkaUrlError(f"{name} must be true or false, not {value!r}")


def _target(hosts: tuple[tuple[str, int], ...], settings: dict[str, str], user: str, password: str) -> KafkaTarget:
    unknown = sorted(set(settings) - set(_PARAMS))
    if unknown:
        raise KafkaUrlError(f"unknown Kafka URL parameter {unknown[0]!r} (known: {', '.join(_PARAMS)})")
    protocol = settings.get("security_protocol", "").strip().upper().replace("-", "_")
    if not protocol:
        # Credentials without a protocol can only mean SASL; PostHog itself needs the protocol spelt out.
        protocol = "SASL_PLAINTEXT" if user else "PLAINTEXT"
    if protocol not in SECURITY_PROTOCOLS:
        raise KafkaUrlError(f"security_protocol must be one of {', '.join(SECURITY_PROTOCOLS)}, not {protocol!r}")
    mechanism = settings.get("sasl_mechanism", "").strip().upper().replace("_", "-")  # PostHog's node side writes scram-sha-512
    if protocol.startswith("SASL"):
        mechanism = mechanism or "PLAIN"  # Kafka's own default
        if mechanism not in SASL_MECHANISMS:
            raise KafkaUrlError(f"sasl_mechanism must be one of {', '.join(SASL_MECHANISMS)}, not {mechanism!r}")
        if not user:
            raise KafkaUrlError(f"{protocol} needs a user name (kafka://user:password@host:9092 or KAFKA_SASL_USER)")
    else:
        mechanism = ""
    pems = {name: _b64_text(name, settings[name]) for name in ("ssl_cadata_b64", "ssl_cert_b64", "ssl_key_b64")
            if settings.get(name)}
    cert, key = pems.get("ssl_cert_b64", ""), pems.get("ssl_key_b64", "")
    if "PRIVATE KEY" in cert and "PRIVATE KEY" not in key:
        cert, key = key, cert  # some PostHog versions hand the two variables over swapped
    return KafkaTarget(
        hosts=hosts, prefix=settings.get("prefix", ""), security_protocol=protocol, sasl_mechanism=mechanism,
        user=user, password=password, ssl_cafile=settings.get("ssl_cafile", ""),
        ssl_certfile=settings.get("ssl_certfile", ""), ssl_keyfile=settings.get("ssl_keyfile", ""),
        ssl_cadata=pems.get("ssl_cadata_b64", ""), ssl_cert_pem=cert, ssl_key_pem=key,
        ssl_verify=_flag("ssl_verify", settings["ssl_verify"]) if "ssl_verify" in settings else True,
        ssl_check_hostname=_flag("ssl_check_hostname", settings["ssl_check_hostname"])
        if "ssl_check_hostname" in settings else True,
    )


def parse_bootstrap(url: str) -> KafkaTarget:
    """Parse `kafka://[user:password@]host1:9092,host2:9092[?prefix=...&security_protocol=SASL_SSL&...]`.

    Parameters: prefix, security_protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), sasl_mechanism
    (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), ssl_cafile, ssl_certfile, ssl_keyfile, ssl_verify,
    ssl_check_hostname, and ssl_cadata_b64 / ssl_cert_b64 / ssl_key_b64 (base64 PEM, as PostHog's
    KAFKA_*_B64 variables hold them). A port defaults to 9092.
    """
    text = str(url or "").strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() != "kafka":
        raise KafkaUrlError(f"bad Kafka URL {_redact_raw(text)!r}: it should start with kafka:// "
                            "(e.g. kafka://kafka:9092 or kafka://user:password@host1:9092,host2:9092)")
    rest, _, query = rest.partition("?")
    rest = rest.split("#", 1)[0]
    auth, at, netloc = rest.rpartition("@")
    if not at:
        auth, netloc = "", rest
    user, _, password = auth.partition(":")
    netloc = netloc.split("/", 1)[0]
    hosts = _split_hosts(netloc)
    if not hosts:
        raise KafkaUrlError(f"bad Kafka URL {_redact_raw(text)!r}: no host (e.g. kafka://kafka:9092)")
    settings: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        settings[key.strip().lower()] = value
    return _target(tuple(hosts), settings, unquote(user), unquote(password))


def _redact_raw(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    auth, at, host = rest.rpartition("@")
    if not sep or not at:
        return url
    user = auth.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in auth else ''}@{host}"


def kafka_env_url(env: Any) -> tuple[str, str] | None:
    """A kafka:// URL from PostHog's own environment, with the variables it came from; None when unset.

    Hosts: KAFKA_DEFAULT_HOSTS (newest Django), else KAFKA_HOSTS (comma-separated host:port, a `kafka://`
    per entry stripped), else KAFKA_URL (`kafka://kafka:9092`, may be a list). Topic prefix: KAFKA_PREFIX.
    Security, as both Django and the plugin server read it: KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM,
    KAFKA_SASL_USER, KAFKA_SASL_PASSWORD (each also as KAFKA_DEFAULT_*, which newer Django prefers), and
    the plugin server's base64 PEM KAFKA_TRUSTED_CERT_B64, KAFKA_CLIENT_CERT_B64 and
    KAFKA_CLIENT_CERT_KEY_B64 (PostHog connects with those without checking the host name; so does this).
    """
    def get(*names: str) -> tuple[str, str]:
        for name in names:
            value = (env.get(name) or "").strip()
            if value:
                return value, name
        return "", ""

    used: list[str] = []

    def take(*names: str) -> str:
        value, name = get(*names)
        if name:
            used.append(name)
        return value

    hosts_text = take("KAFKA_DEFAULT_HOSTS", "KAFKA_HOSTS", "KAFKA_URL")
    prefix = take("KAFKA_PREFIX")
    protocol = take("KAFKA_DEFAULT_SECURITY_PROTOCOL", "KAFKA_SECURITY_PROTOCOL")
    mechanism = take("KAFKA_DEFAULT_SASL_MECHANISM", "KAFKA_SASL_MECHANISM")
    user = take("KAFKA_DEFAULT_SASL_USER", "KAFKA_SASL_USER")
    password = take("KAFKA_DEFAULT_SASL_PASSWORD", "KAFKA_SASL_PASSWORD")
    pems = {"ssl_cadata_b64": take("KAFKA_TRUSTED_CERT_B64"), "ssl_cert_b64": take("KAFKA_CLIENT_CERT_B64"),
            "ssl_key_b64": take("KAFKA_CLIENT_CERT_KEY_B64")}
    if not used:
        return None
    hosts = _split_hosts(hosts_text or "kafka:9092")
    if not hosts:
        raise KafkaUrlError("KAFKA_HOSTS names no host")
    settings = {k: v for k, v in pems.items() if v}
    if prefix:
        settings["prefix"] = prefix
    if protocol:
        settings["security_protocol"] = protocol
    if mechanism and protocol.upper().startswith("SASL"):
        settings["sasl_mechanism"] = mechanism
    if settings.keys() & {"ssl_cadata_b64", "ssl_cert_b64", "ssl_key_b64"}:
        settings["ssl_check_hostname"] = "false"
    target = _target(tuple(hosts), settings, user if protocol.upper().startswith("SASL") else "", password
                     if protocol.upper().startswith("SASL") else "")
    return target.url(redact=False), "env:" + "/".join(used)


# --- results -------------------------------------------------------------------------------------


@dataclass
class KafkaBroker:
    id: int
    host: str
    port: int
    rack: str | None = None


@dataclass
class KafkaCluster:
    cluster_id: str | None
    controller_id: int | None
    brokers: list[KafkaBroker]
    version: str = ""  # the Apache Kafka release the broker's ApiVersions answer matches, e.g. "3.9"
    api_versions: dict[str, tuple[int, int]] = field(default_factory=dict)  # from the first broker asked


@dataclass
class KafkaPartition:
    id: int
    leader: int | None
    replicas: list[int]
    isr: list[int]
    offline: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


@dataclass
class KafkaTopic:
    name: str
    partitions: list[KafkaPartition]
    internal: bool = False
    error: str | None = None  # e.g. "unknown topic": the topic does not exist


@dataclass
class KafkaOffset:
    offset: int | None  # None: no message at or after the timestamp asked for
    timestamp: int | None = None


@dataclass
class KafkaGroup:
    id: str
    state: str
    protocol_type: str


@dataclass
class KafkaGroupDescription:
    id: str
    state: str
    protocol_type: str
    protocol: str
    members: int
    assigned: list[tuple[str, int]]  # (topic, partition) assigned to any member
    error: str | None = None


@dataclass
class KafkaMessage:
    partition: int
    offset: int
    timestamp: int | None  # milliseconds since the epoch
    key_size: int
    value_size: int
    headers: list[tuple[str, str]]
    value_head: bytes  # at most the first VALUE_HEAD_BYTES of the value: mask it before showing
    value_truncated: bool

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)


@dataclass
class KafkaTail:
    topic: str
    messages: list[KafkaMessage]  # newest first
    partitions_read: int
    partial: bool = False  # stopped by the count, the byte budget or the deadline before the end
    partial_reason: str = ""
    bytes_read: int = 0


# --- the connector -------------------------------------------------------------------------------


class Kafka:
    """Read-only Kafka access for one check. Not thread-safe; the engine gives each check its own."""

    def __init__(self, target: KafkaTarget | Endpoint | str, deadline: Deadline):
        if isinstance(target, str):
            target = parse_bootstrap(target)
        elif isinstance(target, Endpoint):
            target = KafkaTarget.from_endpoint(target)
        self.target = target
        self.deadline = deadline
        self.where = target.where
        self.api_versions: dict[int, tuple[int, int]] = {}  # from the preflight's ApiVersions answer
        self._admin: _ReadOnlyAdmin | None = None
        self._token = uuid.uuid4().hex[:8]

    def __repr__(self) -> str:
        return f"Kafka({self.target.url()})"

    @property
    def prefix(self) -> str:
        return self.target.prefix

    def prefixed(self, topic: str) -> str:
        return self.target.prefixed(topic)

    # -- metadata --

    def cluster(self) -> KafkaCluster:
        """Brokers (id, host, port, rack), the controller, the cluster id and the broker's version."""
        admin = self._connect()
        raw = self._call("describe the cluster", admin.describe_cluster)
        brokers = [KafkaBroker(int(b["broker_id"]), str(b["host"]), int(b["port"]), b.get("rack"))
                   for b in raw.get("brokers") or []]
        controller = raw.get("controller_id")
        version = ""
        if brokers:
            try:
                data = self._call("read the broker version", admin.broker_version, brokers[0].id)
                version = ".".join(str(p) for p in data) if data else ""
            except ConnectorError:
                version = ""  # the version is a nicety; the metadata above is what matters
        apis = {_api_name(k): v for k, v in sorted(self.api_versions.items())}
        return KafkaCluster(raw.get("cluster_id"), None if controller in (None, -1) else int(controller),
                            sorted(brokers, key=lambda b: b.id), version, apis)

    def topics(self, names: Iterable[str] | None = None, *, internal: bool = False) -> list[KafkaTopic]:
        """Topics with their partitions, leaders, replicas and in-sync replicas; all topics when `names` is
        None (internal ones such as __consumer_offsets only with `internal`). A name that does not exist
        comes back with error "unknown topic" (and is not created)."""
        admin = self._connect()
        wanted = None if names is None else list(dict.fromkeys(names))
        if wanted == []:
            return []
        raw = self._call("read topic metadata", admin.describe_topics, wanted)
        out = []
        for t in raw:
            if names is None and t.get("is_internal") and not internal:
                continue
            parts = [KafkaPartition(int(p["partition_index"]), None if p.get("leader_id", -1) < 0 else int(p["leader_id"]),
                                    list(p.get("replica_nodes") or []), list(p.get("isr_nodes") or []),
                                    list(p.get("offline_replicas") or []), _error_text(p.get("error_code", 0)))
                     for p in t.get("partitions") or []]
            out.append(KafkaTopic(str(t["name"]), sorted(parts, key=lambda p: p.id), bool(t.get("is_internal")),
                                  _error_text(t.get("error_code", 0))))
        return sorted(out, key=lambda t: t.name)

    def partitions(self, topic: str) -> list[int]:
        """The partition numbers of one topic; MissingObject when it does not exist."""
        found = self.topics([topic])
        if not found or found[0].error == "unknown topic":
            raise MissingObject(f"{self.where} has no topic {topic!r}")
        if found[0].error:
            raise ConnectorError(f"{self.where} could not describe topic {topic!r}: {found[0].error}", "error")
        return [p.id for p in found[0].partitions]

    # -- offsets --

    def offsets(self, topic_partitions: Iterable[tuple[str, int]], spec: str | int = "latest") -> dict[tuple[str, int], KafkaOffset]:
        """Offsets of many partitions at once: "earliest", "latest", or the first offset whose timestamp
        is at or after `spec` milliseconds. One ListOffsets request per partition leader."""
        from kafka.admin import OffsetSpec
        from kafka.structs import TopicPartition

        if spec == "earliest":
            wire: int = OffsetSpec.EARLIEST
        elif spec == "latest":
            wire = OffsetSpec.LATEST
        elif isinstance(spec, int) and not isinstance(spec, bool) and spec >= 0:
            wire = spec
        else:
            raise ValueError(f"offset spec must be 'earliest', 'latest' or a timestamp in ms, not {spec!r}")
        tps = list(dict.fromkeys((str(t), int(p)) for t, p in topic_partitions))
        if not tps:
            return {}
        admin = self._connect()
        request = {TopicPartition(t, p): wire for t, p in tps}
        raw = self._call("list offsets", admin.list_partition_offsets, request)
        out = {}
        for tp, found in raw.items():
            offset, stamp = found.offset, found.timestamp
            if isinstance(spec, int) and (offset is None or offset < 0 or stamp is None or stamp < 0):
                out[(tp.topic, tp.partition)] = KafkaOffset(None, None)  # everything is older than that
            else:
                out[(tp.topic, tp.partition)] = KafkaOffset(int(offset), None if stamp is None or stamp < 0 else int(stamp))
        return out

    def topic_offsets(self, topics: Iterable[str], spec: str | int = "latest") -> dict[tuple[str, int], KafkaOffset]:
        """`offsets` for every partition of the named topics (one metadata request, then batched)."""
        found = self.topics(list(topics))
        missing = [t.name for t in found if t.error == "unknown topic"]
        if missing:
            raise MissingObject(f"{self.where} has no topic {missing[0]!r}")
        return self.offsets([(t.name, p.id) for t in found for p in t.partitions], spec)

    # -- consumer groups --

    def groups(self) -> list[KafkaGroup]:
        """Every consumer group the brokers know, with its state and protocol type."""
        admin = self._connect()
        raw = self._call("list consumer groups", admin.list_groups)
        out = [KafkaGroup(str(g["group_id"]), str(g.get("group_state") or "Unknown"), str(g.get("protocol_type") or ""))
               for g in raw]
        return sorted(out, key=lambda g: g.id)

    def describe_groups(self, ids: Iterable[str]) -> dict[str, KafkaGroupDescription]:
        """State, member count and assigned partitions of each group."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        admin = self._connect()
        raw = self._call("describe consumer groups", admin.describe_groups, wanted)
        return {gid: _group_description(gid, raw.get(gid) or {}) for gid in wanted}

    def group_offsets(self, group_id: str, topics: Iterable[str] | None = None) -> dict[tuple[str, int], int]:
        """The committed offset of each partition the group has committed (optionally only `topics`)."""
        admin = self._connect()
        raw = self._call("read committed offsets", admin.list_group_offsets, {group_id: None})
        wanted = None if topics is None else set(topics)
        out = {}
        for tp, meta in (raw.get(group_id) or {}).items():
            if wanted is not None and tp.topic not in wanted:
                continue
            if meta is not None and meta.offset is not None and meta.offset >= 0:
                out[(tp.topic, tp.partition)] = int(meta.offset)
        return dict(sorted(out.items()))

    # -- configs and disks --

    def topic_configs(self, topics: Iterable[str]) -> dict[str, dict[str, str]]:
        """Every config the broker reports per topic (retention.ms, retention.bytes, cleanup.policy,
        max.message.bytes, ...). A broker that reports none gives empty dicts."""
        return self._configs("topic", list(dict.fromkeys(topics)))

    def broker_configs(self, broker_ids: Iterable[int] | None = None) -> dict[str, dict[str, str]]:
        """Every config each broker reports (log.retention.hours, num.partitions, ...), keyed by broker id."""
        ids = list(broker_ids) if broker_ids is not None else [b.id for b in self.cluster().brokers]
        return self._configs("broker", [str(i) for i in ids])

    def log_dir_sizes(self) -> dict[tuple[str, int], int] | None:
        """Bytes on disk per partition (the largest replica), or None when the broker has no DescribeLogDirs."""
        admin = self._connect()
        if self.api_versions and _DESCRIBE_LOG_DIRS not in self.api_versions:
            return None
        try:
            raw = self._call("describe log dirs", admin.describe_log_dirs)
        except ConnectorError as exc:
            if exc.kind == "unsupported":
                return None
            raise
        sizes: dict[tuple[str, int], int] = {}
        for broker in raw:
            for log_dir in broker.get("log_dirs") or []:
                if log_dir.get("error_code"):
                    continue
                for topic in log_dir.get("topics") or []:
                    for part in topic.get("partitions") or []:
                        if part.get("is_future_key"):
                            continue
                        key = (str(topic["name"]), int(part["partition_index"]))
                        sizes[key] = max(sizes.get(key, 0), int(part.get("partition_size") or 0))
        return dict(sorted(sizes.items()))

    # -- messages --

    def tail(self, topic: str, max_messages: int = 20, max_bytes: int = 1_000_000, *,
             per_partition: int | None = None, value_bytes: int = VALUE_HEAD_BYTES) -> KafkaTail:
        """The newest messages of `topic`, newest first, read by assigned partitions from end minus N.

        No group id (so nothing can be joined or committed), auto-commit off. At most `max_messages`
        messages overall (`per_partition` caps each partition, default the same N) and about
        `max_bytes` of keys, values and headers fetched; only the first `value_bytes` of each value is
        kept. Cut short by the count, the bytes or the deadline, the result is marked partial."""
        max_messages = max(0, min(int(max_messages), MAX_TAIL_MESSAGES))
        max_bytes = max(1, min(int(max_bytes), MAX_TAIL_BYTES))
        per_partition = max_messages if per_partition is None else max(0, min(int(per_partition), max_messages))
        value_bytes = max(0, min(int(value_bytes), 64_000))
        parts = self.partitions(topic)  # also proves the topic exists: the consumer must not create it
        ends = self.offsets([(topic, p) for p in parts], "latest")
        starts = self.offsets([(topic, p) for p in parts], "earliest")
        plan = {}
        for p in parts:
            end = ends[(topic, p)].offset or 0
            begin = max(starts[(topic, p)].offset or 0, end - per_partition)
            if end > begin:
                plan[p] = (begin, end)
        result = KafkaTail(topic, [], len(parts))
        if not plan or max_messages == 0:
            return result
        limit = self.deadline.limit(CALL_CAP_SECONDS)
        consumer = _ReadOnlyConsumer(self._client_config(limit), max_bytes)
        try:
            self._call("read the newest messages", consumer.read, topic, plan, max_bytes, value_bytes,
                       time.monotonic() + max(0.1, limit - 0.2), result, cleanup=consumer.close)
        finally:
            consumer.close()
        result.messages.sort(key=lambda m: (m.timestamp or 0, m.partition, m.offset), reverse=True)
        if len(result.messages) > max_messages:
            result.messages = result.messages[:max_messages]
            result.partial = True
            result.partial_reason = result.partial_reason or f"kept the newest {max_messages} messages"
        return result

    def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            admin.close()

    # -- plumbing --

    def _configs(self, kind: str, names: list[str]) -> dict[str, dict[str, str]]:
        from kafka.admin import ConfigResource, ConfigResourceType

        if not names:
            return {}
        admin = self._connect()
        rtype = ConfigResourceType.TOPIC if kind == "topic" else ConfigResourceType.BROKER
        raw = self._call(f"describe {kind} configs", admin.describe_configs,
                         [ConfigResource(rtype, name) for name in names])
        found = raw.get(kind) or {}
        out = {}
        for name in names:
            entries = found.get(name) or {}
            out[name] = {str(k): ("" if v.get("value") is None else str(v.get("value")))
                         for k, v in entries.items() if isinstance(v, dict) and not v.get("is_sensitive")}
        return out

    def _client_config(self, limit: float) -> dict[str, Any]:
        t = self.target
        config: dict[str, Any] = {
            "bootstrap_servers": [_hostport(h, p) for h, p in t.hosts],
            "client_id": f"{CLIENT_ID}-{self._token}",  # names the client's IO thread, so leaks are findable
            "request_timeout_ms": int(min(limit, CALL_CAP_SECONDS) * 1000),
            "bootstrap_timeout_ms": int(max(limit, 0.2) * 1000),
            "reconnect_backoff_ms": 50,
            "reconnect_backoff_max_ms": 1000,
            "retry_backoff_ms": 50,
            "metadata_max_age_ms": 300_000,
            "security_protocol": t.security_protocol,
            "setup_ms": int(min(limit, CONNECT_CAP_SECONDS) * 1000),  # turned into kafka_client below
        }
        if t.uses_tls:
            config["ssl_context"] = _ssl_context(t)
            config["ssl_check_hostname"] = t.ssl_verify and t.ssl_check_hostname
        if t.uses_sasl:
            config.update(sasl_mechanism=t.sasl_mechanism, sasl_plain_username=t.user, sasl_plain_password=t.password)
        return config

    def _connect(self) -> _ReadOnlyAdmin:
        if self._admin is not None:
            return self._admin
        if self.deadline.expired():
            raise ConnectorError(f"no time left to connect to {self.where}", "timeout")
        limit = self.deadline.limit(CONNECT_CAP_SECONDS)
        self.api_versions = _preflight(self.target, self.where, limit)
        left = self.deadline.limit(CONNECT_CAP_SECONDS)
        made: list[Any] = []
        config = self._client_config(left)
        config["kafka_client"] = _client_factory(config.pop("setup_ms"), made)
        try:
            self._admin = self._bounded("connect", lambda: _ReadOnlyAdmin(config), left + 1.0,
                                        cleanup=lambda: _stop_clients(made))
        except ConnectorError:
            _stop_clients(made)
            raise
        except Exception as exc:  # noqa: BLE001 - every client failure becomes a plain-words ConnectorError
            auth = _auth_failure(made)
            _stop_clients(made)
            raise self._bootstrap_error(exc, auth, left) from None
        return self._admin

    def _call(self, what: str, fn: Any, *args: Any, cleanup: Any = None) -> Any:
        limit = self.deadline.limit(CALL_CAP_SECONDS)
        if self.deadline.expired():
            raise ConnectorError(f"no time left to {what} at {self.where}", "timeout")
        try:
            return self._bounded(what, lambda: fn(*args), limit + 0.5, cleanup=cleanup)
        except ConnectorError:
            raise
        except Exception as exc:  # noqa: BLE001 - translated below
            raise self._translate(exc, what, limit) from None

    def _bounded(self, what: str, fn: Any, seconds: float, *, cleanup: Any = None) -> Any:
        """Run `fn` on a worker thread and wait at most `seconds`: the hard bound behind every call.
        A call still running then is abandoned and its client closed (by default the admin client),
        which ends it."""
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                box["error"] = exc

        worker = threading.Thread(target=work, daemon=True, name=f"{CLIENT_ID}-call-{self._token}")
        worker.start()
        worker.join(max(0.05, seconds))
        if worker.is_alive():
            if cleanup is None:
                victim, self._admin = self._admin, None
                cleanup = victim.close if victim is not None else (lambda: None)
            threading.Thread(target=cleanup, daemon=True, name=f"{CLIENT_ID}-close-{self._token}").start()
            raise ConnectorError(f"no answer from {self.where} within {seconds:.1f} s ({what})", "timeout")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def _abandon(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            admin.close()

    def _translate(self, exc: BaseException, what: str, limit: float) -> ConnectorError:
        from kafka import errors

        text = first_line(str(exc)) or type(exc).__name__
        if isinstance(exc, (errors.KafkaTimeoutError, errors.RequestTimedOutError)):
            self._abandon()
            return ConnectorError(f"no answer from {self.where} within {limit:.1f} s ({what})", "timeout")
        if isinstance(exc, (errors.IncompatibleBrokerVersion, errors.UnsupportedVersionError)):
            return ConnectorError(f"{self.where} does not support the request to {what}", "unsupported")
        if isinstance(exc, errors.UnknownTopicOrPartitionError):
            return MissingObject(f"{self.where}: {what}: unknown topic or partition ({text})")
        if isinstance(exc, (errors.TopicAuthorizationFailedError, errors.GroupAuthorizationFailedError,
                            errors.ClusterAuthorizationFailedError)) or "Authorization" in type(exc).__name__:
            return ConnectorError(f"{self.where} denied the request to {what}: the user lacks the ACL "
                                  f"({type(exc).__name__})", "permission")
        if isinstance(exc, (errors.SaslAuthenticationFailedError, errors.UnsupportedSaslMechanismError, errors.IllegalSaslStateError)):
            return ConnectorError(f"{self.where} rejected the login ({_sasl_hint(self.target)})", "auth")
        if isinstance(exc, (errors.KafkaConnectionError, errors.NodeNotReadyError, ConnectionError, OSError)):
            self._abandon()
            return ConnectorError(f"lost the connection to {self.where} while trying to {what}: {text}", "error")
        if isinstance(exc, errors.KafkaError):
            return ConnectorError(f"{self.where} could not {what}: {text}", "error")
        return ConnectorError(f"{self.where}: unexpected failure while trying to {what}: {type(exc).__name__}: {text}",
                              "error")

    def _bootstrap_error(self, exc: BaseException, auth: BaseException | None, limit: float) -> ConnectorError:
        """The preflight proved the broker answers Kafka requests; say why the client still failed."""
        from kafka import errors

        t = self.target
        if auth is not None or isinstance(exc, (errors.SaslAuthenticationFailedError, errors.UnsupportedSaslMechanismError, errors.IllegalSaslStateError)):
            return ConnectorError(f"{self.where} rejected the login ({_sasl_hint(t)})", "auth")
        if t.uses_sasl:
            if self.api_versions and 17 not in self.api_versions:
                return ConnectorError(f"{self.where} offers no SASL login, but security_protocol is "
                                      f"{t.security_protocol}", "auth")
            # A broker that turns the login down may just close the connection: kafka-python then only
            # reports that it could not bootstrap. The broker did answer ApiVersions in the preflight.
            return ConnectorError(f"{self.where} answered, but the {t.sasl_mechanism} login as {t.user!r} did not "
                                  f"succeed within {limit:.1f} s ({_sasl_hint(t)})", "auth")
        closed = _closes_on_metadata(t, limit)
        if closed:
            return ConnectorError(f"{self.where} answered ApiVersions but closed the connection when asked for "
                                  "metadata: it probably requires a login (set security_protocol=SASL_PLAINTEXT "
                                  "or SASL_SSL with a user, or PostHog's KAFKA_SASL_* variables)", "auth")
        if isinstance(exc, errors.KafkaTimeoutError):
            return ConnectorError(f"no answer from {self.where} within {limit:.1f} s: it accepted the connection but "
                                  "the client could not read the cluster's metadata", "timeout")
        return ConnectorError(f"cannot talk to {self.where}: {first_line(str(exc)) or type(exc).__name__}", "error")


def _api_name(key: int) -> str:
    from kafka.protocol.api_key import ApiKey

    try:
        return ApiKey(key).name
    except ValueError:
        return _API_NAMES.get(key, f"api{key}")


def _sasl_hint(t: KafkaTarget) -> str:
    if not t.uses_sasl:
        return "it needs a SASL login: set the user, password and security_protocol"
    return (f"check the user name, the password and sasl_mechanism={t.sasl_mechanism} "
            "(PostHog: KAFKA_SASL_USER, KAFKA_SASL_PASSWORD, KAFKA_SASL_MECHANISM)")


def _error_text(code: int | None) -> str | None:
    if not code:
        return None
    if code == 3:
        return "unknown topic"
    from kafka import errors

    return errors.for_code(code).__name__


def _group_description(group_id: str, raw: dict[str, Any]) -> KafkaGroupDescription:
    members = raw.get("members") or []
    assigned: set[tuple[str, int]] = set()
    for member in members:
        assigned.update(_assigned_partitions(member.get("member_assignment")))
    error = raw.get("error")
    return KafkaGroupDescription(group_id, str(raw.get("group_state") or "Unknown"), str(raw.get("protocol_type") or ""),
                                 str(raw.get("protocol_data") or ""), len(members), sorted(assigned),
                                 None if not error else str(error))


def _assigned_partitions(assignment: Any) -> list[tuple[str, int]]:
    """(topic, partition) pairs of a member's assignment, decoded or still raw bytes."""
    if not assignment:
        return []
    if isinstance(assignment, (bytes, bytearray)):
        try:
            from kafka.protocol.consumer.metadata import ConsumerProtocolAssignment

            assignment = ConsumerProtocolAssignment.decode(bytes(assignment))
        except Exception:  # noqa: BLE001 - a non-consumer protocol's blob: nothing we can read
            return []
    topics = getattr(assignment, "assigned_partitions", None)
    if topics is None and isinstance(assignment, dict):
        topics = assignment.get("assigned_partitions")
    out = []
    for entry in topics or []:
        topic = getattr(entry, "topic", None) if not isinstance(entry, dict) else entry.get("topic")
        parts = getattr(entry, "partitions", None) if not isinstance(entry, dict) else entry.get("partitions")
        out.extend((str(topic), int(p)) for p in parts or [])
    return out


# --- the only client surfaces the connector can reach ----------------------------------------------


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
        try:
            self.__client.close()
        except Exception:  # noqa: BLE001, S110 - closing must not mask the real error
            pass


class _ReadOnlyConsumer:
    """A consumer with no group id: it can be assigned partitions, seek and fetch, nothing else."""

    def __init__(self, config: dict[str, Any], max_bytes: int):
        self._config = dict(config)
        self._max_bytes = max(1024, max_bytes)
        self._made: list[Any] = []
        self.__client: Any = None
        self._closed = False

    def _open(self) -> Any:
        from kafka import KafkaConsumer

        config = dict(self._config)
        config["kafka_client"] = _client_factory(config.pop("setup_ms"), self._made)
        self.__client = KafkaConsumer(
            group_id=None, enable_auto_commit=False, auto_offset_reset="none", allow_auto_create_topics=False,
            fetch_max_bytes=self._max_bytes, max_partition_fetch_bytes=self._max_bytes, max_poll_records=500,
            fetch_max_wait_ms=100, isolation_level="read_uncommitted", **config,
        )
        return self.__client

    def read(self, topic: str, plan: dict[int, tuple[int, int]], max_bytes: int, value_bytes: int, stop_at: float,
             result: KafkaTail) -> None:
        from kafka.structs import TopicPartition

        client = self._open()
        tps = {p: TopicPartition(topic, p) for p in plan}
        client.assign(list(tps.values()))
        for p, (begin, _end) in plan.items():
            client.seek(tps[p], begin)
        pending = dict(plan)
        while pending:
            if time.monotonic() >= stop_at:
                result.partial, result.partial_reason = True, "stopped at the deadline"
                return
            wait_ms = int(max(10, min(500, (stop_at - time.monotonic()) * 1000)))
            batch = client.poll(timeout_ms=wait_ms, max_records=500)
            for tp, records in batch.items():
                if tp.partition not in pending:
                    continue
                _begin, end = pending[tp.partition]
                for record in records:
                    if record.offset >= end:  # written after we looked: not part of this snapshot
                        break
                    size = _record_size(record)
                    if result.bytes_read + size > max_bytes and result.messages:
                        result.partial, result.partial_reason = True, f"stopped at the byte budget ({max_bytes:,} bytes)"
                        return
                    result.bytes_read += size
                    result.messages.append(_message(record, value_bytes))
            for p in list(pending):
                # The position passes transaction markers and compacted gaps too, which no record shows.
                if client.position(tps[p]) >= pending[p][1]:
                    pending.pop(p)
                    client.pause(tps[p])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        client, self.__client = self.__client, None
        if client is not None:
            try:
                client.close(autocommit=False)
            except Exception:  # noqa: BLE001, S110 - closing must not mask the real error
                pass
        _stop_clients(self._made)


def _record_size(record: Any) -> int:
    headers = sum(len(k or "") + len(v or b"") for k, v in (record.headers or []))
    return max(0, record.serialized_key_size) + max(0, record.serialized_value_size) + headers


def _message(record: Any, value_bytes: int) -> KafkaMessage:
    value = record.value or b""
    headers = []
    for key, raw in record.headers or []:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, (bytes, bytearray)) else str(raw or "")
        headers.append((str(key), text[:MAX_HEADER_VALUE_CHARS]))
    stamp = record.timestamp if record.timestamp is not None and record.timestamp >= 0 else None
    return KafkaMessage(record.partition, record.offset, stamp, max(0, record.serialized_key_size),
                        max(0, record.serialized_value_size), headers, bytes(value[:value_bytes]),
                        len(value) > value_bytes)


_admin_cls: Any = None


def _admin_class() -> Any:
    """kafka-python's admin client, minus its ACL decoding: DescribeGroups always asks for the ACL
    operations, and an operation code the library does not know (tansu sends some) made the whole
    answer fail. The doctor never needs them."""
    global _admin_cls
    if _admin_cls is None:
        _quiet_library()
        from kafka import KafkaAdminClient

        class _Admin(KafkaAdminClient):
            def _process_acl_operations(self, obj: dict[str, Any]) -> dict[str, Any]:
                obj.pop("authorized_operations", None)
                return obj

        _admin_cls = _Admin
    return _admin_cls


def _quiet_library() -> None:
    """kafka-python logs every retry at WARNING and ERROR; the doctor reports errors itself, in plain words."""
    library = logging.getLogger("kafka")
    if not any(isinstance(h, logging.NullHandler) for h in library.handlers):
        library.addHandler(logging.NullHandler())
    library.propagate = False


def _client_factory(setup_ms: int, made: list[Any] | None = None) -> Any:
    """Build kafka-python's network client with our limits, and keep hold of it so a client whose
    bootstrap failed can still be stopped (its IO thread otherwise outlives the error)."""
    _quiet_library()
    from kafka.net.compat import KafkaNetClient

    def make(**config: Any) -> Any:
        config.update(socket_connection_setup_timeout_ms=max(200, setup_ms),
                      socket_connection_setup_timeout_max_ms=max(200, setup_ms),
                      client_software_name=CLIENT_ID)
        client = KafkaNetClient(**config)
        # kafka-python asks the broker to create every topic it looks up unless told otherwise, and the
        # consumer's own allow_auto_create_topics=False does not reach this setting: looking must not create.
        client._manager.cluster.config["allow_auto_create_topics"] = False
        if made is not None:
            made.append(client)
        return client

    return make


def _stop_clients(made: list[Any]) -> None:
    for client in made:
        try:
            client._manager._net.stop(timeout_ms=1000)
        except Exception:  # noqa: BLE001, S110 - best effort: the client already failed
            pass
        try:
            client.close()
        except Exception:  # noqa: BLE001, S110 - best effort, as above
            pass
    made.clear()


def _auth_failure(made: list[Any]) -> BaseException | None:
    for client in made:
        failures = getattr(client._manager, "_auth_failures", None) or {}
        for exc in failures.values():
            return exc
    return None


def _ssl_context(t: KafkaTarget) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=t.ssl_cafile or None, cadata=t.ssl_cadata or None)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ConnectorError(f"cannot load the CA certificate for {t.where}: {first_line(str(exc))}", "tls") from None
    if not t.ssl_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif not t.ssl_check_hostname:
        context.check_hostname = False
    try:
        if t.ssl_certfile:
            context.load_cert_chain(t.ssl_certfile, t.ssl_keyfile or None)
        elif t.ssl_cert_pem:
            with tempfile.TemporaryDirectory(prefix="posthog-doctor-kafka-") as folder:
                cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
                for path, text in ((cert, t.ssl_cert_pem), (key, t.ssl_key_pem)):
                    if text:
                        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                        with os.fdopen(fd, "w") as fh:
                            fh.write(text)
                context.load_cert_chain(cert, key if t.ssl_key_pem else None)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ConnectorError(f"cannot load the client certificate for {t.where}: {first_line(str(exc))}", "tls") from None
    return context


# --- preflight: tell the ways of not answering apart ----------------------------------------------


def _preflight(t: KafkaTarget, where: str, limit: float) -> dict[int, tuple[int, int]]:
    """Resolve, connect, (TLS) and ask ApiVersions on the bootstrap hosts, stopping at the first that answers.

    Returns the broker's API version ranges. Raises a ConnectorError of kind dns, refused, timeout, tls or
    protocol naming the first host's failure when none answers."""
    stop_at = time.monotonic() + limit
    errors: list[ConnectorError] = []
    for host, port in t.hosts:
        left = stop_at - time.monotonic()
        if left <= 0:
            break
        try:
            return _ask_api_versions(t, host, port, left)
        except ConnectorError as exc:
            errors.append(exc)
    if not errors:
        raise ConnectorError(f"no answer from {where} within {limit:.1f} s", "timeout")
    kinds = {e.kind for e in errors}
    first = errors[0]
    if len(errors) > 1 and len(kinds) > 1:
        raise ConnectorError(f"no bootstrap host of {where} answered; the first: {first}", first.kind)
    raise first


def _ask_api_versions(t: KafkaTarget, host: str, port: int, limit: float) -> dict[int, tuple[int, int]]:
    where = f"Kafka at {_hostport(host, port)}"
    stop_at = time.monotonic() + limit
    if host != "localhost" and not _is_ip(host) and not resolves(host, min(limit, 2.0)):
        raise ConnectorError(f"cannot resolve the host of {where}: check the name and the network", "dns")
    sock = _open(host, port, where, stop_at)
    try:
        if t.uses_tls:
            sock = _wrap_tls(sock, t, host, where, stop_at)
        try:
            body = _roundtrip(sock, 18, 0, b"", stop_at)
        except _Closed:
            if not t.uses_tls and _speaks_tls(host, port, stop_at):
                raise ConnectorError(f"{where} speaks TLS: set security_protocol=SSL (or SASL_SSL)", "tls") from None
            raise ConnectorError(f"{where} closed the connection without answering: it may not be a Kafka "
                                 "broker, or it expects TLS", "protocol") from None
        except _Garbage:
            raise ConnectorError(f"{where} answered something that is not Kafka: is this the Kafka port?",
                                 "protocol") from None
        except TimeoutError:
            raise ConnectorError(f"no answer from {where} within {limit:.1f} s: it accepted the connection but did "
                                 "not answer a Kafka ApiVersions request", "timeout") from None
        except ssl.SSLError as exc:
            raise ConnectorError(f"TLS with {where} failed: {first_line(str(exc))}", "tls") from None
        except OSError as exc:
            raise ConnectorError(f"{where} dropped the connection: {first_line(str(exc))}", "protocol") from None
        return _parse_api_versions(body, where)
    finally:
        try:
            sock.close()
        except OSError:
            pass


def _is_ip(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except OSError:
            continue
    return False


def _open(host: str, port: int, where: str, stop_at: float) -> socket.socket:
    left = stop_at - time.monotonic()
    try:
        sock = socket.create_connection((host, port), timeout=max(0.05, left))
    except ConnectionRefusedError:
        raise ConnectorError(f"connection refused by {where}: nothing listens there", "refused") from None
    except socket.gaierror:
        raise ConnectorError(f"cannot resolve the host of {where}: check the name and the network", "dns") from None
    except TimeoutError:
        raise ConnectorError(f"no answer from {where} within {max(0.05, left):.1f} s: the connection was not "
                             "accepted (firewall or wrong address?)", "timeout") from None
    except OSError as exc:
        raise ConnectorError(f"cannot connect to {where}: {first_line(str(exc))}", "refused"
                             if "unreachable" in str(exc).lower() else "error") from None
    return sock


def _wrap_tls(sock: socket.socket, t: KafkaTarget, host: str, where: str, stop_at: float) -> socket.socket:
    context = _ssl_context(t)
    sock.settimeout(max(0.05, stop_at - time.monotonic()))
    try:
        return context.wrap_socket(sock, server_hostname=host if context.check_hostname or not _is_ip(host) else None)
    except TimeoutError:
        sock.close()
        raise ConnectorError(f"no TLS answer from {where}: it may not speak TLS (try security_protocol="
                             f"{'SASL_PLAINTEXT' if t.uses_sasl else 'PLAINTEXT'})", "tls") from None
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        raise ConnectorError(f"TLS with {where} failed: the certificate was not accepted "
                             f"({exc.verify_message or first_line(str(exc))}); give the CA with ssl_cafile, or "
                             "ssl_verify=false", "tls") from None
    except (ssl.SSLError, ConnectionResetError, OSError) as exc:
        sock.close()
        raise ConnectorError(f"TLS handshake with {where} failed: {first_line(str(exc)) or type(exc).__name__}: it may "
                             "not speak TLS on this port", "tls") from None


def _speaks_tls(host: str, port: int, stop_at: float) -> bool:
    """Whether a port that dropped our plain request completes a TLS handshake instead."""
    left = stop_at - time.monotonic()
    if left <= 0.05:
        return False
    try:
        with socket.create_connection((host, port), timeout=left) as raw:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            with context.wrap_socket(raw, server_hostname=None):
                return True
    except (OSError, ssl.SSLError):
        return False


class _Closed(Exception):
    """The other side closed the connection before a whole answer arrived."""


class _Garbage(Exception):
    """The other side answered, but not in Kafka's framing (an SSH banner, an HTTP error page...)."""


_CORRELATION_IDS = itertools.count(1)  # next() on a count is atomic: preflights run in parallel checks


def _roundtrip(sock: socket.socket, api_key: int, version: int, body: bytes, stop_at: float) -> bytes:
    """Send one request (header v1) and read its whole answer; returns the answer after the correlation id."""
    correlation = next(_CORRELATION_IDS) % 2**31
    client = CLIENT_ID.encode()
    header = struct.pack(">hhih", api_key, version, correlation, len(client)) + client
    payload = header + body
    sock.settimeout(max(0.05, stop_at - time.monotonic()))
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", _read(sock, 4, stop_at))[0]
    if not 4 <= size <= 10_000_000:
        raise _Garbage()
    answer = _read(sock, size, stop_at)
    if struct.unpack(">i", answer[:4])[0] != correlation:
        raise _Garbage()
    return answer[4:]


def _read(sock: socket.socket, size: int, stop_at: float) -> bytes:
    chunks, got = [], 0
    while got < size:
        left = stop_at - time.monotonic()
        if left <= 0:
            raise TimeoutError()
        sock.settimeout(left)
        try:
            chunk = sock.recv(min(65536, size - got))
        except (ConnectionResetError, BrokenPipeError):
            raise _Closed() from None
        if not chunk:
            raise _Closed()
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _parse_api_versions(body: bytes, where: str) -> dict[int, tuple[int, int]]:
    try:
        error, count = struct.unpack(">hi", body[:6])
        if error and count <= 0:
            raise ConnectorError(f"{where} refused the ApiVersions request (error {error})", "protocol")
        versions = {}
        for i in range(count):
            key, low, high = struct.unpack(">hhh", body[6 + 6 * i: 12 + 6 * i])
            versions[key] = (low, high)
    except struct.error:
        raise ConnectorError(f"{where} answered something that is not Kafka's ApiVersions", "protocol") from None
    if 3 not in versions:
        raise ConnectorError(f"{where} answered ApiVersions but offers no Metadata request: is it a Kafka controller "
                             "rather than a broker?", "protocol")
    return versions


def _closes_on_metadata(t: KafkaTarget, limit: float) -> bool:
    """Whether the first bootstrap host answers ApiVersions but hangs up on Metadata (it wants a login)."""
    host, port = t.hosts[0]
    stop_at = time.monotonic() + min(limit, 2.0)
    try:
        sock = _open(host, port, t.where, stop_at)
    except ConnectorError:
        return False
    try:
        if t.uses_tls:
            sock = _wrap_tls(sock, t, host, t.where, stop_at)
        _roundtrip(sock, 18, 0, b"", stop_at)
        _roundtrip(sock, 3, 1, struct.pack(">i", 0), stop_at)  # Metadata v1 for no topics
        return False
    except _Closed:
        return True
    except (OSError, ConnectorError, struct.error, _Garbage):
        return False
    finally:
        try:
            sock.close()
        except OSError:
            pass


def probe_kafka(endpoint: Endpoint | KafkaTarget | str, deadline: Deadline) -> tuple[str, dict[str, Any]]:
    """For the engine's probe table: the broker version and a few facts, or a ConnectorError."""
    kafka = Kafka(endpoint, deadline)
    try:
        cluster = kafka.cluster()
        topics = kafka.topics()
    finally:
        kafka.close()
    return cluster.version, {"brokers": len(cluster.brokers), "controller_id": cluster.controller_id,
                             "cluster_id": cluster.cluster_id, "topics": len(topics),
                             "prefix": kafka.prefix}
