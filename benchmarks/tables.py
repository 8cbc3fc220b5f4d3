"""The benchmark's figures as Markdown tables: per scale, the flood, chdb, growth, and the targets of issue 16."""

from __future__ import annotations

import os
import platform
import shutil

from .figures import DLQ_CHECK

EXAMPLES_SHARE_TARGET = 5.0  # % of the digest's bytes
DIGEST_SPEEDUP_TARGET = 3.0
WHOLE_RUN_TARGET_S = 1.0
GROWTH_TARGET = 1.5
MEMORY_TARGET_MB = 150.0
FLOOD_DEADLINE_S = 30.0  # the DLQ check's default deadline (its `timeout`)


def machine_line() -> str:
    import psutil

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    disk = shutil.disk_usage("/tmp")
    return (
        f"# posthog-doctor benchmark\n\nMachine: {os.cpu_count()} cores ({cpu}), "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average at start {' / '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"disk {disk.free / 1e9:.0f} of {disk.total / 1e9:.0f} GB free\n"
    )


def n(x) -> str:
    if x is None:
        return "—"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.2f}" if x < 100 else f"{x:,.0f}"
    return f"{int(x):,}"


def size(b) -> str:
    if b is None:
        return "—"
    b = float(b)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(b) < 1000 or unit == "TB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1000
    return ""


def secs(x) -> str:
    return "—" if x is None else f"{x:.2f} s"


def ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a and b else "—"


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _doctors(f: dict) -> list[tuple[str, dict]]:
    return list(f.get("doctors", {}).items())


def print_scale(f: dict) -> None:
    d = f["data"]
    print(
        f"Data: ClickHouse events {d['events']:,} rows in {d['events_partitions']} monthly partitions "
        f"({size(d['events_bytes'])} uncompressed, {size(d['events_compressed'])} on disk), dead letter queue "
        f"{d['dlq']:,} rows ({size(d['dlq_bytes'])}, {size(d['dlq_compressed'])}); Postgres posthog_event "
        f"{d['pg_events']:,} rows ({size(d['pg_table_bytes'])} heap, {size(d['pg_total_bytes'])} with indexes). "
        f"Generated in {f['generated_s']} s. Rounds: {f['rounds']} ({f['disturbed_rounds']} disturbed), "
        f"load averages at their start: {', '.join(f'{x:.2f}' for x in f['loads'])}.\n"
    )
    print_whole(f)
    print_checks(f)
    print_dlq(f)
    print_pg(f)


def print_whole(f: dict) -> None:
    docs = _doctors(f)
    header = ["Whole run (median)"] + [label for label, _ in docs] + (["before / after"] if len(docs) > 1 else [])

    def row(label, get, fmt=n, compare=True):
        values = [get(x) for _, x in docs]
        cells = [fmt(v) for v in values]
        if len(docs) > 1:
            cells.append(ratio(values[1], values[0]) if compare and values[0] and values[1] else "")
        return [label, *cells]

    w = lambda x: x["whole"]  # noqa: E731
    rows = [
        row("wall time, process start to exit", lambda x: w(x).get("wall_s"), secs),
        row("the runs (s)", lambda x: ", ".join(f"{v:.2f}" for v in w(x).get("wall_all", [])), str, False),
        row("`--version` / `run --help`", lambda x: f"{x['version_s']:.3f} s / {x['help_s']:.3f} s", str, False),
        row("peak memory (max RSS, worst run)", lambda x: w(x).get("rss_mb"), lambda v: f"{v:.0f} MB"),
        row("exit codes", lambda x: ", ".join(map(str, w(x).get("exit_codes", []))), str, False),
        row(
            "ClickHouse statements / failed",
            lambda x: f"{n(w(x).get('ch_queries'))} / {n(w(x).get('ch_failed'))}",
            str,
            False,
        ),
        row("ClickHouse rows read", lambda x: w(x).get("ch_rows")),
        row("ClickHouse bytes decompressed", lambda x: w(x).get("ch_bytes"), size),
        row("ClickHouse read_bytes as the server reports it", lambda x: w(x).get("ch_read_bytes"), size),
        row("ClickHouse server time, all statements (ms)", lambda x: w(x).get("ch_server_ms")),
        row("ClickHouse CPU, all statements (ms)", lambda x: w(x).get("ch_cpu_ms")),
        row(
            "Postgres posthog_event: seq scans / heap blocks / index blocks",
            lambda x: (
                f"{n(w(x).get('pg', {}).get('seq_scan'))} / "
                f"{n(w(x).get('pg', {}).get('heap_blks_read', 0) + w(x).get('pg', {}).get('heap_blks_hit', 0))} / "
                f"{n(w(x).get('pg', {}).get('idx_blks_read', 0) + w(x).get('pg', {}).get('idx_blks_hit', 0))}"
            ),
            str,
            False,
        ),
    ]
    print(table(header, rows))
    for label, x in docs:
        if w(x).get("failed_queries"):
            print(f"Failed statements ({label}): " + "; ".join(w(x)["failed_queries"]) + "\n")


