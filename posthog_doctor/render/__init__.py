"""Rendering: the report model to JSON, Markdown, HTML and the terminal summary. Never connects anywhere.

JSON is the model itself. Every human-readable output is a Jinja2 template in `templates/`; the
filters here make untrusted strings safe for each format (HTML autoescaping; Markdown escaping that no
customer string can break out of).
"""

from __future__ import annotations

import functools
import json
import numbers
import re
from typing import Any

from .. import units
from ..model import Report, Status

TEMPLATES = {
    "md": "report.md.j2",
    "html": "report.html.j2",
    "text": "terminal.txt.j2",
    "diff": "diff.md.j2",
    "status": "status.md.j2",
}
STATUS_LABEL = {"ok": "OK", "warn": "WARN", "fail": "FAIL", "error": "COULD NOT RUN", "skipped": "SKIPPED"}
STATUS_ICON = {"ok": "✅", "warn": "⚠️", "fail": "❌", "error": "❓", "skipped": "⏭️"}
# Only what can start formatting mid-line; escaping more (dots, dashes) leaves backslashes in Slack.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_URL_UNSAFE = set(" ()<>\"'`[]{}|\\^")


# GitHub rejects a comment longer than this; the Markdown report must paste as one comment.
MARKDOWN_LIMIT = 65_536
SUMMARY_FINDINGS = 5  # findings listed in the ticket summary; the rest are one click below
DETAIL_LEVELS = ("full", "short", "minimal")  # how much evidence the Markdown carries, tried in order


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return _markdown(report)
    return _template(fmt).render(report=report, checks=report.ordered_checks(), Status=Status)


def warm(formats: list[str]) -> None:
    """Compile the templates `formats` need now, so rendering them later costs only the rendering (the run
    calls this in a thread while the checks wait on their servers)."""
    env = _environment()
    for fmt in formats:
        if fmt in TEMPLATES:
            env.get_template(TEMPLATES[fmt])
        if fmt in ("md", "status"):
            env.get_template("_pieces.md.j2")  # imported by the template when it renders
        if fmt == "html":
            env.get_template("report.css")  # included by the template when it renders


def render_diff(diff, fmt: str) -> str:
    """A comparison of two reports as JSON or Markdown."""
    if fmt == "json":
        return json.dumps(diff.to_dict(), indent=2, ensure_ascii=False) + "\n"
    return _template("diff").render(diff=diff)


def _template(fmt: str):
    return _environment().get_template(TEMPLATES[fmt])


def _markdown(report: Report, limit: int = MARKDOWN_LIMIT) -> str:
    """The Markdown report at the most detail that fits in one GitHub comment."""
    text = ""
    for detail in DETAIL_LEVELS:
        text = _template("md").render(
            report=report,
            checks=report.ordered_checks(),
            Status=Status,
            detail=detail,
            summary_findings=SUMMARY_FINDINGS,
            limit=limit,
        )
        if len(text) <= limit:
            return text
    # Still too long (hundreds of checks): cut at a line, then close any section left open.
    note = "\n\n*Cut to fit a GitHub comment: the full report is in report.html and report.json.*\n"
    cut = text[: limit - len(note) - 200].rsplit("\n", 1)[0]
    unclosed = cut.count("<details>") - cut.count("</details>")
    return cut + "\n\n</details>" * max(unclosed, 0) + note


def md(value: Any) -> str:
    """Inline Markdown text: one line, every control character escaped, HTML tags neutralised."""
    text = " ".join(str(value).split()).replace("&", "&amp;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return "\\" + text if text.startswith(("#", "+", "-", "=")) else text


def md_code(value: Any) -> str:
    """An inline code span that no backtick in the value can close early."""
    text = " ".join(str(value).split()).replace("<", "‹").replace(">", "›") or " "
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_block(value: Any) -> str:
    """A fenced code block for multi-line text (an example payload); the fence outgrows any inside."""
    text = str(value)
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`{3,}", text)), default=0) + 1)
    return f"{fence}text\n{text}\n{fence}"


def safe_url(value: Any) -> str:
    """An http(s) link with the characters that could end a Markdown link or HTML attribute encoded;
    anything else (javascript:, data:, relative, non-ASCII) becomes empty."""
    text = str(value).strip()
    if not text.isascii() or not re.match(r"^https?://\S+$", text, re.I):
        return ""
    return "".join(f"%{ord(ch):02X}" if ch in _URL_UNSAFE else ch for ch in text)


def human_bytes(n: Any) -> str:
    try:
        return units.size(float(n))
    except (TypeError, ValueError):
        return str(n)


def human_ms(ms: Any) -> str:
    try:
        return units.milliseconds(float(ms))
    except (TypeError, ValueError):
        return str(ms)


def cell(value: Any) -> str:
    """A table cell's display text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value)
    return str(value)


def counts_line(report: Report) -> str:
    counts = report.counts
    labels = (("fail", "failed"), ("error", "could not run"), ("warn", "warning"), ("ok", "ok"), ("skipped", "skipped"))
    parts = [f"{counts[s]} {label}{'s' if s == 'warn' and counts[s] > 1 else ''}" for s, label in labels if counts[s]]
    return ", ".join(parts) or "no checks ran"


@functools.lru_cache(maxsize=1)
def _environment():
    from importlib.resources import files

    import jinja2

    from .pipeline import pipeline_svg
    from .svg import bar_chart

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(files("posthog_doctor.templates"))),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=md,
        md_code=md_code,
        md_block=md_block,
        safe_url=safe_url,
        human_bytes=human_bytes,
        human_ms=human_ms,
        cell=cell,
        bar_chart=bar_chart,
        pipeline_svg=pipeline_svg,
    )
    env.globals.update(STATUS_LABEL=STATUS_LABEL, STATUS_ICON=STATUS_ICON, counts_line=counts_line)
    env.tests["number"] = is_number
    return env


_NUMBER_TYPES = (int, float, bool)
_OTHER_TYPES = (str, type(None), list, dict)


def is_number(value: Any) -> bool:
    """Jinja's `is number` (isinstance of numbers.Number), without the abstract-class check for the types a
    report holds: every table cell of the HTML report asks it."""
    kind = type(value)
    if kind in _NUMBER_TYPES:
        return True
    if kind in _OTHER_TYPES:
        return False
    return isinstance(value, numbers.Number)
