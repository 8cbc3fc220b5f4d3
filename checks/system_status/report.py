"""A System Status page and its findings as one summary line, as JSON and as Markdown.

Used by the system_status check (its summary) and by `posthog-doctor parse-status` (its whole output),
so a pasted page and the live API read the same everywhere.
"""

from __future__ import annotations

from typing import Any

from posthog_doctor.render import STATUS_ICON, STATUS_LABEL, cell, md, md_code, safe_url

from .findings import STATUS_RANK, Finding, worst
from .parser import StatusPage

SOURCES = {"api": "/api/instance_status", "json": "a saved API response", "text": "a pasted page"}


def headline(page: StatusPage, findings: list[Finding]) -> str:
    """One line: how many problems and what they are (failures first), or that every row is healthy."""
    if not page.metrics:
        return "no System Status rows could be read: " + "; ".join(page.problems)
    bad = sorted((f for f in findings if f.status != "ok"), key=lambda f: -STATUS_RANK[f.status])
    if not bad:
        return f"every service System Status reports is healthy ({len(page.metrics)} rows)"
    fails = sum(f.status == "fail" for f in bad)
    warns = len(bad) - fails
    counts = ", ".join(text for n, text in ((fails, f"{fails} failed"), (warns, f"{warns} warning{'s' * (warns > 1)}")) if n)
    return f"{counts}: " + "; ".join(f.summary for f in bad)


def to_json(page: StatusPage, findings: list[Finding], name: str) -> dict[str, Any]:
    return {
        "file": name,
        "source": page.source,
        "overall": worst(findings) if page.metrics else "error",
        "summary": headline(page, findings),
        "findings": [f.to_dict() for f in findings],
        "problems": list(page.problems),
        "metrics": [m.to_dict() for m in page.metrics],
    }


def to_markdown(data: dict[str, Any]) -> str:
    """The output of `to_json` (after redaction) as a ticket-ready Markdown summary, problems first."""
    overall, metrics, problems = data["overall"], data["metrics"], data["problems"]
    lines = [f"## {STATUS_ICON[overall]} System Status: {STATUS_LABEL[overall]} · {md(data['file'])} "
             f"({SOURCES.get(data['source'], data['source'])}, {len(metrics)} rows)", ""]
    lines += [f"> ⚠️ {md(problem)}" for problem in problems] + ([""] if problems else [])
    for f in sorted(data["findings"], key=lambda f: -STATUS_RANK[f["status"]]):
        lines.append(f"- {STATUS_ICON[f['status']]} **{STATUS_LABEL[f['status']]}** {md(f['summary'])}")
        if f["advice"]:
            links = "".join(f" [docs]({safe_url(link)})" for link in f["links"] if safe_url(link))
            lines.append(f"  → {md(f['advice'])}{links}")
            lines += [f"  {md_code(command)}" for command in f["commands"]]
    lines += ["", f"<details><summary>Rows ({len(metrics)})</summary>", "", "| Key | Metric | Value |", "|---|---|---|"]
    lines += [f"| {md_code(m['key'])} | {md(m['label'])} | {md(cell(m['value']))} |" for m in metrics]
    lines += ["", "</details>", ""]
    return "\n".join(lines)
