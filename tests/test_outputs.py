"""Each output format: the JSON against its published schema, Markdown and HTML structure and escaping,
and redaction of secrets in every file and on the terminal."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from posthog_doctor.model import SCHEMA_VERSION, Report
from tests.conftest import target

EXTRA = Path(__file__).parent / "fixtures" / "extra_checks"
SCHEMA = json.loads(files("posthog_doctor.schema").joinpath("report.schema.json").read_text())
HOSTILE = '<script>alert("x")</script> **bold** | pipe `tick` {{ jinja }} [link](javascript:alert(1)) </details>'


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.ends: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_endtag(self, tag):
        self.ends.append(tag)


def parsed(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def run_scripted(doctor, *extra):
    return doctor("run", *target(), "--checks-dir", str(EXTRA), "--only", "scripted", *extra)


def test_json_report_validates_against_the_published_schema(doctor):
    result = run_scripted(
        doctor, "-Oexample.a.mode=warn", "-Oexample.b.mode=fail", "-Oexample.c.mode=error", "-Oexample.d.mode=skip"
    )
    report = result.report
    jsonschema.validate(report, SCHEMA)
    assert report["schema_version"] == SCHEMA_VERSION and report["tool"]["name"] == "posthog-doctor"
    assert report["counts"] == {"ok": 0, "warn": 1, "fail": 1, "error": 1, "skipped": 1}
    assert report["overall"] == "fail" and report["suggested_categories"] == ["Bug"]
    # The model reads back what it wrote: the JSON is the model.
    assert Report.from_dict(report).to_dict() == report


def test_schema_rejects_a_report_that_breaks_it(doctor):
    report = run_scripted(doctor).report
    report["checks"][0]["status"] = "sort-of-ok"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, SCHEMA)


def test_markdown_puts_the_verdict_and_findings_first(doctor):
    md = run_scripted(doctor, "-Oexample.b.mode=fail").text("md")
    head = md.splitlines()[:6]
    assert head[0].startswith("## ❌ posthog-doctor: FAIL")
    assert any("example.b" in line and "a failure" in line for line in head)
    tokens = MarkdownIt().enable("table").parse(md)
    assert any(t.type == "table_open" for t in tokens)
    assert md.count("<details>") == md.count("</details>")


def test_hostile_strings_cannot_break_markdown_or_html(doctor):
    result = run_scripted(doctor, "--only", "example.a", "-Oexample.a.mode=fail", f"-Oexample.a.text={HOSTILE}")
    html = result.text("html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    collector = parsed(html)
    assert "script" not in collector.tags
    assert not any(v and v.lower().startswith("javascript:") for _, v in collector.attrs)
    assert collector.tags.count("details") == collector.ends.count("details")
    md = result.text("md")
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)  # as GitHub renders it
    tags = parsed(rendered)
    assert "script" not in tags.tags
    assert not any(v and "javascript:" in v.lower() for _, v in tags.attrs)
    assert tags.tags.count("details") == tags.ends.count("details")  # the hostile </details> stayed text
    # the table row holding the hostile text still has four cells: its pipe was escaped
    row = next(line for line in md.splitlines() if line.startswith("| ❌ FAIL | `example.a`"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 5


def test_html_is_self_contained(doctor):
    html = run_scripted(doctor).text("html")
    assert "<script" not in html and "@import" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html.replace('href="https://posthog.com/docs"', ""))
    assert "<svg" in html  # the series evidence is drawn inline


def test_passwords_and_tokens_never_reach_any_output(doctor, fake_http):
    secret, token, other = "Sup3rSecretPassw0rd", "phx_" + "a1B2c3D4" * 5, "phx_" + "Zz9" * 10
    fake_http.route("/_health", {"status": "ok", "checks": {}})
    result = doctor(
        "run",
        *target(plugin_server=fake_http.url, clickhouse=f"clickhouse://admin:{secret}@127.0.0.1:1/posthog"),
        "--api-key",
        token,
        "--checks-dir",
        str(EXTRA),
        "--only",
        "connection",
        "--only",
        "example.a",
        f"-Oexample.a.text=leaked {secret} and {token} and postgres://u:{secret}x@h/db {other}",
    )
    everything = result.stdout + result.stderr + "".join(result.text(f) for f in ("json", "md", "html"))
    assert secret not in everything and token not in everything and other not in everything
    assert result.check("example.a")["summary"] == "all good leaked *** and *** and postgres://u:***@h/db phx_***"
    counts = result.report["redaction"]["counts"]
    assert counts.get("configured_secret", 0) >= 1 and counts.get("posthog_personal_api_key", 0) >= 1


def test_no_redact_says_so_loudly_everywhere(doctor):
    result = run_scripted(doctor, "--only", "example.a", "--no-redact")
    assert result.report["redaction"]["enabled"] is False
    for fmt in ("md", "html"):
        assert "REDACTION DISABLED" in result.text(fmt)
    assert "REDACTION DISABLED" in result.stdout


_any_text = st.text(max_size=200)
_cells = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _any_text)


@settings(max_examples=60, deadline=None)
@given(
    summary=_any_text,
    title=_any_text,
    rows=st.lists(st.lists(_cells, min_size=2, max_size=2), max_size=5),
    text=_any_text,
    label=_any_text,
    ticket=_any_text,
    link=_any_text,
)
def test_fuzz_rendering_never_breaks(summary, title, rows, text, label, ticket, link):
    from posthog_doctor.model import Advice, CheckResult, Point, Series, Status, Table, Text
    from posthog_doctor.render import render

    check = CheckResult(
        "fuzz.check",
        title or "t",
        Status.FAIL,
        summary or "s",
        category="Bug",
        evidence=[Table(title, ["a", "b"], rows), Text(title, text), Series(title, [Point(label, 1)])],
        advice=[Advice(text, commands=[text], links=[link])],
    )
    report = Report(
        tool={"name": "posthog-doctor", "version": "t"},
        generated_at="2026-01-01T00:00:00Z",
        target={"ticket": ticket},
        checks=[check],
    )
    html = render(report, "html")
    found = parsed(html)
    assert "script" not in found.tags and found.tags.count("details") == found.ends.count("details")
    assert not any(v and v.strip().lower().startswith("javascript:") for _, v in found.attrs)
    md = render(report, "md")
    rendered = parsed(MarkdownIt("commonmark", {"html": True}).enable("table").render(md))
    assert "script" not in rendered.tags and rendered.tags.count("details") == rendered.ends.count("details")
    assert Report.from_dict(json.loads(render(report, "json"))).to_dict() == report.to_dict()
