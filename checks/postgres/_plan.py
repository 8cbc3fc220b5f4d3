"""Asking the planner instead of the table: row estimates from EXPLAIN, and a guard against scans.

`EXPLAIN` without ANALYZE plans a statement and runs nothing, so it costs catalog lookups (and a few
index pages, when the planner checks the current ends of an index) however big the table is. The same plan tells whether a statement would read the table sequentially, which is
how a guarded statement proves it is safe on a table of a hundred million rows before it is sent.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from posthog_doctor.check import Query


class WouldScan(Exception):
    """The planner chose a sequential scan for a statement the doctor promised would not scan."""


def explained(query: Query) -> Query:
    """The EXPLAIN form of `query`, declared beside it so `posthog-doctor explain` shows it too."""
    return Query(query.component, f"{query.name} (plan)", f"EXPLAIN (FORMAT JSON) {query.text}")


def explain(ctx, query: Query, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The top plan node of `query`, planned with `params` (values known, so estimates are specific)."""
    result = ctx.postgres.query(explained(query), params)
    document = result.scalar()
    if isinstance(document, str):  # a driver that hands back json as text
        document = json.loads(document)
    return document[0]["Plan"]


def estimated_rows(ctx, query: Query, params: dict[str, Any] | None = None) -> float:
    """The planner's estimate of how many rows `query` returns (it never estimates below 1)."""
    return float(explain(ctx, query, params)["Plan Rows"])


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def sequential_scans(plan: dict[str, Any]) -> list[str]:
    """Relations the plan reads with a (possibly parallel) sequential scan."""
    return [n.get("Relation Name", "?") for n in nodes(plan) if n.get("Node Type") == "Seq Scan"]


def run_if_no_scan(ctx, query: Query, params: dict[str, Any] | None = None):
    """Run `query` only if its plan reads no table sequentially; raise WouldScan otherwise.

    The only gap is a plan change in the milliseconds between the two (an ANALYZE finishing), and the
    statement_timeout every doctor statement carries bounds even that.
    """
    scanned = sequential_scans(explain(ctx, query, params))
    if scanned:
        raise WouldScan(f"the planner would scan {', '.join(sorted(set(scanned)))} to answer {query.name}")
    return ctx.postgres.query(query, params)
