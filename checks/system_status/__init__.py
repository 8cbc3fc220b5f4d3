"""PostHog's System Status page as data, and what it says is wrong.

    from posthog_doctor.checks.system_status import parse_status, status_from_api
    page = parse_status(text)              # a saved /api/instance_status JSON or the page's pasted text
    page.value("analytics_database")       # "ClickHouse" / "Postgres" / None

parser.py reads the page (pure, never raises), findings.py judges it, check.py is the `system_status` check
(which `posthog-doctor parse-status` runs offline on a file).
"""

from .findings import Thresholds, evaluate
from .parser import Metric, StatusPage, Subrows, parse_status, status_from_api

__all__ = ["Metric", "StatusPage", "Subrows", "Thresholds", "evaluate", "parse_status", "status_from_api"]
