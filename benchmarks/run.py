"""posthog-doctor at PostHog scale: `python -m benchmarks.run --scale 1` (see benchmarks/README.md).

Starts real ClickHouse, Postgres and Redis servers from the local binaries (tests/servers.py; or uses the
ones named by POSTHOG_DOCTOR_TEST_*_URL and *_ADMIN_URL), fills them with PostHog-shaped data at each scale
(benchmarks/data.py), then for each scale runs the whole doctor several times as a real process and the
hero's naive queries on the same data, and prints the figures as Markdown tables: per scale, and how each
figure grows from the first scale.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

from . import data
from .measure import DoctorRun, doctor_command, doctor_source, median, run_doctor, run_process, use_source
from .naive import GROUP_BYS, naive_dlq, naive_pg

DLQ_CHECK = "clickhouse.dead_letter_queue"
PG_VOLUME_CHECK = "postgres.event_volume"
# Disk per unit of scale (measured: ClickHouse 6.5 GB, Postgres 5 GB with indexes), room for the copies
# ClickHouse's merges keep until the parts they replace are removed, and what the benchmark leaves free.
DISK_PER_UNIT = 12e9
DISK_FOR_MERGES = 6.5e9  # per unit held: merges may rewrite the whole ClickHouse data
KEEP_FREE = 0.12


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        type=int,
        action="append",
        dest="scales",
        help="scale factor (repeatable; default: 1, 2 and 4 as far as the disk allows)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="doctor runs (and naive runs) per scale (default 5)")
    parser.add_argument("--json", metavar="FILE", help="also write every figure to this JSON file")
    parser.add_argument(
        "--before",
        metavar="DIR",
        type=Path,
        help="also measure the doctor of this checkout (e.g. `git archive` of an older commit) on the "
        "same data, and print before/after figures",
    )
    args = parser.parse_args(argv)
    scales = sorted(set(args.scales or [1, 2, 4]))

    print(machine_line())
    from tests.servers import provide

    servers = {}
    try:
        for kind in ("clickhouse", "postgres", "redis"):
            started = time.monotonic()
            servers[kind] = provide(kind)
            print(f"- {kind}: {servers[kind].origin} server ready in {time.monotonic() - started:.1f} s")
        if servers["postgres"].origin == "local":
            quiet_postgres(servers["postgres"].admin_url)
        ch = data.ch_admin(servers["clickhouse"].admin_url)
        print(
            f"- ClickHouse {ch.execute('SELECT version()')[0][0]}, "
            f"Postgres {pg_version(servers['postgres'].admin_url)}, doctor: {' '.join(doctor_command())}"
            + (f"; before: {args.before}" if args.before else "")
            + "\n"
        )
        figures = []
        for scale in scales:
            usage = shutil.disk_usage(servers["clickhouse"].details.get("folder", "/tmp"))
            have = (
                ch.execute(
                    f"SELECT sum(rows) FROM system.parts WHERE active AND database = '{data.DATABASE}' "
                    "AND table = 'events'"
                )[0][0]
                // data.CH_EVENTS_PER_UNIT
            )
            need = DISK_PER_UNIT * (scale - have) + DISK_FOR_MERGES * scale
            if usage.free - need < KEEP_FREE * usage.total:
                print(
                    f"## Scale {scale}: skipped\n\nIt needs about {need / 1e9:.0f} GB more disk; "
                    f"{usage.free / 1e9:.0f} GB of {usage.total / 1e9:.0f} GB are free, and the benchmark keeps "
                    f"{KEEP_FREE:.0%} of the disk free (the machine may be shared).\n"
                )
                continue
            figures.append(measure_scale(scale, servers, ch, args.repeat, args.before))
            print_scale(figures[-1])
        if len(figures) > 1:
            print_growth(figures)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    finally:
        for server in servers.values():
            server.stop()
    return 0


def machine_line() -> str:
    import psutil

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"# posthog-doctor benchmark\n\nMachine: {os.cpu_count()} cores ({cpu}), "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average at start {os.getloadavg()[0]:.2f}\n"
    )


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


def measure_scale(scale: int, servers: dict, ch, repeat: int, before: Path | None) -> dict:
    print(f"## Scale {scale}\n\nGenerating (server-side SQL):")
    started = time.monotonic()
    chd = data.ch_seed(ch, scale)
    pgd = data.pg_seed(servers["postgres"].url, scale)
    generated = time.monotonic() - started
    print(f"  data ready in {generated:.0f} s\n")
    ch_url = servers["clickhouse"].url.rsplit("/", 1)[0] + f"/{data.DATABASE}"
    urls = {"clickhouse": ch_url, "postgres": servers["postgres"].url, "redis": servers["redis"].url}
    fig = {
        "scale": scale,
        "generated_s": round(generated),
        "data": {
            "events": chd.events,
            "dlq": chd.dlq,
            "events_uncompressed": chd.events_bytes,
            "dlq_uncompressed": chd.dlq_bytes,
            "events_compressed": chd.events_compressed,
            "dlq_compressed": chd.dlq_compressed,
            "partitions": chd.events_partitions,
            "pg_events": pgd.events,
            "pg_table_bytes": pgd.table_bytes,
            "pg_total_bytes": pgd.total_bytes,
        },
    }
    fig.update(doctor_figures(urls, ch, servers, repeat))
    if before is not None:
        use_source(before)
        fig["before"] = doctor_figures(urls, ch, servers, repeat)
        use_source(None)
    naive = [naive_dlq(ch, data.DATABASE) for _ in range(repeat)]
    pg_naive = [naive_pg(servers["postgres"].url, servers["postgres"].admin_url) for _ in range(repeat)]
    fig.update(
        {
            "naive_dlq": {
                "wall_s": median(n.wall_s for n in naive),
                "rows": median(n.total("read_rows") for n in naive),
                "bytes": median(n.total("read_bytes") for n in naive),
                "server_ms": median(n.total("ms") for n in naive),
                "groupby_server_ms": median(n.total("ms", GROUP_BYS) for n in naive),
                "groupby_wall_s": median(n.total("wall_s", GROUP_BYS) for n in naive),
                "groupby_rows": median(n.total("read_rows", GROUP_BYS) for n in naive),
                "groupby_bytes": median(n.total("read_bytes", GROUP_BYS) for n in naive),
                "per_query": {
                    k: {f: median(n.queries[k][f] for n in naive) for f in ("read_rows", "read_bytes", "ms", "wall_s")}
                    for k in naive[0].queries
                },
            },
            "naive_pg": {
                "count_s": median(n.count_s for n in pg_naive),
                "per_month_s": median(n.per_month_s for n in pg_naive),
                "heap_count_s": median(n.heap_count_s for n in pg_naive),
                "count": pg_naive[0].count,
                "counters": {k: median(n.counters[k] for n in pg_naive) for k in pg_naive[0].counters},
            },
            "load_average": os.getloadavg()[0],
        }
    )
    return fig


def doctor_figures(urls: dict, ch, servers: dict, repeat: int) -> dict:
    """The doctor's own figures: `repeat` whole runs after a warm-up, then the DLQ and Postgres volume checks
    alone (no other check sharing the servers' cores), as compared with the hero's way."""
    version = [run_process(doctor_command() + ["--version"]).wall_s for _ in range(max(repeat, 5))]
    run_help = [run_process(doctor_command() + ["run", "--help"]).wall_s for _ in range(max(repeat, 5))]
    run_doctor(urls, ch, servers["postgres"].admin_url)  # warm-up: caches as on a second run
    runs: list[DoctorRun] = [run_doctor(urls, ch, servers["postgres"].admin_url) for _ in range(repeat)]
    dlq_alone = [run_doctor(urls, ch, None, ["--only", DLQ_CHECK]) for _ in range(repeat)]
    pg_alone = [
        run_doctor(urls, None, servers["postgres"].admin_url, ["--only", PG_VOLUME_CHECK]) for _ in range(repeat)
    ]
    dlq_table = "events_dead_letter_queue"
    return {
        "doctor": f"the checkout {doctor_source()}" if doctor_source() else " ".join(doctor_command()),
        "version_s": median(version),
        "help_s": median(run_help),
        "wall_s": median(r.process.wall_s for r in runs),
        "wall_all": [round(r.process.wall_s, 3) for r in runs],
        "rss_mb": max(r.process.max_rss_mb for r in runs),
        "exit_codes": sorted({r.process.code for r in runs}),
        "ch_queries": median(len(r.ch_queries) for r in runs),
        "ch_rows": median(r.ch_total("read_rows") for r in runs),
        "ch_bytes": median(r.ch_total("read_bytes") for r in runs),
        "ch_server_ms": median(r.ch_total("ms") for r in runs),
        "ch_peak_query_memory": max(max((q["memory"] for q in r.ch_queries), default=0) for r in runs),
        "checks": {
            c: {
                "ms": median(r.checks[c]["duration_ms"] for r in runs if c in r.checks),
                "status": runs[-1].checks[c]["status"],
                "rows": median(r.ch_for(c, "read_rows") for r in runs),
                "bytes": median(r.ch_for(c, "read_bytes") for r in runs),
            }
            for c in sorted(runs[0].checks)
        },
        "pg": {k: median(r.pg.get(k, 0) for r in runs) for k in runs[0].pg},
        "dlq": {
            "check_ms": median(r.checks[DLQ_CHECK]["duration_ms"] for r in dlq_alone),
            "in_run_ms": median(r.checks[DLQ_CHECK]["duration_ms"] for r in runs),
            "wall_s": median(r.process.wall_s for r in dlq_alone),
            "rows": median(r.ch_for(DLQ_CHECK, "read_rows", dlq_table) for r in dlq_alone),
            "bytes": median(r.ch_for(DLQ_CHECK, "read_bytes", dlq_table) for r in dlq_alone),
            "server_ms": median(r.ch_for(DLQ_CHECK, "ms", dlq_table) for r in dlq_alone),
            "all_rows": median(r.ch_total("read_rows") for r in dlq_alone),
            "all_server_ms": median(r.ch_total("ms") for r in dlq_alone),
            "summary": runs[-1].checks[DLQ_CHECK]["summary"],
        },
        "pg_volume_ms": median(r.checks[PG_VOLUME_CHECK]["duration_ms"] for r in pg_alone),
        "pg_volume_in_run_ms": median(r.checks[PG_VOLUME_CHECK]["duration_ms"] for r in runs),
        "pg_volume_counters": {k: median(r.pg.get(k, 0) for r in pg_alone) for k in pg_alone[0].pg},
        "pg_volume_summary": runs[-1].checks[PG_VOLUME_CHECK]["summary"],
    }


def _n(x) -> str:
    if x is None:
        return "—"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.2f}" if x < 100 else f"{x:,.0f}"
    return f"{int(x):,}"


def _size(b) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(b) < 1000 or unit == "TB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1000
    return ""


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def print_scale(f: dict) -> None:
    d = f["data"]
    uncompressed = d["events_uncompressed"] + d["dlq_uncompressed"]
    print(
        f"Data: ClickHouse events {d['events']:,} rows in {d['partitions']} monthly partitions "
        f"({_size(d['events_uncompressed'])} uncompressed, {_size(d['events_compressed'])} on disk), "
        f"dead letter queue {d['dlq']:,} rows ({_size(d['dlq_uncompressed'])}, {_size(d['dlq_compressed'])}); "
        f"Postgres posthog_event {d['pg_events']:,} rows ({_size(d['pg_table_bytes'])} heap, "
        f"{_size(d['pg_total_bytes'])} with indexes). Generated in {f['generated_s']} s.\n"
    )
    n = f["naive_dlq"]
    dlq = f["dlq"]
    pg = f["pg"]
    print(
        _table(
            ["Whole doctor (median of runs)", "value"],
            [
                [
                    "wall time, process start to exit",
                    f"{f['wall_s']:.2f} s (runs: {', '.join(f'{w:.2f}' for w in f['wall_all'])})",
                ],
                ["`posthog-doctor --version` / `run --help`", f"{f['version_s']:.3f} s / {f['help_s']:.3f} s"],
                ["peak memory of the doctor process (max RSS, worst run)", f"{f['rss_mb']:.0f} MB"],
                ["ClickHouse queries", _n(f["ch_queries"])],
                ["ClickHouse rows read", _n(f["ch_rows"])],
                [
                    "ClickHouse bytes read (uncompressed)",
                    f"{_size(f['ch_bytes'])} = {100 * f['ch_bytes'] / uncompressed:.2f}% of events + DLQ "
                    f"({_size(uncompressed)})",
                ],
                ["ClickHouse server time, all queries", f"{_n(f['ch_server_ms'])} ms"],
                ["ClickHouse peak memory of one query", _size(f["ch_peak_query_memory"])],
                [
                    "Postgres posthog_event: seq scans / tuples read by seq scans",
                    f"{_n(pg.get('seq_scan'))} / {_n(pg.get('seq_tup_read'))}",
                ],
                [
                    "Postgres posthog_event: heap blocks read+hit / index blocks read+hit",
                    (
                        f"{_n(pg.get('heap_blks_read', 0) + pg.get('heap_blks_hit', 0))} / "
                        f"{_n(pg.get('idx_blks_read', 0) + pg.get('idx_blks_hit', 0))}"
                    ),
                ],
                [
                    "Postgres posthog_event: index scans / tuples fetched",
                    f"{_n(pg.get('idx_scan'))} / {_n(pg.get('idx_tup_fetch'))}",
                ],
                ["exit codes", ", ".join(str(c) for c in f["exit_codes"])],
            ],
        )
    )
    print(
        _table(
            ["Check", "status", "duration ms (median)", "ClickHouse rows read", "ClickHouse bytes read"],
            [[c, v["status"], _n(v["ms"]), _n(v["rows"]), _size(v["bytes"])] for c, v in f["checks"].items()],
        )
    )
    print(
        _table(
            [
                "Dead letter queue",
                "doctor: the DLQ check alone",
                "PostHog's DLQ page (7 queries)",
                "the page without its list of raw events (6 queries)",
                "page / doctor",
            ],
            [
                [
                    "rows read on the DLQ",
                    _n(dlq["rows"]),
                    _n(n["rows"]),
                    _n(n["groupby_rows"]),
                    f"{n['rows'] / max(dlq['rows'], 1):.1f}x / {n['groupby_rows'] / max(dlq['rows'], 1):.1f}x",
                ],
                [
                    "bytes read on the DLQ",
                    _size(dlq["bytes"]),
                    _size(n["bytes"]),
                    _size(n["groupby_bytes"]),
                    f"{n['bytes'] / max(dlq['bytes'], 1):.1f}x / {n['groupby_bytes'] / max(dlq['bytes'], 1):.1f}x",
                ],
                [
                    "ClickHouse server time of the DLQ queries",
                    f"{_n(dlq['server_ms'])} ms",
                    f"{_n(n['server_ms'])} ms",
                    f"{_n(n['groupby_server_ms'])} ms",
                    (
                        f"{n['server_ms'] / max(dlq['server_ms'], 1):.1f}x / "
                        f"{n['groupby_server_ms'] / max(dlq['server_ms'], 1):.1f}x"
                    ),
                ],
                [
                    "time: the check's duration / the page's queries, client side",
                    f"{dlq['check_ms'] / 1000:.2f} s",
                    f"{n['wall_s']:.2f} s",
                    f"{n['groupby_wall_s']:.2f} s",
                    f"{n['wall_s'] * 1000 / max(dlq['check_ms'], 1):.1f}x / "
                    f"{n['groupby_wall_s'] * 1000 / max(dlq['check_ms'], 1):.1f}x",
                ],
                [
                    "answers",
                    (
                        "causes (location + normalised message) with exact counts, first and last seen, teams, top "
                        "events, hourly trend over 7 days, masked examples, advice; the DLQ's share of ingestion"
                    ),
                    "top 10 raw error strings, locations, days and tags; the 10 latest raw events",
                    "",
                    "",
                ],
            ],
        )
    )
    print(
        f"The DLQ check alone also read the events table for the DLQ's share of ingestion: "
        f"{_n(dlq['all_rows'])} rows and {_n(dlq['all_server_ms'])} ms of ClickHouse time in all; "
        f"{f['dlq']['wall_s']:.2f} s for the whole process. In the full run the check took "
        f"{dlq['in_run_ms'] / 1000:.2f} s (sharing the cores with the other checks).\n"
    )
    print(
        "PostHog's DLQ page, per query (median): "
        + "; ".join(f"{k} {v['wall_s'] * 1000:.0f} ms, {_n(v['read_rows'])} rows" for k, v in n["per_query"].items())
        + "\n"
    )
    p = f["naive_pg"]
    vc = f["pg_volume_counters"]
    print(
        _table(
            [
                "Postgres events",
                "doctor: postgres.event_volume alone",
                "`SELECT count(*) FROM posthog_event`",
                "count(*) / doctor",
            ],
            [
                [
                    "time (the check's duration / the statement, client side)",
                    f"{f['pg_volume_ms']:.0f} ms",
                    f"{p['count_s'] * 1000:.0f} ms",
                    f"{p['count_s'] * 1000 / max(f['pg_volume_ms'], 1):.1f}x",
                ],
                ["posthog_event sequential scans", _n(vc.get("seq_scan")), _n(p["counters"]["seq_scan"]), ""],
                [
                    "posthog_event heap blocks read+hit",
                    _n(vc.get("heap_blks_read", 0) + vc.get("heap_blks_hit", 0)),
                    _n(p["counters"]["heap_blks_read"] + p["counters"]["heap_blks_hit"]),
                    "",
                ],
                [
                    "posthog_event index blocks read+hit",
                    _n(vc.get("idx_blks_read", 0) + vc.get("idx_blks_hit", 0)),
                    _n(p["counters"]["idx_blks_read"] + p["counters"]["idx_blks_hit"]),
                    "",
                ],
                ["answer", f["pg_volume_summary"][:160], f"{p['count']:,} rows", ""],
            ],
        )
    )
    print(
        f"For comparison: the same count(*) reading the table itself (index-only scans switched off, as when "
        f"the visibility map is not current) took {p['heap_count_s'] * 1000:.0f} ms "
        f"({p['heap_count_s'] * 1000 / max(f['pg_volume_ms'], 1):.0f}x the check); events per month with a "
        f"GROUP BY, the answer the check gives, {p['per_month_s'] * 1000:.0f} ms "
        f"({p['per_month_s'] * 1000 / max(f['pg_volume_ms'], 1):.0f}x). In the full run the check took "
        f"{f['pg_volume_in_run_ms']:.0f} ms.\n"
    )
    if "before" in f:
        print_before_after(f)
    print(f"Load average after the scale: {f['load_average']:.2f}\n")


def print_before_after(f: dict) -> None:
    b = f["before"]
    rows = []

    def row(label, get, fmt=_n):
        old, new = get(b), get(f)
        rows.append([label, fmt(old), fmt(new), f"{old / new:.2f}x" if new else "—"])

    row("whole run, median wall s", lambda x: x["wall_s"])
    row("peak memory MB", lambda x: x["rss_mb"])
    row("`--version` s", lambda x: x["version_s"])
    row("ClickHouse rows read, whole run", lambda x: x["ch_rows"])
    row("ClickHouse bytes read, whole run", lambda x: x["ch_bytes"], _size)
    row("ClickHouse server time, whole run, ms", lambda x: x["ch_server_ms"])
    row("DLQ check in the whole run, ms", lambda x: x["dlq"]["in_run_ms"])
    row("DLQ check alone, ms", lambda x: x["dlq"]["check_ms"])
    row("DLQ check alone: rows read on the DLQ", lambda x: x["dlq"]["rows"])
    row("DLQ check alone: ClickHouse server time on the DLQ, ms", lambda x: x["dlq"]["server_ms"])
    row("ingestion check: rows read", lambda x: x["checks"]["clickhouse.ingestion"]["rows"])
    row("Postgres volume check alone, ms", lambda x: x["pg_volume_ms"])
    print("Before / after (the same data, the same session; before = " + b["doctor"] + "):\n")
    print(_table(["figure", "before", "after", "before / after"], rows))


def print_growth(figures: list[dict]) -> None:
    base = figures[0]
    rows = []

    def row(label, get, fmt=_n):
        values = [get(f) for f in figures]
        first = values[0] or 0
        rows.append([label] + [f"{fmt(v)} ({v / first:.2f}x)" if first else fmt(v) for v in values])

    row("ClickHouse events", lambda f: f["data"]["events"])
    row("DLQ rows", lambda f: f["data"]["dlq"])
    row("Postgres posthog_event rows", lambda f: f["data"]["pg_events"])
    row("whole run, median wall s", lambda f: f["wall_s"])
    row("peak memory MB", lambda f: f["rss_mb"])
    row("ClickHouse rows read", lambda f: f["ch_rows"])
    row("ClickHouse bytes read", lambda f: f["ch_bytes"], _size)
    for check in base["checks"]:
        if any(f["checks"].get(check, {}).get("ms") for f in figures):  # leave out checks skipped everywhere
            row(f"{check} ms", lambda f, c=check: f["checks"].get(c, {}).get("ms"))
    row("DLQ page wall s", lambda f: f["naive_dlq"]["wall_s"])
    row("Postgres count(*) ms", lambda f: f["naive_pg"]["count_s"] * 1000)
    print("## Growth across scales (value, and multiple of the first scale)\n")
    print(_table(["figure"] + [f"scale {f['scale']}" for f in figures], rows))


if __name__ == "__main__":
    sys.exit(main())
