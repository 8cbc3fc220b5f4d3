"""The System Status page, read by machine instead of from a customer's screenshot.

From the live API (`GET /api/instance_status`, a staff user's personal API key) or from a file given
with `--status-file` (the saved JSON or the page's text copied from the browser). Both become the same
normalised rows (parser.py) and the same findings (findings.py), which `posthog-doctor parse-status`
prints offline.
"""

from __future__ import annotations

from posthog_doctor.check import Check, Option, Skip, Undetermined, verdict
from posthog_doctor.model import Advice, Table, Text

from .._posthog_api import instance_status
from .findings import STATUS_RANK, Finding, Thresholds, evaluate, worst
from .parser import StatusPage, parse_status, status_from_api
from .report import SOURCES, headline

NEEDS = ("needs the System Status page: a staff user's personal API key (--api-key or POSTHOG_PERSONAL_API_KEY) "
         "with the web app reachable, or a saved copy (--status-file FILE: the JSON of /api/instance_status or the "
         "page's text)")


class SystemStatus(Check):
    """Reads the System Status page (live with an API key, or a saved copy from `--status-file`) and reports what it shows wrong."""

    id = "system_status"
    title = "System Status page"
    uses = ("status_snapshot", "posthog_api")
    tags = ("posthog", "system_status")
    category = "Deployments/Maintenance"
    timeout = 20.0
    options = {name: Option(getattr(Thresholds, name), Thresholds.HELP[name]) for name in Thresholds.names()}

    def run(self, ctx):
        page, where = self._read(ctx)
        findings = evaluate(page, Thresholds(**{name: ctx.options[name] for name in Thresholds.names()}))
        where = f"{where} ({SOURCES.get(page.source, page.source)}{', partly unreadable' if page.problems else ''})"
        if not page.metrics:
            raise Undetermined(f"{where}: {headline(page, findings)}")
        evidence = _evidence(page, findings)
        summary = f"{where} — {headline(page, findings)}"
        return verdict(worst(findings), summary, evidence=evidence, advice=_advice(findings),
                       partial=bool(page.problems))  # a paste the parser could only partly read

    @staticmethod
    def _read(ctx) -> tuple[StatusPage, str]:
        """The page and where it came from: the file when one was given, else the live API."""
        file_probe = ctx.probe("status_snapshot")
        if file_probe.reachable:
            snapshot = ctx.status_snapshot
            page = parse_status(snapshot.text)
            if snapshot.truncated:
                page.problems.insert(0, f"{snapshot.name} is larger than the doctor reads; only its start was read")
            return page, f"file {snapshot.name}"
        if file_probe.error_kind not in ("not_configured", "not_probed"):
            raise Undetermined(f"the System Status file cannot be read: {file_probe.summary}")
        if not ctx.has_api_key:
            raise Skip(NEEDS)
        if not ctx.available("posthog_api"):
            raise Skip(f"{NEEDS}; the web app is unavailable: {ctx.probe('posthog_api').summary}")
        return status_from_api(instance_status(ctx)), "live System Status"


def _evidence(page: StatusPage, findings: list[Finding]) -> list:
    evidence = [
        Table("Findings", ["Status", "Finding"], [[f.status, f.summary] for f in findings]),
        Table("System Status rows", ["Key", "Metric", "Value"], [[m.key, m.label, m.value] for m in page.metrics]),
    ]
    sizes = page.metric("clickhouse_table_sizes")
    if sizes is not None and sizes.subrows is not None and sizes.subrows.rows:
        evidence.append(Table("ClickHouse table sizes", sizes.subrows.columns or ["Table", "Size", "Rows"],
                              sizes.subrows.rows[:20], truncated=len(sizes.subrows.rows) > 20,
                              total_rows=len(sizes.subrows.rows)))
    if page.problems:
        evidence.append(Text("What could not be read", "\n".join(page.problems)))
    return evidence


def _advice(findings: list[Finding]) -> list[Advice]:
    """One piece of advice per problem, worst first, each text once."""
    bad = sorted((f for f in findings if f.status != "ok" and f.advice), key=lambda f: -STATUS_RANK[f.status])
    unique = {f.advice: f for f in bad}
    return [Advice(f.advice, commands=list(f.commands), links=list(f.links)) for f in unique.values()]