def print_checks(f: dict) -> None:
    docs = _doctors(f)
    after = docs[0][1]["whole"].get("checks", {})
    before = docs[1][1]["whole"].get("checks", {}) if len(docs) > 1 else {}
    ordered = sorted(after, key=lambda c: -(after[c]["ms"] or 0))
    rows = [
        [
            c,
            after[c]["status"],
            n(after[c]["ms"]),
            n(before.get(c, {}).get("ms")) if before else "",
            n(after[c]["rows"]),
            size(after[c]["bytes"]),
        ]
        for c in ordered
    ]
    print(
        table(["Check (whole run, after)", "status", "ms", "ms before", "ClickHouse rows", "bytes decompressed"], rows)
    )


def print_dlq(f: dict) -> None:
    docs = _doctors(f)
    page = f.get("page") or {}
    if not page:
        return
    header = ["Dead letter queue"] + [f"DLQ check alone, {label}" for label, _ in docs] + ["PostHog's DLQ page"]
    get = lambda x, k: x["dlq"].get(k)  # noqa: E731
    rows = [
        ["counting and digesting the table (server ms)"]
        + [n(get(x, "table_ms")) for _, x in docs]
        + [n(page["server_ms"])],
        ["... CPU (ms)"] + [n(get(x, "table_cpu_ms")) for _, x in docs] + [n(page["cpu_ms"])],
        ["... rows read"] + [n(get(x, "table_rows")) for _, x in docs] + [n(page["rows"])],
        ["... bytes decompressed"] + [size(get(x, "table_bytes")) for _, x in docs] + [size(page["bytes"])],
        ["page / doctor, server time"] + [ratio(page["server_ms"], get(x, "table_ms")) for _, x in docs] + [""],
        ["the check's duration / the page, client side"]
        + [secs((get(x, "check_ms") or 0) / 1000) for _, x in docs]
        + [secs(page["wall_s"])],
        ["page / check"] + [ratio(page["wall_s"] * 1000, get(x, "check_ms")) for _, x in docs] + [""],
        ["examples: rows, bytes decompressed (read_bytes)"]
        + [
            f"{n(get(x, 'examples_rows'))}, {size(get(x, 'examples_bytes'))} ({size(get(x, 'examples_read_bytes'))})"
            for _, x in docs
        ]
        + [""],
        ["examples / the digest's bytes"]
        + [f"{100 * (get(x, 'examples_bytes') or 0) / max(get(x, 'digest_bytes') or 1, 1):.1f}%" for _, x in docs]
        + [""],
        ["peak memory of the process"] + [f"{get(x, 'rss_mb'):.0f} MB" for _, x in docs] + [""],
        ["failed statements"] + [n(get(x, "failed")) for _, x in docs] + [n(page["failed"])],
    ]
    print(table(header, rows))
    for label, x in docs:
        qs = x["dlq"].get("queries", {})
        print(
            f"The DLQ check alone ({label}), per statement (median server ms / rows / bytes decompressed): "
            + "; ".join(f"{k} {n(v['ms'])} ms, {n(v['read_rows'])} rows, {size(v['bytes'])}" for k, v in qs.items())
            + f". Summary: {x['dlq'].get('summary', '')[:240]}\n"
        )
    print(
        "PostHog's DLQ page, per query (median server ms / rows / bytes decompressed): "
        + "; ".join(
            f"{k} {n(v['ms'])} ms, {n(v['read_rows'])} rows, {size(v['bytes'])}" for k, v in page["per_query"].items()
        )
        + "\n"
    )


