"""posthog-doctor at PostHog scale: `python -m benchmarks.run --before <commit>` (see benchmarks/README.md).

Installs the doctor from this tree (and from `--before`) into fresh venvs, the way the README tells customers;
starts every component the doctor reads (benchmarks/stack.py); fills ClickHouse and Postgres with PostHog-shaped
data at each scale (benchmarks/data.py); then, per scale, runs interleaved rounds of the whole doctor, the DLQ
check alone, PostHog's DLQ page queries, the Postgres volume check and `count(*)`; then a DLQ flood on top of
the largest scale; then the same on the current ClickHouse engine in-process (chdb). Prints every figure as
Markdown, and the targets of issue 16 met or missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import chdb_side, data, figures, install, stack, tables
from .measure import Doctor, run_doctor, run_process
from .naive import naive_dlq, naive_pg
from .rounds import Rounds, run_rounds

# Disk per unit of data (a quarter of scale 1; measured: ClickHouse 1.6 GB, Postgres 1.5 GB), the copies
# ClickHouse's merges keep until the parts they replace are removed, and what the benchmark leaves free.
DISK_PER_UNIT = 3.2e9
DISK_FOR_MERGES = 1.7e9  # per unit held: merges may rewrite the whole ClickHouse data
DISK_FLOOD = 7e9  # 10M DLQ rows, about 5 GB on disk, and the merges that join its parts
DISK_CHDB_PER_UNIT = 2.4e9
KEEP_FREE = 0.15
DEFAULT_SCALES = (0.25, 0.5, 1.0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", type=float, action="append", dest="scales", help="scale (repeatable; default 0.25, 0.5, 1)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="undisturbed rounds per scale (default 5)")
    parser.add_argument("--before", metavar="COMMIT|DIR", help="also measure this commit (or checkout) as 'before'")
    parser.add_argument("--no-flood", action="store_true", help="skip the DLQ flood")
    parser.add_argument("--flood-rows", type=int, default=data.FLOOD_ROWS, help="rows of the flood (default 10M)")
    parser.add_argument(
        "--chdb-scale", type=float, default=None, help="scale on chdb (default: the largest that fits; 0: skip)"
    )
    parser.add_argument(
        "--max-load",
        type=float,
        default=2 * (os.cpu_count() or 2) + 0.5,
        help="a round starting above this 1-minute load average is disturbed",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every figure to this JSON file")
    parser.add_argument(
        "--tiny", action="store_true", help="a thousandth of the data, one round: proves the script runs"
    )
    args = parser.parse_args(argv)
    scales = sorted(set(args.scales or DEFAULT_SCALES))
    if args.tiny:
        data.shrink(1000)
        args.flood_rows = min(args.flood_rows, data.FLOOD_ROWS // 1000)
        args.repeat, args.max_load = 1, 1e9
        global DISK_PER_UNIT, DISK_FOR_MERGES, DISK_FLOOD, DISK_CHDB_PER_UNIT
        DISK_PER_UNIT, DISK_FOR_MERGES, DISK_FLOOD, DISK_CHDB_PER_UNIT = 3.2e6, 1.7e6, 7e6, 2.4e6

    print(tables.machine_line())
    work = Path(tempfile.mkdtemp(prefix="phd-bench-"))
    everything: dict = {"scales": [], "machine": platform.platform(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    servers = None
    try:
        started = time.monotonic()
        doctors = install.doctors(args.before, work, extras=("chdb-core",))
        which = ", ".join(f"{d.label} ({d.source})" for d in doctors)
        print(f"- installed {which} into fresh venvs in {time.monotonic() - started:.0f} s")
        servers = stack.start()
        print(f"- components: {servers.describe()}")
        quiet_postgres(servers.servers["postgres"].admin_url)
        ch = data.ch_admin(servers.servers["clickhouse"].admin_url)
        postgres = pg_version(servers.servers["postgres"].admin_url)
        print(f"- ClickHouse {ch.execute('SELECT version()')[0][0]}, Postgres {postgres}\n")
        for scale in scales:
            if not fits(ch, scale, servers):
                continue
            fig = measure_scale(scale, servers, doctors, ch, args)
            everything["scales"].append(fig)
            tables.print_scale(fig)
        if len(everything["scales"]) > 1:
            tables.print_growth(everything["scales"])
        if not args.no_flood and everything["scales"]:
            args.flood_scale = everything["scales"][-1]["scale"]
            everything["flood"] = measure_flood(servers, doctors, ch, args)
            tables.print_flood(everything["flood"])
        if args.chdb_scale != 0:
            everything["chdb"] = measure_chdb(servers, doctors, work, args)
            if everything["chdb"]:
                tables.print_chdb(everything["chdb"])
        tables.print_targets(everything)
    finally:
        if servers is not None:
            servers.stop()
        shutil.rmtree(work, ignore_errors=True)
        if args.json:
            Path(args.json).write_text(json.dumps(everything, indent=1, default=str))
    return 0


def quiet_postgres(admin_url: str) -> None:
    """The test server logs every statement (for the safety tests); a benchmark does not need that."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET log_statement = 'none'")
        conn.execute("SELECT pg_reload_conf()")


