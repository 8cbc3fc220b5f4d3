"""Redaction: secrets and personal data are removed from the report model before anything is written,
and every rendered output is scanned once more for anything that still looks like a secret.

Rules are data (`SECRET_RULES`, `PERSONAL_RULES`): a kind, a pattern, and how a match is replaced.
Secrets become `***`. Personal data becomes a pseudonym that is consistent within one report
(`<email-1>` is the same address wherever it appears), so a reader can still follow one user through
the evidence without learning who it is. The report records how many of each kind were replaced.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .model import Report

MASK = "***"
# Public default passwords of PostHog's own install files. They protect nothing, and masking every
# occurrence of words like "posthog" would wreck the report; they are still masked inside URLs.
PUBLIC_DEFAULTS = frozenset({"posthog", "postgres", "password", "admin", "default", "clickhouse"})
MIN_SECRET_LENGTH = 4  # shorter configured secrets are masked in URLs and assignments only


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    keep: int = 0  # number of leading groups kept verbatim (e.g. the "password=" before the value)
    pseudonym: str = ""  # personal data: replaced by <pseudonym-N> instead of ***


SECRET_RULES: tuple[Rule, ...] = (
    # scheme://user:password@host -> scheme://user:***@host
    # (the literal placeholder PASSWORD, as in documentation and advice, is left alone)
    Rule(
        "url_password",
        re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@'\"]*:)(?!\*\*\*@|PASSWORD@)([^\s@/'\"]+)(?=@)"),
        1,
    ),
    Rule("posthog_personal_api_key", re.compile(r"\b(phx_)[A-Za-z0-9]{16,}"), 1),
    Rule("posthog_project_token", re.compile(r"\b(phc_)[A-Za-z0-9]{16,}"), 1),
    Rule("bearer_token", re.compile(r"(?i)\b(bearer\s+)(?!\*\*\*)[A-Za-z0-9._~+/-]{8,}=*"), 1),
    # password=..., "api_key": "...", SECRET_KEY: '...' -> the key stays, the whole value (quoted or not) goes
    Rule(
        "secret_assignment",
        re.compile(
            r"(?i)\b((?:[a-z0-9]+_)*(?:password|passwd|pwd|secret|secret_key|api_key|apikey|token|access_key|private_key)"
            r"[\"']?\s*[:=]\s*)(?:([\"'])(?!\*\*\*[\"'])((?:(?!\2).)+)\2"
            r"|(?!\*\*\*|(?:true|false|null|none)\b)([^\s\"',;&}]{3,}))"
        ),
        1,
    ),
)

# Personal data that is recognisable anywhere in a report.
PERSONAL_RULES: tuple[Rule, ...] = (
    Rule(
        "email", re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"), pseudonym="email"
    ),
)

# Personal data recognisable only in evidence taken from the customer's tables (`personal=True`):
# elsewhere these shapes are versions ("23.8.1.1") or times ("12:30:45"), not people.
PERSONAL_PROPERTY_KEYS = (
    "email",
    "$email",
    "name",
    "$name",
    "first_name",
    "last_name",
    "full_name",
    "phone",
    "$phone",
    "phone_number",
    "ip",
    "$ip",
    "address",
    "username",
    "$user_agent",
)
CUSTOMER_DATA_RULES: tuple[Rule, ...] = (
    # "email": "x", 'name': 'y' -> the value becomes a pseudonym, the key stays readable
    Rule(
        "personal_property",
        re.compile(
            r"""((?<![\w$])["']?(?:"""
            + "|".join(re.escape(k) for k in PERSONAL_PROPERTY_KEYS)
            + r""")["']?\s*[:=]\s*)(["'])((?:(?!\2)[^\\]|\\.)*)\2""",
            re.I,
        ),
        1,
        pseudonym="personal",
    ),
    Rule(
        "ip_address",
        re.compile(r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w.:])"),
        pseudonym="ip",
    ),
)


