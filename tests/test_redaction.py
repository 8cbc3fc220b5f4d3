"""Redaction: what is masked, what is pseudonymised and where, the residual scan, and fuzzing of the
redactor and the config loader (neither may raise anything but its own clear error)."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from posthog_doctor.config import ConfigError, load_config_file
from posthog_doctor.redaction import PUBLIC_DEFAULTS, Redactor, scan

SECRET = "Tr0ub4dor&3-horse"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("postgres://posthog:hunter22@db:5432/posthog", "postgres://posthog:***@db:5432/posthog"),
        ("Authorization: Bearer abcdef0123456789xyz", "Authorization: Bearer ***"),
        ("key phx_0123456789abcdefABCDEF01 end", "key phx_*** end"),
        ("token phc_0123456789abcdefABCDEF01", "token phc_***"),
        ('{"password": "s3cr3t-value", "user": "x"}', '{"password": "***", "user": "x"}'),
        ("SECRET_KEY=abcdefgh1234 DEBUG=0", "SECRET_KEY=*** DEBUG=0"),
        ("clickhouse_password: 'abc def'", "clickhouse_password: '***'"),
        ("password=\"with spaces and 'quotes'\"", 'password="***"'),
        (f"the configured one {SECRET} appears", "the configured one *** appears"),
        ("api_key_given: true", "api_key_given: true"),
        ("password=false", "password=false"),
        ("clickhouse://USER:PASSWORD@HOST:9000/posthog", "clickhouse://USER:PASSWORD@HOST:9000/posthog"),
    ],
)
def test_secrets_are_masked(text, expected):
    assert Redactor([SECRET]).text(text) == expected


def test_public_default_passwords_do_not_wreck_the_report():
    r = Redactor(["posthog", "pw"])
    assert r.text("posthog-doctor checked database posthog") == "posthog-doctor checked database posthog"
    assert r.text("postgres://posthog:posthog@db/posthog") == "postgres://posthog:***@db/posthog"


def test_pseudonyms_are_consistent_within_a_report():
    r = Redactor()
    first = r.text("alice@example.com then bob@example.com")
    again = r.text("ALICE@example.com once more")
    assert first == "<email-1> then <email-2>" and again == "<email-1> once more"
    assert r.summary() == {"enabled": True, "counts": {"email": 3}}


def test_ips_and_personal_properties_only_in_customer_data():
    r = Redactor()
    text = 'ClickHouse 23.8.1.94 at 10.0.0.5, 12:30:45, {"$ip": "2001:db8::1", "name": "Ann", "plan": "free"}'
    assert r.text(text) == text
    redacted = r.text(text, customer_data=True)
    assert redacted == (
        'ClickHouse <ip-1> at <ip-2>, 12:30:45, {"$ip": "<personal-1>", "name": "<personal-2>", "plan": "free"}'
    )


def test_report_evidence_marked_personal_is_customer_data():
    r = Redactor()
    data = {
        "summary": "seen from 10.0.0.5",
        "evidence": [
            {"type": "table", "personal": True, "rows": [["10.0.0.5", '{"email": "x@y.io"}']]},
            {"type": "table", "personal": False, "rows": [["10.0.0.5"]]},
        ],
    }
    out = r.value(data)
    assert out["summary"] == "seen from 10.0.0.5"
    assert out["evidence"][0]["rows"] == [["<ip-1>", '{"email": "<email-1>"}']]
    assert out["evidence"][1]["rows"] == [["10.0.0.5"]]


def test_disabled_redaction_changes_nothing_and_says_so():
    r = Redactor([SECRET], enabled=False)
    assert r.text(f"x {SECRET} alice@example.com") == f"x {SECRET} alice@example.com"
    assert r.summary()["enabled"] is False and "REDACTION DISABLED" in r.summary()["warning"]


def test_scan_finds_what_slipped_through_and_ignores_masks():
    assert scan("all fine: postgres://u:***@h/db phx_*** Bearer ***") == []
    assert scan("oops postgres://u:leaked@h/db") == ["url_password"]
    assert scan(f"oops {SECRET}", [SECRET]) == ["configured_secret"]
    assert "posthog_personal_api_key" in scan("phx_0123456789abcdefABCDEF01")


_text = st.text(alphabet=string.printable + "éü€\u202e\x00", max_size=300)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=_text,
    after=_text,
    secret=st.text(alphabet=string.ascii_letters + string.digits + "!#%&-_", min_size=8, max_size=40),
)
def test_fuzz_a_configured_secret_never_survives(before, after, secret):
    assume(secret.lower() not in PUBLIC_DEFAULTS)  # install-file defaults are kept on purpose (tested below)
    r = Redactor([secret])
    out = r.text(before + secret + after, customer_data=True)
    assert secret not in out
    assert r.text(out, customer_data=True) == out  # a second pass finds nothing more to hide: the output is final


def test_public_default_passwords_are_kept_outside_urls():
    r = Redactor(["clickhouse"])
    assert r.text("ClickHouse 23.8 on host clickhouse") == "ClickHouse 23.8 on host clickhouse"
    assert r.text("clickhouse://default:clickhouse@ch:9000") == "clickhouse://default:***@ch:9000"


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | _text,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
        max_leaves=20,
    )
)
def test_fuzz_the_redactor_never_raises(data):
    out = Redactor(["some-secret-value"]).value(data, customer_data=True)
    assert type(out) is type(data)


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=400)
    | st.sampled_from(
        [
            "a: &x [1]\nb: *x\n",
            "profiles:\n  p: [1, 2]\n",
            "timeout: .nan\n",
            "!!python/object:os.system 'ls'\n",
            "checks: {a.b: {c: [1, {d: e}]}}\n",
            "{" * 200,
            "- " * 500,
            "format: [1, 2]\n",
            "\x00\x01",
            "a: 'b\n",
        ]
    )
)
def test_fuzz_the_config_loader_only_raises_config_errors(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "doctor.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass") if text.isprintable() else path.write_bytes(
        text.encode("utf-8", errors="replace")
    )
    try:
        result = load_config_file(path, "p" if "profiles" in text else "")
    except ConfigError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, dict)


def test_a_secret_the_redactor_missed_stops_the_write(tmp_path):
    """The last line of defence: if redaction had a gap, the scan refuses to write the file."""
    from posthog_doctor.model import CheckResult, Report, Status
    from posthog_doctor.output import OutputError, render_all

    leaky = Report(
        tool={"name": "posthog-doctor", "version": "t"},
        generated_at="2026-01-01T00:00:00Z",
        target={},
        checks=[CheckResult("a.b", "A", Status.OK, "see postgres://u:leaked-pass@h/db")],
        redaction={"enabled": True, "counts": {}},
    )
    for fmt in ("json", "md", "html"):
        with pytest.raises(OutputError, match=f"refusing to write the {fmt} report.*url_password"):
            render_all(leaky, [fmt], [])
    leaky.redaction = {"enabled": False, "warning": "REDACTION DISABLED"}  # --no-redact: written as asked
    assert "leaked-pass" in render_all(leaky, ["md"], [])["md"]
