"""PostHog's System Status page as data: the live API's JSON, a saved copy, or the page's text pasted from a
browser, all read into the same normalised rows. Pure: reading never raises and never connects.

    from ..common.status_page import parse_status
    page = parse_status(text)              # a saved /api/instance_status JSON or the page's pasted text
    page.value("analytics_database")       # "ClickHouse" / "Postgres" / None
"""

from .parser import Metric, StatusPage, Subrows, catalog, parse_status, status_from_api

__all__ = ["Metric", "StatusPage", "Subrows", "catalog", "parse_status", "status_from_api"]