class Redactor:
    def __init__(self, secrets: Iterable[str] = (), *, enabled: bool = True):
        self.enabled = enabled
        self.counts: Counter[str] = Counter()
        self._pseudonyms: dict[tuple[str, str], str] = {}
        literal = sorted(
            {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH and s.lower() not in PUBLIC_DEFAULTS},
            key=len,
            reverse=True,
        )
        self._literal = re.compile("|".join(re.escape(s) for s in literal)) if literal else None

    def text(self, value: str, *, customer_data: bool = False) -> str:
        """`value` with every secret masked and personal data pseudonymised. `customer_data` adds the
        rules that only make sense on data from the customer's tables (IP addresses, personal properties)."""
        if not self.enabled or not value:
            return value
        if self._literal is not None:
            value = self._literal.sub(self._count("configured_secret", lambda m: MASK), value)
        for rule in SECRET_RULES:
            value = rule.pattern.sub(self._count(rule.kind, self._masker(rule)), value)
        for rule in PERSONAL_RULES + (CUSTOMER_DATA_RULES if customer_data else ()):
            value = rule.pattern.sub(self._pseudonymiser(rule), value)
        return value

    def value(self, data: Any, *, customer_data: bool = False) -> Any:
        """Redact every string inside nested dicts and lists (keys included). Evidence marked
        `personal` is treated as customer data from there down."""
        if isinstance(data, str):
            return self.text(data, customer_data=customer_data)
        if isinstance(data, list):
            return [self.value(v, customer_data=customer_data) for v in data]
        if isinstance(data, dict):
            inner = customer_data or data.get("personal") is True
            return {self.value(k, customer_data=inner): self.value(v, customer_data=inner) for k, v in data.items()}
        return data

    def report(self, report: Report) -> Report:
        """A redacted copy of `report`, with a summary of what was redacted attached."""
        redacted = Report.from_dict(self.value(report.to_dict())) if self.enabled else report
        redacted.redaction = self.summary()
        return redacted

    def summary(self) -> dict[str, Any]:
        if not self.enabled:
            return {
                "enabled": False,
                "warning": "REDACTION DISABLED (--no-redact): this report may contain "
                "passwords, API keys and personal data. Do not share it.",
            }
        return {"enabled": True, "counts": dict(sorted(self.counts.items()))}

    def _count(self, kind: str, replace: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
        def counted(match: re.Match[str]) -> str:
            self.counts[kind] += 1
            return replace(match)

        return counted

    @staticmethod
    def _masker(rule: Rule) -> Callable[[re.Match[str]], str]:
        def mask(m: re.Match[str]) -> str:
            kept = "".join(m.group(i) or "" for i in range(1, rule.keep + 1))
            quote = m.group(2) if rule.kind == "secret_assignment" and m.group(2) else ""
            return f"{kept}{quote}{MASK}{quote}"

        return mask

    def _pseudonymiser(self, rule: Rule) -> Callable[[re.Match[str]], str]:
        """Replace what `rule` found by `<kind-N>`: the same value gets the same N throughout the report."""

        def replace(match: re.Match[str]) -> str:
            if rule.kind == "personal_property":
                prefix, quote, found = match.group(1), match.group(2), match.group(3)
            else:
                prefix, quote, found = "", "", match.group(0)
            if not found or found.startswith("<") or (rule.kind == "ip_address" and not _is_ip(found)):
                return match.group(0)
            key = (rule.pseudonym, found.lower())
            if key not in self._pseudonyms:
                n = sum(1 for k in self._pseudonyms if k[0] == rule.pseudonym) + 1
                self._pseudonyms[key] = f"<{rule.pseudonym}-{n}>"
            self.counts[rule.kind] += 1
            return f"{prefix}{quote}{self._pseudonyms[key]}{quote}"

        return replace


def _is_ip(text: str) -> bool:
    """The pattern finds candidates ("12:30:45" among them); only real addresses are replaced."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def scan(text: str, secrets: Iterable[str] = ()) -> list[str]:
    """Kinds of secret still present in a rendered output (empty when clean)."""
    found = [rule.kind for rule in SECRET_RULES if rule.pattern.search(text)]
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH and secret.lower() not in PUBLIC_DEFAULTS and secret in text:
            found.append("configured_secret")
            break
    return found
