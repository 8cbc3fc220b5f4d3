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
    # What every match contains, so a text without it is skipped unread (a search costs milliseconds on a large
    # report, an `in` test microseconds): literals that must all be there, one of `any_of`, one of `keywords`
    # in any case (looked for in the lower-cased text; see `fold`).
    literals: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    def could_match(self, text: str, folded: str | None) -> bool:
        """False only when no match is possible; `folded` is `fold(text)`."""
        if not all(literal in text for literal in self.literals):
            return False
        if self.any_of and not any(part in text for part in self.any_of):
            return False
        return not self.keywords or folded is None or any(k in folded for k in self.keywords)


# The only characters other than ASCII letters that an ignore-case pattern matches to an ASCII letter (İ, ı, ſ and
# the Kelvin sign); İ is also the only character whose lower case is longer than itself.
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")


def fold(text: str) -> str | None:
    """`text` lower-cased, position for position, where that finds every ignore-case match of an ASCII keyword;
    None where it might not (the text holds one of the four characters above)."""
    if not text.isascii() and any(ch in text for ch in _FOLDS_TO_ASCII):
        return None
    return text.lower()


# The keys secret_assignment looks for, in any case: a text without one has no assignment to mask.
_SECRET_KEYWORD = re.compile(r"(?i)pass(?:word|wd)|pwd|secret|api_?key|token|access_key|private_key")
_KEYWORDS = ("password", "passwd", "pwd", "secret", "api_key", "apikey", "token", "access_key", "private_key")


SECRET_RULES: tuple[Rule, ...] = (
    # scheme://user:password@host -> scheme://user:***@host
    # (the literal placeholder PASSWORD, as in documentation and advice, is left alone)
    Rule(
        "url_password",
        re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@'\"]*:)(?!\*\*\*@|PASSWORD@)([^\s@/'\"]+)(?=@)"),
        1,
        literals=("://", "@"),
    ),
    Rule("posthog_personal_api_key", re.compile(r"\b(phx_)[A-Za-z0-9]{16,}"), 1, literals=("phx_",)),
    Rule("posthog_project_token", re.compile(r"\b(phc_)[A-Za-z0-9]{16,}"), 1, literals=("phc_",)),
    Rule(
        "bearer_token",
        re.compile(r"(?i)\b(bearer\s+)(?!\*\*\*)[A-Za-z0-9._~+/-]{8,}=*"),
        1,
        keywords=("bearer",),
    ),
    # password=..., "api_key": "...", SECRET_KEY: '...' -> the key stays, the whole value (quoted or not) goes
    Rule(
        "secret_assignment",
        re.compile(
            r"(?i)\b((?:[a-z0-9]+_)*(?:password|passwd|pwd|secret|secret_key|api_key|apikey|token|access_key|private_key)"
            r"[\"']?\s*[:=]\s*)(?:([\"'])(?!\*\*\*[\"'])((?:(?!\2).)+)\2"
            r"|(?!\*\*\*|(?:true|false|null|none)\b)([^\s\"',;&}]{3,}))"
        ),
        1,
        keywords=_KEYWORDS,
    ),
)

# Personal data that is recognisable anywhere in a report.
PERSONAL_RULES: tuple[Rule, ...] = (
    Rule(
        "email",
        re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
        pseudonym="email",
        literals=("@",),
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
        keywords=tuple(k.lower() for k in PERSONAL_PROPERTY_KEYS),
    ),
    Rule(
        "ip_address",
        re.compile(r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w.:])"),
        pseudonym="ip",
        any_of=(".", ":"),
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
        folded = fold(value)
        for rule in SECRET_RULES:
            if rule.could_match(value, folded):
                changed = rule.pattern.sub(self._count(rule.kind, self._masker(rule)), value)
                if changed != value:
                    value, folded = changed, fold(changed)
        for rule in PERSONAL_RULES + (CUSTOMER_DATA_RULES if customer_data else ()):
            if rule.could_match(value, folded):
                changed = rule.pattern.sub(self._pseudonymiser(rule), value)
                if changed != value:
                    value, folded = changed, fold(changed)
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
    found = [rule.kind for rule in SECRET_RULES if _present(rule, text)]
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH and secret.lower() not in PUBLIC_DEFAULTS and secret in text:
            found.append("configured_secret")
            break
    return found


def _present(rule: Rule, text: str) -> bool:
    """Whether `rule.pattern.search(text)` would find a match, without running an unanchored search of a whole
    report where the rule's own shape says where a match can start."""
    if not rule.could_match(text, fold(text) if rule.keywords else None):
        return False
    if rule.kind == "url_password":
        return any(rule.pattern.match(text, start) for start in _scheme_starts(text))
    if rule.kind == "secret_assignment":
        return any(rule.pattern.match(text, start) for start in _key_starts(text))
    return rule.pattern.search(text) is not None


def _is_word(ch: str) -> bool:
    """What `\\w` matches in a str pattern."""
    return ch.isalnum() or ch == "_"


def _keyword_hits(text: str) -> list[int]:
    """Where a keyword of secret_assignment occurs, in any case: found with str.find on the lower-cased text (a
    hundred times faster than the ignore-case pattern), unless the text holds a character that only the pattern's
    case folding would take for an ASCII letter."""
    lowered = fold(text)  # the same length: positions carry over
    if lowered is None:
        return [hit.start() for hit in _SECRET_KEYWORD.finditer(text)]
    hits = []
    for keyword in _KEYWORDS:
        at = lowered.find(keyword)
        while at != -1:
            hits.append(at)
            at = lowered.find(keyword, at + 1)
    return sorted(hits)


def _key_starts(text: str) -> list[int]:
    """Where a secret assignment can start: it opens with `\\b` and a key made of word characters that holds one
    of the keywords, so at the start of a run of word characters containing a keyword."""
    starts: list[int] = []
    for start in _keyword_hits(text):
        while start > 0 and _is_word(text[start - 1]):
            start -= 1
        if not starts or starts[-1] != start:
            starts.append(start)
    return starts


_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")


def _scheme_starts(text: str) -> list[int]:
    """Where a URL with a password can start: `\\b`, a letter, then scheme characters up to `://`."""
    starts = []
    at = text.find("://")
    while at != -1:
        first = at
        while first > 0 and text[first - 1] in _SCHEME_CHARS:
            first -= 1
        starts += [
            p
            for p in range(first, at)
            if text[p].isascii() and text[p].isalpha() and (p == 0 or not _is_word(text[p - 1]))
        ]
        at = text.find("://", at + 3)
    return starts
