"""Hostile data inside the customer's tables (markup, Markdown, template syntax, personal data, very long
and non-UTF-8 strings): the reports stay intact and escaped, personal data is hidden, and the dead
letter queue digest still counts correctly."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from tests.conftest import CliResult, run_process
from tests.safety_support import DLQ_WINDOW, HOSTILE_ERRORS, fresh_heartbeats

PERSONAL = ("jane.doe@example.com", "203.0.113.7", "hunter2-in-payload", "Jane <b>Doe</b>", "Jane &lt;b&gt;Doe")
PLANTED = 40 + sum(3 + i for i in range(len(HOSTILE_ERRORS))) + 2 + 2  # rows in the dead letter queue


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.opened: list[str] = []
        self.closed: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.opened.append(tag)
        self.attrs.extend(attrs)

    def handle_endtag(self, tag):
        self.closed.append(tag)


def tags(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module", params=["masked", "--include-payloads"])
def hostile_run(request, posthog, redis_server, tmp_path_factory):
    fresh_heartbeats(redis_server)
    out = tmp_path_factory.mktemp("hostile")
    extra = ["--include-payloads"] if request.param != "masked" else []
    done = run_process(
        "run",
        *posthog.flags,
        "--set",
        f"clickhouse.dead_letter_queue.window={DLQ_WINDOW}",
        "--output",
        str(out),
        "--quiet",
        *extra,
    )
    assert "Traceback" not in done.stderr
    return CliResult(done.returncode, done.stdout, done.stderr, out)


def test_the_digest_still_counts_every_hostile_row(hostile_run):
    dlq = hostile_run.check("clickhouse.dead_letter_queue")
    assert dlq["status"] == "warn", dlq["summary"]  # two days old: happened, not still happening
    assert f"{PLANTED} events went to the dead letter queue" in dlq["summary"], dlq["summary"]
    causes = next(e for e in dlq["evidence"] if e["title"].startswith("Causes"))
    counts = {row[0]: row[2] for row in causes["rows"]}
    for i, kind in enumerate(HOSTILE_ERRORS):
        assert counts[f"plugin_server_ingest_event:{kind}Step"] == 3 + i
    assert counts["django_server_capture_endpoint"] == 2  # its message is not UTF-8


def test_html_escapes_everything_from_the_tables(hostile_run):
    html = hostile_run.text("html")
    found = tags(html)
    assert "script" not in found.opened and "img" not in found.opened and "b" not in found.opened
    assert not any(name.startswith("on") for name, _ in found.attrs)
    assert not any(v and v.strip().lower().startswith("javascript:") for _, v in found.attrs)
    assert found.opened.count("details") == found.closed.count("details")
    assert "&lt;script&gt;alert(" in html and "{{ config.__class__" in html  # shown as text, not run


def test_markdown_structure_survives(hostile_run):
    md = hostile_run.text("md")
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)  # as GitHub does
    found = tags(rendered)
    assert "script" not in found.opened and "img" not in found.opened
    assert not any(v and "javascript:" in v.lower() for _, v in found.attrs)
    assert found.opened.count("details") == found.closed.count("details")
    for line in md.splitlines():  # every table row keeps the columns of its header
        if line.startswith("| ") and "`clickhouse.dead_letter_queue`" in line:
            assert len(re.findall(r"(?<!\\)\|", line)) == 5, line
    assert len(md) <= 65_536


def test_personal_data_and_payload_secrets_never_reach_an_output(hostile_run):
    everything = "".join(p.read_text(errors="replace") for p in hostile_run.output.iterdir())
    for value in PERSONAL:
        assert value not in everything, value
    counts = hostile_run.report["redaction"]["counts"]
    assert counts.get("email", 0) >= 1 and counts.get("ip_address", 0) >= 1


def test_payload_values_are_masked_unless_asked_for(hostile_run, request):
    dlq = hostile_run.check("clickhouse.dead_letter_queue")
    examples = next(e for e in dlq["evidence"] if e["title"].startswith("Recent examples"))
    properties = " ".join(str(row[6]) for row in examples["rows"])
    assert '"plan"' in properties  # keys are always kept
    if "include-payloads" in request.node.callspec.params["hostile_run"]:
        assert '"pro"' in properties and "<personal-" in properties  # values shown, personal ones hidden
    else:
        assert '"pro"' not in properties
