"""Where Kafka is: a `kafka://` URL, PostHog's own environment, and the engine's `Endpoint`, one `KafkaTarget`.

`parse_bootstrap("kafka://[user:password@]host1:9092,host2:9092?prefix=...&...")` or `kafka_env_url(env)`
(PostHog's KAFKA_* variables) give a target; `KafkaTarget.to_endpoint()` packs it into the engine's
`Endpoint` (first host in `host`/`port`, every host in the `hosts` parameter) and `from_endpoint` unpacks it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote

from ...endpoints import Endpoint, EndpointError, UrlSyntax, register_syntax

DEFAULT_PORT = 9092
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
# URL parameters a Kafka URL may carry; anything else is a typo worth naming.
PARAMS = (
    "prefix",
    "security_protocol",
    "sasl_mechanism",
    "ssl_cafile",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_verify",
    "ssl_check_hostname",
    "ssl_cadata_b64",
    "ssl_cert_b64",
    "ssl_key_b64",
)


class KafkaUrlError(EndpointError):
    """A Kafka URL or environment that cannot describe a cluster. Never contains the password."""


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
        return ",".join(hostport(h, p) for h, p in self.hosts)

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
        return f"Kafka at {hostport(host, port)}{more}"

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
        pems = (
            ("ssl_cadata_b64", self.ssl_cadata),
            ("ssl_cert_b64", self.ssl_cert_pem),
            ("ssl_key_b64", self.ssl_key_pem),
        )
        for name, pem in pems:
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

    def to_endpoint(
        self, component: str = "kafka", *, source: str = "flag", fallback_hosts: tuple[str, ...] = ()
    ) -> Endpoint:
        """The engine's Endpoint for this target: first host in host/port, all of them in `hosts`."""
        host, port = self.hosts[0]
        params = (("hosts", self.bootstrap), *self.params())
        return Endpoint(
            component,
            "kafka",
            "kafka",
            host,
            port,
            user=self.user,
            password=self.password,
            params=params,
            source=source,
            fallback_hosts=fallback_hosts,
        )

    @classmethod
    def from_endpoint(cls, endpoint: Endpoint) -> KafkaTarget:
        """Unpack an Endpoint made by `to_endpoint` (or by the engine from a kafka:// URL)."""
        hosts = split_hosts(endpoint.param("hosts")) if endpoint.param("hosts") else []
        first = (endpoint.host, endpoint.port or DEFAULT_PORT)
        if not hosts:
            hosts = [first]
        elif hosts[0] != first:  # the engine swapped the host for a fallback that resolves
            hosts[0] = first
        settings = dict(endpoint.params)
        settings.pop("hosts", None)
        return _target(tuple(hosts), settings, endpoint.user, endpoint.password)


def hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def split_hosts(text: str) -> list[tuple[str, int]]:
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
    unknown = sorted(set(settings) - set(PARAMS))
    if unknown:
        raise KafkaUrlError(f"unknown Kafka URL parameter {unknown[0]!r} (known: {', '.join(PARAMS)})")
    protocol = settings.get("security_protocol", "").strip().upper().replace("-", "_")
    if not protocol:
        # Credentials without a protocol can only mean SASL; PostHog itself needs the protocol spelt out.
        protocol = "SASL_PLAINTEXT" if user else "PLAINTEXT"
    if protocol not in SECURITY_PROTOCOLS:
        raise KafkaUrlError(f"security_protocol must be one of {', '.join(SECURITY_PROTOCOLS)}, not {protocol!r}")
    # PostHog's node side writes the mechanism as scram-sha-512.
    mechanism = settings.get("sasl_mechanism", "").strip().upper().replace("_", "-")
    if protocol.startswith("SASL"):
        mechanism = mechanism or "PLAIN"  # Kafka's own default
        if mechanism not in SASL_MECHANISMS:
            raise KafkaUrlError(f"sasl_mechanism must be one of {', '.join(SASL_MECHANISMS)}, not {mechanism!r}")
        if not user:
            raise KafkaUrlError(f"{protocol} needs a user name (kafka://user:password@host:9092 or KAFKA_SASL_USER)")
    else:
        mechanism = ""
    pems = {
        name: _b64_text(name, settings[name])
        for name in ("ssl_cadata_b64", "ssl_cert_b64", "ssl_key_b64")
        if settings.get(name)
    }
    cert, key = pems.get("ssl_cert_b64", ""), pems.get("ssl_key_b64", "")
    if "PRIVATE KEY" in cert and "PRIVATE KEY" not in key:
        cert, key = key, cert  # some PostHog versions hand the two variables over swapped
    return KafkaTarget(
        hosts=hosts,
        prefix=settings.get("prefix", ""),
        security_protocol=protocol,
        sasl_mechanism=mechanism,
        user=user,
        password=password,
        ssl_cafile=settings.get("ssl_cafile", ""),
        ssl_certfile=settings.get("ssl_certfile", ""),
        ssl_keyfile=settings.get("ssl_keyfile", ""),
        ssl_cadata=pems.get("ssl_cadata_b64", ""),
        ssl_cert_pem=cert,
        ssl_key_pem=key,
        ssl_verify=_flag("ssl_verify", settings["ssl_verify"]) if "ssl_verify" in settings else True,
        ssl_check_hostname=(
            _flag("ssl_check_hostname", settings["ssl_check_hostname"]) if "ssl_check_hostname" in settings else True
        ),
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
        raise KafkaUrlError(
            f"bad Kafka URL {_redact_raw(text)!r}: it should start with kafka:// "
            "(e.g. kafka://kafka:9092 or kafka://user:password@host1:9092,host2:9092)"
        )
    rest, _, query = rest.partition("?")
    rest = rest.split("#", 1)[0]
    auth, at, netloc = rest.rpartition("@")
    if not at:
        auth, netloc = "", rest
    user, _, password = auth.partition(":")
    netloc = netloc.split("/", 1)[0]
    hosts = split_hosts(netloc)
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


def kafka_env_url(env: Mapping[str, str]) -> tuple[str, str] | None:
    """A kafka:// URL from PostHog's own environment, with the variables it came from; None when unset.

    Hosts: KAFKA_DEFAULT_HOSTS (newest Django), else KAFKA_HOSTS (comma-separated host:port, a `kafka://`
    per entry stripped), else KAFKA_URL (`kafka://kafka:9092`, may be a list). Topic prefix: KAFKA_PREFIX.
    Security, as both Django and the plugin server read it: KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM,
    KAFKA_SASL_USER, KAFKA_SASL_PASSWORD (each also as KAFKA_DEFAULT_*, which newer Django prefers), and
    the plugin server's base64 PEM KAFKA_TRUSTED_CERT_B64, KAFKA_CLIENT_CERT_B64 and
    KAFKA_CLIENT_CERT_KEY_B64 (PostHog connects with those without checking the host name; so does this).
    Sources: posthog/settings/data_stores.py (KAFKA_HOSTS, KAFKA_URL, KAFKA_PREFIX, KAFKA_SECURITY_PROTOCOL,
    KAFKA_SASL_*) and the plugin server's config.ts (the *_B64 certificates).
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
    pems = {
        "ssl_cadata_b64": take("KAFKA_TRUSTED_CERT_B64"),
        "ssl_cert_b64": take("KAFKA_CLIENT_CERT_B64"),
        "ssl_key_b64": take("KAFKA_CLIENT_CERT_KEY_B64"),
    }
    if not used:
        return None
    hosts = split_hosts(hosts_text or "kafka:9092")
    if not hosts:
        raise KafkaUrlError("KAFKA_HOSTS names no host")
    settings = {k: v for k, v in pems.items() if v}
    if prefix:
        settings["prefix"] = prefix
    if protocol:
        settings["security_protocol"] = protocol
    sasl = protocol.upper().startswith("SASL")
    if mechanism and sasl:
        settings["sasl_mechanism"] = mechanism
    if settings.keys() & {"ssl_cadata_b64", "ssl_cert_b64", "ssl_key_b64"}:
        settings["ssl_check_hostname"] = "false"
    target = _target(tuple(hosts), settings, user if sasl else "", password if sasl else "")
    return target.url(redact=False), "env:" + "/".join(used)


def _parse_endpoint(url: str, component: str, source: str, fallback_hosts: tuple[str, ...]) -> Endpoint:
    return parse_bootstrap(url).to_endpoint(component, source=source, fallback_hosts=fallback_hosts)


def _show_endpoint(endpoint: Endpoint, redact: bool) -> str:
    return KafkaTarget.from_endpoint(endpoint).url(redact=redact)  # every bootstrap host, certificates shortened


# kafka:// URLs list several bootstrap hosts: the engine's endpoints read and print them through this module.
register_syntax("kafka", UrlSyntax(_parse_endpoint, _show_endpoint))
