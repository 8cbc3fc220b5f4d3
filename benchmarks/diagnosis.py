"""How long the diagnosis step takes on a 20-check report (the step runs after every run; it must cost
nothing measurable next to the checks).

    .venv/bin/python -m benchmarks.diagnosis

The report is shaped like a real sick deployment (a plugin server down, its consequences, a few warnings
and oks); the rules are the bundled ones, read once as in a run. Prints the median and the worst of 200 runs.
"""

from __future__ import annotations

import statistics
import time

from posthog_doctor.diagnosis import bundled_knowledge, diagnose
from posthog_doctor.model import CheckResult, FindingRecord, Status

RUNS = 200


def report() -> list[CheckResult]:
    fail, warn, ok = Status.FAIL, Status.WARN, Status.OK
    sick = [
        (
            "plugin_server.health",
            fail,
            "the plugin server is not running (connection refused), so no event is being ingested",
        ),
        ("plugin_server.connection", fail, "cannot reach plugin server: connection refused"),
        ("plugin_server.heartbeat", fail, "no heartbeat in the last 60 s, and its /_health failed too"),
        ("clickhouse.ingestion", fail, "no event arrived for 3 h 3 min"),
        ("posthog.preflight", fail, "Django reports down: the plugin server (plugins: false)"),
        ("system_status", fail, "live — 1 failed: the plugin server is down"),
        ("clickhouse.disk", warn, "disk default has 12% free"),
        ("host.resources", warn, "7.5 GiB memory, below the recommended 16 GiB"),
    ]
    healthy = [
        "clickhouse.connection",
        "clickhouse.schema",
        "clickhouse.dead_letter_queue",
        "clickhouse.event_volume",
        "postgres.connection",
        "postgres.health",
        "redis.connection",
        "celery.workers",
        "posthog.connection",
        "posthog.readiness",
        "deployment.analytics_database",
        "postgres.event_volume",
    ]
    results = [
        CheckResult(
            i,
            i,
            s,
            text,
            metrics={"ingestion_silence_minutes": 183.0},
            findings=[FindingRecord(s, text, "plugin_server_alive")],
        )
        for i, s, text in sick
    ]
    return results + [CheckResult(i, i, ok, f"{i} is fine") for i in healthy]


def main() -> None:
    results = report()
    bundled_knowledge()  # read once per process, as in a run
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        diagnosis = diagnose(results)
        times.append((time.perf_counter() - started) * 1000)
    print(
        f"diagnosis of a {len(results)}-check report: median {statistics.median(times):.2f} ms, "
        f"worst {max(times):.2f} ms over {RUNS} runs (target: under 20 ms); break at {diagnosis.break_stage}, "
        f"{len(diagnosis.causes)} cause(s)"
    )


if __name__ == "__main__":
    main()
