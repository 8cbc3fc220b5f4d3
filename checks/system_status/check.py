"""The System Status page, read by machine instead of from a customer's screenshot.

From the live API (`GET /api/instance_status`, any user's personal API key on self-hosted; up to 60 s old,
PostHog caches it) or from a file given
with `--status-file` (the saved JSON or the page's text copied from the browser). Both become the same
normalised rows (parser.py) and the same findings (findings.py), which `posthog-doctor parse-status`
prints offline.
"""

from __future__ import annotations

from posthog_doctor.check import (
    Check,
    Context,
    ErrorKind,
    Evidence,
    Finding,
    Option,
    Outcome,
    Skip,
    Status,
    Table,
    Text,
    Undetermined,
    conclude,
)

from ..common.status_page import StatusPage, parse_status, status_from_api
from ..common.web import instance_status
from .findings import Thresholds, evaluate

# posthog/api/instance_status.py wraps the page in `@method_decorator(cache_page(60))` (2023 on, index id 204820566).
LIVE_NOTE = "PostHog caches this page for up to 60 s: a change made in the last minute may not show yet."
SOURCES = {"api": "/api/instance_status", "json": "a saved API response", "text": "a pasted page"}

NEEDS = (
    "needs the System Status page: a personal API key (--api-key or POSTHOG_PERSONAL_API_KEY) "
    "with the web app reachable, or a saved copy (--status-file FILE: the JSON of /api/instance_status or the "
    "page's text)"
)


class SystemStatus(Check):
    """Reads the System Status page (live with an API key, or a saved copy from `--status-file`) and reports what it
    shows wrong."""

    id = "system_status"
    title = "System Status page"
    uses = ("status_snapshot", "posthog_api")
    tags = ("posthog", "system_status")
    category = "Deployments/Maintenance"
    timeout = 20.0
    options = {name: Option(getattr(Thresholds, name), Thresholds.HELP[name]) for name in Thresholds.names()}

    def run(self, ctx: Context) -> Outcome:
        page, where = self._read(ctx)
        findings = evaluate(page, Thresholds(**{name: ctx.options[name] for name in Thresholds.names()}))
        where = f"{where} ({SOURCES.get(page.source, page.source)}{', partly unreadable' if page.problems else ''})"
        if not page.metrics:
            raise Undetermined(f"{where}: {headline(page, findings)}")
        summary = f"{where} — {headline(page, findings)}"
        return conclude(
            findings, summary, summary=summary, evidence=_evidence(page, findings), partial=bool(page.problems)
        )  # a paste the parser could only partly read

    @staticmethod
    def _read(ctx: Context) -> tuple[StatusPage, str]:
        """The page and where it came from: the file when one was given, else the live API."""
        file_probe = ctx.probe("status_snapshot")
        if file_probe.reachable:
            snapshot = ctx.status_snapshot
            page = parse_status(snapshot.text)
            if snapshot.truncated:
                page.problems.insert(0, f"{snapshot.name} is larger than the doctor reads; only its start was read")
            return page, f"file {snapshot.name}"
        if file_probe.error_kind not in (ErrorKind.NOT_CONFIGURED, ErrorKind.NOT_PROBED):
            raise Undetermined(f"the System Status file cannot be read: {file_probe.summary}")
        if not ctx.has_api_key:
            raise Skip(NEEDS)
        if not ctx.available("posthog_api"):
            raise Skip(f"{NEEDS}; the web app is unavailable: {ctx.probe('posthog_api').summary}")
        return status_from_api(instance_status(ctx)), "live System Status"


def _evidence(page: StatusPage, findings: list[Finding]) -> list[Evidence]:
    evidence: list[Evidence] = [
        Table("Findings", ["Status", "Finding"], [[f.status.value, f.text] for f in findings]),
        Table(
            "System Status rows",
            ["Key", "Metric", "Value"],
            [[m.key, m.label, m.value] for m in page.metrics],
            note=LIVE_NOTE if page.source == "api" else "",
        ),
    ]
    sizes = page.metric("clickhouse_table_sizes")
    if sizes is not None and sizes.subrows is not None and sizes.subrows.rows:
        evidence.append(
            Table(
                "ClickHouse table sizes",
                sizes.subrows.columns or ["Table", "Size", "Rows"],
                sizes.subrows.rows[:20],
                truncated=len(sizes.subrows.rows) > 20,
                total_rows=len(sizes.subrows.rows),
            )
        )
    if page.problems:
        evidence.append(Text("What could not be read", "\n".join(page.problems)))
    return evidence


def headline(page: StatusPage, findings: list[Finding]) -> str:
    """One line: how many problems and what they are (failures first), or that every row is healthy."""
    if not page.metrics:
        return "no System Status rows could be read: " + "; ".join(page.problems)
    bad = sorted((f for f in findings if f.bad), key=lambda f: -f.status.rank)
    if not bad:
        return f"every service System Status reports is healthy ({len(page.metrics)} rows)"
    fails = sum(f.status is Status.FAIL for f in bad)
    warns = len(bad) - fails
    counts = ", ".join(
        text for n, text in ((fails, f"{fails} failed"), (warns, f"{warns} warning{'s' * (warns > 1)}")) if n
    )
    return f"{counts}: " + "; ".join(f.text for f in bad)