def pg_version(admin_url: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def free_after(need: float, folder: str) -> tuple[bool, str]:
    usage = shutil.disk_usage(folder)
    ok = usage.free - need >= KEEP_FREE * usage.total
    return ok, (
        f"it needs about {need / 1e9:.0f} GB more; {usage.free / 1e9:.0f} GB of {usage.total / 1e9:.0f} GB are free "
        f"and the benchmark keeps {KEEP_FREE:.0%} of the disk free (the machine is shared)"
    )


def fits(ch, scale: float, servers) -> bool:
    units = data.units_of(scale)
    rows = ch.execute(
        f"SELECT sum(rows) FROM system.parts WHERE active AND database = '{data.DATABASE}' AND table = 'events'"
    )[0][0]
    held = int(rows or 0) // data.CH_EVENTS_PER_UNIT
    ok, why = free_after(
        DISK_PER_UNIT * max(0, units - held) + DISK_FOR_MERGES * units,
        servers.servers["clickhouse"].details.get("folder", "/tmp"),
    )
    if not ok:
        print(f"## Scale {scale:g}: skipped\n\n{why}.\n")
    return ok


def doctor_kinds(servers, doctors: list[Doctor], ch, ch_url: str, pg_admin: str | None) -> dict:
    """The measurements of one round: each doctor's whole run, its DLQ check alone, its Postgres volume check
    alone, `--version` and `run --help`."""
    args, env = servers.doctor_args(ch_url), servers.doctor_env()
    env = {**install_env(), **env}
    kinds = {}
    for d in doctors:
        kinds[f"whole:{d.label}"] = lambda d=d: run_doctor(d, args, env, ch, pg_admin)
        kinds[f"dlq:{d.label}"] = lambda d=d: run_doctor(d, args, env, ch, None, ["--only", figures.DLQ_CHECK])
        kinds[f"version:{d.label}"] = lambda d=d: run_process(d.command("--version"), env=env)
        kinds[f"help:{d.label}"] = lambda d=d: run_process(d.command("run", "--help"), env=env)
    return kinds


def install_env() -> dict[str, str]:
    """The environment a customer's shell gives the doctor: this one without the benchmark's own additions."""
    from . import ORIGINAL_ENVIRON

    return {k: v for k, v in ORIGINAL_ENVIRON.items() if not k.startswith(("POSTHOG_DOCTOR_", "CLICKHOUSE_", "KAFKA_"))}


def measure_scale(scale: float, servers, doctors: list[Doctor], ch, args) -> dict:
    print(f"## Scale {scale:g}\n\nGenerating (server-side SQL):")
    started = time.monotonic()
    chd = data.ch_seed(ch, scale)
    pgd = data.pg_seed(servers.servers["postgres"].url, scale)
    generated = time.monotonic() - started
    print(f"  data ready in {generated:.0f} s\n")
    ch_url = servers.servers["clickhouse"].url.rsplit("/", 1)[0] + f"/{data.DATABASE}"
    pg = servers.servers["postgres"]
    kinds = doctor_kinds(servers, doctors, ch, ch_url, pg.admin_url)
    env = {**install_env(), **servers.doctor_env()}
    for d in doctors:
        kinds[f"pg:{d.label}"] = lambda d=d: run_doctor(
            d, servers.doctor_args(ch_url), env, None, pg.admin_url, ["--only", figures.PG_VOLUME_CHECK]
        )
    kinds["page"] = lambda: naive_dlq(ch, data.DATABASE)
    kinds["pgcount"] = lambda: naive_pg(pg.url, pg.admin_url)
    live = data.Live(ch, scale)
    rounds = run_rounds(kinds, args.repeat, args.max_load, lambda: (servers.refresh(), live.tick()))
    return {
        "scale": scale,
        "generated_s": round(generated),
        "data": dict(vars(chd), pg_events=pgd.events, pg_table_bytes=pgd.table_bytes, pg_total_bytes=pgd.total_bytes),
        **collect(rounds, doctors),
        "page": figures.page(rounds),
        "pg_count": figures.pg_count(rounds),
    }


def collect(rounds: Rounds, doctors: list[Doctor]) -> dict:
    return {
        "rounds": rounds.rounds,
        "disturbed_rounds": rounds.disturbed_rounds,
        "loads": [round(x, 2) for x in rounds.loads],
        "doctors": {
            d.label: {
                "source": d.source,
                "whole": figures.whole(rounds, d.label),
                "dlq": figures.dlq_alone(rounds, d.label),
                "pg": figures.pg_alone(rounds, d.label),
                "version_s": figures.simple(rounds, f"version:{d.label}"),
                "help_s": figures.simple(rounds, f"help:{d.label}"),
            }
            for d in doctors
        },
    }


def measure_flood(servers, doctors: list[Doctor], ch, args) -> dict:
    ok, why = free_after(DISK_FLOOD, servers.servers["clickhouse"].details.get("folder", "/tmp"))
    if not ok:
        print(f"## DLQ flood: skipped\n\n{why}.\n")
        return {"skipped": why}
    print(f"## DLQ flood: {args.flood_rows:,} more rows in the last 24 h\n")
    started = time.monotonic()
    data.flood_seed(ch, args.flood_rows)
    generated = time.monotonic() - started
    ch_url = servers.servers["clickhouse"].url.rsplit("/", 1)[0] + f"/{data.DATABASE}"
    kinds = doctor_kinds(servers, doctors, ch, ch_url, servers.servers["postgres"].admin_url)
    kinds = {k: v for k, v in kinds.items() if k.startswith(("whole:", "dlq:"))}
    kinds["page"] = lambda: naive_dlq(ch, data.DATABASE)
    live = data.Live(ch, args.flood_scale)
    rounds = run_rounds(
        kinds, max(min(3, args.repeat), args.repeat - 2), args.max_load, lambda: (servers.refresh(), live.tick())
    )
    fig = {"rows": args.flood_rows, "generated_s": round(generated), "data": vars(data.ch_describe(ch))}
    fig.update(collect(rounds, doctors))
    fig["page"] = figures.page(rounds)
    data.flood_remove(ch)
    return fig


def measure_chdb(servers, doctors: list[Doctor], work: Path, args) -> dict:
    """The same rounds on chdb: the doctors get `--clickhouse-url chdb://...` (the engine runs inside them), PostHog's
    DLQ page runs in a process of its own. Postgres, Redis, Kafka and the rest are the same servers as above."""
    folder = work / "chdb"
    scale = args.chdb_scale
    if scale is None:
        scale = next(
            (s for s in (1.0, 0.5, 0.25) if free_after(DISK_CHDB_PER_UNIT * data.units_of(s), str(work))[0]), 0.0
        )
        if not scale:
            print(f"## chdb: skipped\n\n{free_after(DISK_CHDB_PER_UNIT, str(work))[1]}.\n")
            return {}
    print(f"## The current ClickHouse engine (chdb), scale {scale:g}\n\nGenerating (in-process SQL):")
    python = sys.executable  # the benchmark's environment: the seeding uses the test helpers' DDL
    started = time.monotonic()
    shrunk = ["1000"] if args.tiny else []
    seeded = chdb_side.in_process("seed", str(folder), str(scale), *shrunk, python=python)
    generated = time.monotonic() - started
    print(f"  data ready in {generated:.0f} s\n")
    # Postgres holds the 18.16 benchmark's largest scale: the chdb runs read it as it is.
    kinds = doctor_kinds(servers, doctors, None, chdb_side.url(folder), None)
    kinds = {k: v for k, v in kinds.items() if k.startswith(("whole:", "dlq:"))}
    pages: list = []

    def page():
        result = chdb_side.in_process("page", str(folder), "1", python=python)[0]
        pages.append(result)
        return _PageResult(result)

    kinds["page"] = page
    rounds = run_rounds(kinds, max(min(3, args.repeat), args.repeat - 2), args.max_load, servers.refresh)
    fig = {"scale": scale, "generated_s": round(generated), "seeded": seeded}
    fig.update(collect(rounds, doctors))
    fig["page"] = figures.page(rounds)
    shutil.rmtree(folder, ignore_errors=True)
    return fig


class _PageResult:
    """A chdb page run in the shape naive.NaiveDlq has (no query log in chdb: times are client-side, and bytes
    are what chdb's statistics report)."""

    def __init__(self, result: dict):
        self.wall_s = result["wall_s"]
        self.queries = {
            k: dict(q, ms=q["wall_s"] * 1000, cpu_ms=0, read_bytes=q["bytes"]) for k, q in result["queries"].items()
        }
        self.failed = 0

    def total(self, key: str, only=None) -> float:
        return sum(q[key] for k, q in self.queries.items() if only is None or k in only)


if __name__ == "__main__":
    sys.exit(main())
