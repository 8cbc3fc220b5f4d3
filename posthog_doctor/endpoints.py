"""Endpoints: where each component lives, parsed from one URL, printable without its secrets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, quote, unquote, urlsplit

# URL schemes each kind of component accepts; the first is the canonical spelling.
SCHEMES = {
    "clickhouse": ("clickhouse", "clickhouses", "chdb"),
    "postgres": ("postgres", "postgresql"),
    "redis": ("redis", "rediss"),
    "http": ("http", "https"),
    "zookeeper": ("zk",),  # ZooKeeper or ClickHouse Keeper: plain TCP four-letter words
}
DEFAULT_PORTS = {
    "clickhouse": 9000,
    "clickhouses": 9440,
    "postgres": 5432,
    "postgresql": 5432,
    "redis": 6379,
    "rediss": 6379,
    "http": 80,
    "https": 443,
    "zk": 2181,
}
EXAMPLES = {
    "clickhouse": "clickhouse://user:password@host:9000/posthog",
    "postgres": "postgres://user:password@host:5432/posthog",
    "redis": "redis://host:6379/0",
    "http": "http://host:8000",
    "zookeeper": "zk://host:2181",
}
_TRUE = ("1", "true", "yes", "on")


class EndpointError(ValueError):
    """A URL that cannot describe the component. The message never contains the password."""


@dataclass(frozen=True)
class UrlSyntax:
    """How a kind whose URLs `urlsplit` cannot read (Kafka's list of bootstrap hosts) is parsed and shown.

    The connector that owns the kind registers it (`register_syntax`), so this module knows no system's rules.
    `parse(url, component, source, fallback_hosts)` raises EndpointError; `show(endpoint, redact)` is the URL.
    """

    parse: Callable[[str, str, str, tuple[str, ...]], Endpoint]
    show: Callable[[Endpoint, bool], str]


_SYNTAXES: dict[str, UrlSyntax] = {}


def register_syntax(kind: str, syntax: UrlSyntax) -> None:
    _SYNTAXES[kind] = syntax


@dataclass(frozen=True)
class Endpoint:
    component: str
    kind: str
    scheme: str
    host: str
    port: int
    user: str = ""
    password: str = field(default="", repr=False)
    database: str = ""  # ClickHouse/Postgres database, Redis db number, HTTP base path
    params: tuple[tuple[str, str], ...] = ()
    source: str = "default"  # "flag", "env:NAME", "config", "default"
    fallback_hosts: tuple[str, ...] = ()  # tried in order when `host` does not resolve (defaults only)
    # A component can have several endpoints: further candidates for the same role (`role` ""), or endpoints
    # the same kind of server plays for another purpose (`role` names it, e.g. "cdp"). All are probed; the
    # component's own endpoint is the first candidate that answers, and checks may look at every one.
    role: str = ""
    alternates: tuple[Endpoint, ...] = ()

    @property
    def secure(self) -> bool:
        flag = self.param("secure")
        if flag:
            return flag.lower() in _TRUE
        return self.scheme in ("clickhouses", "rediss", "https")

    def param(self, name: str, default: str = "") -> str:
        for key, value in self.params:
            if key == name:
                return value
        return default

    @property
    def secrets(self) -> list[str]:
        own = [s for s in (self.password,) + tuple(v for k, v in self.params if _secret_param(k)) if s]
        return own + [s for alternate in self.alternates for s in alternate.secrets]

    def candidates(self) -> tuple[Endpoint, ...]:
        """This endpoint (without its alternates) followed by each alternate, in the order given."""
        return (replace(self, alternates=()), *self.alternates)

    def url(self, *, redact: bool = True) -> str:
        """The URL; with `redact` (the default) the password and secret parameters become `***`."""
        if self.scheme == "chdb":
            return f"chdb://{self.param('path')}?database={quote(self.database, safe='')}"
        if self.kind in _SYNTAXES:
            return _SYNTAXES[self.kind].show(self, redact)
        auth = ""
        if self.user or self.password:
            auth = quote(self.user, safe="")
            if self.password:
                auth += ":" + ("***" if redact else quote(self.password, safe=""))
            auth += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        path = self.database
        if path and self.kind != "http":
            path = "/" + quote(path, safe="")
        elif path:
            path = path if path.startswith("/") else "/" + path
        query = "&".join(f"{k}={'***' if redact and _secret_param(k) else quote(v, safe='')}" for k, v in self.params)
        return f"{self.scheme}://{auth}{host}:{self.port}{path}" + (f"?{query}" if query else "")

    def with_host(self, host: str) -> Endpoint:
        return replace(self, host=host, fallback_hosts=())

    def __str__(self) -> str:  # never show a password by accident
        return self.url()


def _secret_param(name: str) -> bool:
    return any(word in name.lower() for word in ("password", "secret", "token", "key"))


def parse_endpoint(
    component: str,
    kind: str,
    url: str,
    *,
    source: str = "flag",
    fallback_hosts: tuple[str, ...] = (),
    role: str = "",
) -> Endpoint:
    """Parse `url` for a component of `kind`; raise EndpointError with a redacted, one-line reason."""
    shown = _redact_raw(url)
    if not isinstance(url, str) or not url.strip():
        raise EndpointError(f"empty URL for {component}")
    url = url.strip()
    if kind in _SYNTAXES:
        return _SYNTAXES[kind].parse(url, component, source, fallback_hosts)
    if kind not in SCHEMES:
        raise EndpointError(f"no URL syntax is known for {kind} ({component})")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EndpointError(f"bad URL for {component}: {shown!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES[kind]:
        raise EndpointError(
            f"bad URL for {component}: {shown!r} does not start with "
            f"{' or '.join(s + '://' for s in SCHEMES[kind])} (e.g. {EXAMPLES[kind]})"
        )
    if scheme == "chdb":  # the in-process engine: the URL's path is a data directory
        params = tuple(parse_qsl(parts.query, keep_blank_values=True))
        database = dict(params).get("database", "posthog")
        path = unquote(parts.netloc + parts.path) or ":memory:"
        params = tuple((k, v) for k, v in params if k != "database") + (("path", path),)
        return Endpoint(component, kind, scheme, "", 0, database=database, params=params, source=source, role=role)
    host = parts.hostname or ""
    if not host:
        raise EndpointError(f"bad URL for {component}: {shown!r} has no host (e.g. {EXAMPLES[kind]})")
    params = tuple(parse_qsl(parts.query, keep_blank_values=True))
    if kind == "http":
        database = parts.path.rstrip("/")
    else:
        database = unquote(parts.path.lstrip("/"))
        if "/" in database:
            raise EndpointError(f"bad URL for {component}: {shown!r}: expected at most one path segment")
    if kind == "redis" and database and not database.isdigit():
        raise EndpointError(f"bad URL for {component}: {shown!r}: the Redis database must be a number")
    if port is None:
        secure = scheme == "clickhouses" or dict(params).get("secure", "").lower() in _TRUE
        port = DEFAULT_PORTS["clickhouses" if kind == "clickhouse" and secure else scheme]
    return Endpoint(
        component=component,
        kind=kind,
        scheme=scheme,
        host=host,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=database,
        params=params,
        source=source,
        fallback_hosts=fallback_hosts,
        role=role,
    )


def build_url(
    scheme: str,
    host: str,
    port: int | str | None = None,
    user: str = "",
    password: str = "",
    path: str = "",
    params: dict[str, str] | None = None,
) -> str:
    """Compose a URL from parts (as PostHog's separate environment variables give them)."""
    auth = ""
    if user or password:
        auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "") + "@"
    netloc = f"[{host}]" if ":" in host else host
    if port not in (None, ""):
        netloc += f":{port}"
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in (params or {}).items())
    return f"{scheme}://{auth}{netloc}" + (f"/{quote(path, safe='')}" if path else "") + (f"?{query}" if query else "")


def _redact_raw(url: object) -> str:
    """Hide the password of a URL that may not even parse, for error messages."""
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    auth, at, host = rest.rpartition("@")
    if not at:
        return text
    user = auth.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in auth else ''}@{host}"
