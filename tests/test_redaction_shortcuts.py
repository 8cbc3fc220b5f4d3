"""The redaction's shortcuts change nothing: a rule whose literals or hint are missing is skipped, and the scan of a
rendered report only tries the places a secret could start. Both give exactly what running every pattern over the
whole text gives, on text made of the fragments secrets are made of, and on rendered reports."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from posthog_doctor.redaction import CUSTOMER_DATA_RULES, PERSONAL_RULES, SECRET_RULES, Redactor, scan

FRAGMENTS = [
    "password",
    "PassWd",
    "pwd",
    "my_secret_key",
    "api_key",
    "apikey",
    "token",
    "access_key",
    "Private_Key",
    "x_",
    "_",
    "é",
    "=",
    ": ",
    ":",
    '"',
    "'",
    "***",
    "true",
    "hunter22",
    "s3cr3t-value",
    "://",
    "postgres",
    "https",
    "a+b.c-d",
    "user",
    "@",
    "host.example.com",
    "PASSWORD@",
    "phx_",
    "phc_",
    "AbCdEf0123456789xyz",
    "Bearer ",
    "bearer\t",
    "someone@example.com",
    "203.0.113.7",
    "fe80::1",
    "12:30:45",
    '"email": ',
    "name=",
    " ",
    "\n",
    "/",
    ",",
    ";",
    "}",
    "-",
    ".",
    "paſſword=",  # ſ, İ, ı and the Kelvin sign match ASCII letters under IGNORECASE
    "İ",
    "ı",
    "\u212a",
    "toKen",
]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


def reference_scan(text: str, secrets=()) -> list[str]:
    """The scan as it was: every secret pattern searched over the whole text."""
    from posthog_doctor.redaction import MIN_SECRET_LENGTH, PUBLIC_DEFAULTS

    found = [rule.kind for rule in SECRET_RULES if rule.pattern.search(text)]
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH and secret.lower() not in PUBLIC_DEFAULTS and secret in text:
            found.append("configured_secret")
            break
    return found


def reference_text(redactor: Redactor, value: str, customer_data: bool) -> str:
    """Redactor.text as it was: every rule's substitution, whether or not its literals are there."""
    if redactor._literal is not None:
        value = redactor._literal.sub(redactor._count("configured_secret", lambda m: "***"), value)
    for rule in SECRET_RULES:
        value = rule.pattern.sub(redactor._count(rule.kind, redactor._masker(rule)), value)
    for rule in PERSONAL_RULES + (CUSTOMER_DATA_RULES if customer_data else ()):
        value = rule.pattern.sub(redactor._pseudonymiser(rule), value)
    return value


@settings(max_examples=600, deadline=None)
@given(texts)
def test_the_scan_finds_what_a_search_of_every_pattern_finds(text):
    assert scan(text, ["hunter22"]) == reference_scan(text, ["hunter22"])


@settings(max_examples=400, deadline=None)
@given(st.lists(texts, min_size=1, max_size=5), st.booleans())
def test_redacting_gives_the_same_text_and_counts(values, customer_data):
    fast, slow = Redactor(["hunter22"]), Redactor(["hunter22"])
    for value in values:
        assert fast.text(value, customer_data=customer_data) == reference_text(slow, value, customer_data)
    assert fast.counts == slow.counts and fast._pseudonyms == slow._pseudonyms


def test_a_rendered_report_scans_alike():
    """A report as the renderers write it (long HTML with links, assignments masked)."""
    block = (
        '<a href="https://posthog.com/docs/self-host">docs</a> token: *** password="***" '
        "postgres://posthog:***@db:5432/posthog phc_*** Bearer *** "
    )
    leaking = block * 300 + " clickhouse://default:Sup3rSecret@ch:9000/posthog api_key=abcdef123 " + block * 300
    for text in (block * 600, leaking):
        assert scan(text) == reference_scan(text)
    assert Counter(scan(leaking)) == Counter(["url_password", "secret_assignment"])