def print_pg(f: dict) -> None:
    docs = _doctors(f)
    c = f.get("pg_count") or {}
    if not c:
        return
    rows = [
        ["time"] + [f"{x['pg'].get('check_ms', 0):.0f} ms" for _, x in docs] + [f"{c['count_s'] * 1000:.0f} ms"],
        ["posthog_event seq scans"]
        + [n(x["pg"].get("counters", {}).get("seq_scan")) for _, x in docs]
        + [n(c["counters"]["seq_scan"])],
        ["answer"] + [x["pg"].get("summary", "")[:120] for _, x in docs] + [f"{c['count']:,} rows"],
    ]
    print(
        table(
            ["Postgres events"] + [f"postgres.event_volume alone, {label}" for label, _ in docs] + ["`count(*)`"], rows
        )
    )
    print(
        f"For comparison: count(*) reading the table itself {c['heap_count_s'] * 1000:.0f} ms; events per month with "
        f"a GROUP BY {c['per_month_s'] * 1000:.0f} ms.\n"
    )


def print_flood(f: dict) -> None:
    if f.get("skipped"):
        return
    docs = _doctors(f)
    print(f"Flood: {f['rows']:,} rows added in {f['generated_s']} s; the DLQ now holds {f['data']['dlq']:,} rows.\n")
    page = f.get("page") or {}
    rows = []
    for label, x in docs:
        whole, dlq = x["whole"], x["dlq"]
        chk = whole.get("checks", {}).get(DLQ_CHECK, {})
        rows.append(
            [
                label,
                secs(whole.get("wall_s")),
                f"{n(chk.get('ms'))} ms, {chk.get('status')}",
                f"{n(dlq.get('check_ms'))} ms",
                size(dlq.get("table_bytes")),
                f"{whole.get('rss_mb', 0):.0f} / {dlq.get('rss_mb', 0):.0f} MB",
                dlq.get("summary", "")[:300],
            ]
        )
    print(
        table(
            [
                "Flood",
                "whole run",
                "DLQ check in it",
                "DLQ check alone",
                "DLQ table bytes decompressed",
                "peak memory",
                "what it said",
            ],
            rows,
        )
    )
    if page:
        print(
            f"PostHog's DLQ page on the flood: {secs(page['wall_s'])}, {n(page['rows'])} rows, {size(page['bytes'])}.\n"
        )


def print_chdb(f: dict) -> None:
    docs = _doctors(f)
    page = f.get("page") or {}
    print(
        f"chdb {f['seeded'].get('version')}, scale {f['scale']:g}: "
        + ", ".join(f"{t} {v[0]:,} rows ({size(v[1])}, {size(v[2])} on disk)" for t, v in f["seeded"]["tables"].items())
        + f". Generated in {f['generated_s']} s. The engine runs inside the doctor's process, so its peak memory "
        "includes ClickHouse's own.\n"
    )
    rows = []
    for label, x in docs:
        whole, dlq = x["whole"], x["dlq"]
        rows.append(
            [
                label,
                secs(whole.get("wall_s")),
                f"{whole.get('rss_mb', 0):.0f} MB",
                f"{n(dlq.get('check_ms'))} ms",
                f"{n(dlq.get('io', {}).get('rows_read'))} rows, {size(dlq.get('io', {}).get('bytes_read'))}",
                ratio(page.get("wall_s", 0) * 1000, dlq.get("check_ms")),
            ]
        )
    print(
        table(
            ["chdb", "whole run", "peak memory", "DLQ check alone", "its reads (chdb statistics)", "page / check"], rows
        )
    )
    if page:
        print(
            f"PostHog's DLQ page on chdb: {secs(page['wall_s'])}; "
            + "; ".join(f"{k} {v['wall_s'] * 1000:.0f} ms" for k, v in page["per_query"].items())
            + "\n"
        )


