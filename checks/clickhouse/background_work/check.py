"""The check itself: reading, judging and reporting (the package's docstring says what it looks at)."""

from __future__ import annotations

from posthog_doctor.check import Advice, Check, Context, Finding, Option, Outcome, Query, Skip, Table, conclude, units

from ...common import docs
from .._common import as_int
from .._literals import masked
from .._system_tables import SYSTEM_COLUMNS, UPTIME, server_version, system_columns, uptime

MUTATIONS = Query.from_file(__file__, "mutations.sql", "clickhouse")
MUTATIONS_BASIC = Query.from_file(__file__, "mutations_basic.sql", "clickhouse")
MERGES = Query.from_file(__file__, "merges.sql", "clickhouse")
FAIL_COLUMNS = {"latest_failed_part", "latest_fail_time", "latest_fail_reason"}


def kill_mutation_advice(stuck: list[dict]) -> Advice:
    statements = [
        f"KILL MUTATION WHERE database = '{m['database']}' AND table = '{m['table']}' "
        f"AND mutation_id = '{m['mutation_id']}'"
        for m in stuck[:5]
    ]
    return Advice(
        "A mutation that fails on a part is retried forever and blocks the table's later mutations. Read its "
        "failure reason (or ClickHouse's error log) and fix the cause; if the mutation is not needed or can never "
        "succeed, kill it (ClickHouse 19.x+; on older servers stop ClickHouse and move the table's "
        "mutation_N.txt out of its data folder), then run it again once the cause is fixed.",
        commands=[
            "SELECT database, table, mutation_id, command, parts_to_do FROM system.mutations WHERE is_done = 0",
            *statements,
        ],
        links=[docs.CH_MUTATIONS, docs.CH_KILL_MUTATION],
    )


MERGE_ADVICE = Advice(
    "A merge that runs for hours is rewriting a very large part or is starved of CPU and disk throughput: parts "
    "pile up behind it (too many parts refuses inserts). Check the host's CPU and disk, and whether a mutation "
    "is rewriting the table (system.mutations).",
    commands=[
        "SELECT database, table, elapsed, progress, num_parts, result_part_name FROM system.merges "
        "ORDER BY elapsed DESC"
    ],
    links=[docs.CH_MERGES, docs.CLICKHOUSE_RUNBOOK],
)


class BackgroundWork(Check):
    """Mutations that do not finish (with the failure reason where the server records it) and merges running for
    hours."""

    id = "clickhouse.background_work"
    title = "ClickHouse background work: stuck mutations, long merges"
    needs = ("clickhouse",)
    tags = ("clickhouse", "performance")
    category = "Performance"
    timeout = 15.0
    options = {
        "stuck_mutation_hours": Option(6.0, "warn about a mutation still unfinished after this many hours"),
        "long_merge_hours": Option(2.0, "warn about a merge running for longer than this many hours"),
    }
    queries = (SYSTEM_COLUMNS, UPTIME, MUTATIONS, MUTATIONS_BASIC, MERGES)

    def run(self, ctx: Context) -> Outcome:
        columns = system_columns(ctx)
        if "mutations" not in columns and "merges" not in columns:
            raise Skip(f"ClickHouse {server_version(ctx)} has neither system.mutations nor system.merges")
        _, now = uptime(ctx)
        with_reasons = columns.get("mutations", set()) >= FAIL_COLUMNS
        mutations = ctx.clickhouse.query(MUTATIONS if with_reasons else MUTATIONS_BASIC).dicts()
        merges = ctx.clickhouse.query(MERGES).dicts() if "merges" in columns else []
        o = ctx.options
        stuck = [
            m
            for m in mutations
            if str(m.get("latest_fail_reason") or "") or now - as_int(m["created"]) >= o["stuck_mutation_hours"] * 3600
        ]
        long_merges = [m for m in merges if float(m["elapsed"]) >= o["long_merge_hours"] * 3600]
        kill = kill_mutation_advice(stuck)
        findings = [self._mutation_finding(m, now, with_reasons, kill) for m in stuck]
        findings += [
            Finding.warn(
                f"a merge of {m['database']}.{m['table']} has run for {units.duration(float(m['elapsed']))} "
                f"({float(m['progress']) * 100:.0f}% done, {as_int(m['num_parts'])} parts, "
                f"{units.size(as_int(m['total_size_bytes_compressed']))})",
                MERGE_ADVICE,
                key="merge",
            )
            for m in long_merges
        ]
        reason_note = (
            ""
            if with_reasons
            else f"ClickHouse {server_version(ctx)} does not record why a mutation fails (system.mutations has no "
            "latest_fail_reason): look for the mutation id in clickhouse-server.err.log"
        )
        evidence = [
            Table(
                "Unfinished mutations (system.mutations)",
                ["Table", "Mutation", "Command", "Created", "Age", "Parts to do", "Failing part", "Failure reason"],
                [
                    [
                        f"{m['database']}.{m['table']}",
                        m["mutation_id"],
                        masked(m["command"], 200),
                        units.utc(as_int(m["created"])),
                        units.duration(now - as_int(m["created"])),
                        as_int(m["parts_to_do"]),
                        m.get("latest_failed_part", "not recorded") if with_reasons else "not recorded",
                        masked(m.get("latest_fail_reason"), 300) if with_reasons else "not recorded",
                    ]
                    for m in mutations
                ],
                note=reason_note,
            ),
            Table(
                "Merges running now (system.merges)",
                ["Table", "Elapsed", "Progress %", "Parts", "Result part", "Size"],
                [
                    [
                        f"{m['database']}.{m['table']}",
                        units.duration(float(m["elapsed"])),
                        round(float(m["progress"]) * 100, 1),
                        as_int(m["num_parts"]),
                        m["result_part_name"],
                        units.size(as_int(m["total_size_bytes_compressed"])),
                    ]
                    for m in merges
                ],
                note="" if "merges" in columns else "this server has no system.merges",
            ),
        ]
        longest = max((float(m["elapsed"]) for m in merges), default=0.0)
        healthy = (
            f"{len(mutations)} mutation{'s' if len(mutations) != 1 else ''} in progress, none stuck; "
            f"{len(merges)} merge{'s' if len(merges) != 1 else ''} running"
            + (f", the longest for {units.duration(longest)}" if merges else "")
        )
        return conclude(
            findings,
            healthy,
            evidence=evidence,
            metrics={
                "mutations_unfinished": len(mutations),
                "mutations_stuck": len(stuck),
                "merge_longest_seconds": round(longest, 1),
            },
        )

    @staticmethod
    def _mutation_finding(m: dict, now: int, with_reasons: bool, advice: Advice) -> Finding:
        where, age = f"{m['database']}.{m['table']}", units.duration(now - as_int(m["created"]))
        command = masked(str(m["command"]).strip().removeprefix("(").removesuffix(")"), 120)
        reason = str(m.get("latest_fail_reason") or "")
        if reason:  # the facts first: a finding is cut at 300 characters, and the reason is the long part
            return Finding.warn(
                f"mutation {m['mutation_id']} on {where} ({command[:80]}) fails on part "
                f"{m.get('latest_failed_part') or '?'} (created {age} ago, {as_int(m['parts_to_do'])} parts to do): "
                f"{masked(reason, 120)}",
                advice,
                key="mutation",
            )
        why = "" if with_reasons else " (this server does not record why)"
        return Finding.warn(
            f"mutation {m['mutation_id']} on {where} ({command}) has not finished after {age}, "
            f"{as_int(m['parts_to_do'])} parts to do{why}",
            advice,
            key="mutation",
        )