def print_growth(figures: list[dict]) -> None:
    base = figures[0]
    rows = []

    def row(label, get, fmt=n):
        values = [get(f) for f in figures]
        first = values[0] or 0
        rows.append([label] + [f"{fmt(v)} ({v / first:.2f}x)" if first and v is not None else fmt(v) for v in values])

    after = lambda f: f["doctors"]["after"]  # noqa: E731
    row("ClickHouse events", lambda f: f["data"]["events"])
    row("DLQ rows", lambda f: f["data"]["dlq"])
    row("Postgres posthog_event rows", lambda f: f["data"]["pg_events"])
    row("whole run, median wall s", lambda f: after(f)["whole"]["wall_s"])
    row("peak memory MB", lambda f: after(f)["whole"]["rss_mb"])
    row("ClickHouse rows read", lambda f: after(f)["whole"]["ch_rows"])
    row("ClickHouse bytes decompressed", lambda f: after(f)["whole"]["ch_bytes"], size)
    for check in sorted(after(base)["whole"]["checks"], key=lambda c: -(after(base)["whole"]["checks"][c]["ms"] or 0))[
        :8
    ]:
        row(f"{check} ms", lambda f, c=check: after(f)["whole"]["checks"].get(c, {}).get("ms"))
    row("DLQ page wall s", lambda f: f["page"]["wall_s"])
    print("## Growth across scales (after; value, and multiple of the first scale)\n")
    print(table(["figure"] + [f"scale {f['scale']:g}" for f in figures], rows))


def print_targets(everything: dict) -> None:
    scales = everything.get("scales") or []
    if not scales:
        return
    top = max(scales, key=lambda f: f["scale"])
    one = next((f for f in scales if f["scale"] == 1.0), top)
    low = min(scales, key=lambda f: f["scale"])
    a = one["doctors"]["after"]
    rows = []

    def add(target, value, met):
        rows.append([target, value, "met" if met else "**missed**"])

    wall = a["whole"]["wall_s"]
    add(f"whole run ≤ {WHOLE_RUN_TARGET_S} s median at scale {one['scale']:g}", secs(wall), wall <= WHOLE_RUN_TARGET_S)
    if top is not low:
        g = top["doctors"]["after"]["whole"]["wall_s"] / low["doctors"]["after"]["whole"]["wall_s"]
        add(
            f"whole run at {top['scale'] / low['scale']:g}x the data ≤ {GROWTH_TARGET}x "
            f"(scale {low['scale']:g} → {top['scale']:g})",
            f"{g:.2f}x",
            g <= GROWTH_TARGET,
        )
    share = 100 * (a["dlq"]["examples_bytes"] or 0) / max(a["dlq"]["digest_bytes"] or 1, 1)
    add(f"examples ≤ {EXAMPLES_SHARE_TARGET}% of the digest's bytes", f"{share:.1f}%", share <= EXAMPLES_SHARE_TARGET)
    speed = (one["page"]["server_ms"] or 0) / max(a["dlq"]["table_ms"] or 1, 1)
    add(
        f"DLQ digest ≥ {DIGEST_SPEEDUP_TARGET}x faster than the page (server time)",
        f"{speed:.2f}x",
        speed >= DIGEST_SPEEDUP_TARGET,
    )
    flood = everything.get("flood") or {}
    if flood and not flood.get("skipped"):
        fd = flood["doctors"]["after"]["dlq"]
        ok = (fd.get("check_ms") or 1e9) / 1000 <= FLOOD_DEADLINE_S and fd.get("status") != "error"
        add(
            f"flood: the DLQ check inside its {FLOOD_DEADLINE_S:g} s deadline, exact or an honest partial",
            f"{(fd.get('check_ms') or 0) / 1000:.1f} s, {fd.get('status')}{', partial' if fd.get('partial') else ''}",
            ok,
        )
    peaks = [f["doctors"]["after"]["whole"]["rss_mb"] for f in scales] + [
        f["doctors"]["after"]["dlq"]["rss_mb"] for f in scales
    ]
    if flood and not flood.get("skipped"):
        peaks += [flood["doctors"]["after"]["whole"]["rss_mb"], flood["doctors"]["after"]["dlq"]["rss_mb"]]
    add(
        f"peak memory ≤ {MEMORY_TARGET_MB:g} MB at every scale and the flood (18.16)",
        f"{max(peaks):.0f} MB",
        max(peaks) <= MEMORY_TARGET_MB,
    )
    print("## Targets (after)\n")
    print(table(["target", "measured", ""], rows))
