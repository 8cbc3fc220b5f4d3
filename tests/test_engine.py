"""The engine: discovery, selection, the plan, deadlines, crashes, concurrency and exit codes.

These use the scripted checks in tests/fixtures/extra_checks (behaviour chosen by options), so every
outcome is deterministic; no component is contacted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from posthog_doctor.config import ConfigError, load_settings
from posthog_doctor.plan import make_plan, select
from posthog_doctor.registry import discover, resolve_options
from posthog_doctor.runner import run_plan
from tests.conftest import target

EXTRA = Path(__file__).parent / "fixtures" / "extra_checks"
BROKEN = Path(__file__).parent / "fixtures" / "broken_checks"
SCRIPTED = ["--checks-dir", str(EXTRA), "--only", "scripted"]


def scripted_state():
    return next(m.RUNNING for name, m in sys.modules.items() if name.endswith("_scripted") and hasattr(m, "RUNNING"))


def test_discovery_finds_bundled_dir_and_broken_checks():
    registry = discover([EXTRA, BROKEN])
    assert {"clickhouse.connection", "host.resources", "example.a", "example.needs_clickhouse"} <= set(registry.checks)
    assert registry.origins["clickhouse.connection"] == "bundled"
    assert registry.origins["example.a"].endswith("scripted.py")
    assert [p.source for p in registry.problems] == [str(BROKEN / "broken.py")]
    assert "this extension is broken" in registry.problems[0].reason


def test_missing_checks_dir_is_a_usage_error(tmp_path):
    with pytest.raises(ConfigError, match="not a folder"):
        discover([tmp_path / "nope"])


def test_selection_by_id_prefix_and_tag():
    registry = discover([EXTRA])

    def ids(only, skip=()):
        return [c.id for c in select(registry, list(only), list(skip))[0]]

    assert ids(["example.a"]) == ["example.a"]
    assert ids(["example"]) == ["example.a", "example.b", "example.c", "example.d", "example.needs_clickhouse"]
    assert ids(["special"]) == ["example.c"]
    assert ids(["example"], ["scripted"]) == ["example.needs_clickhouse"]
    assert "clickhouse.connection" in ids(["clickhouse"]) and "example.needs_clickhouse" not in ids(["clickhouse"])
    with pytest.raises(ConfigError, match="--only 'nothing-like-this': no check"):
        select(registry, ["nothing-like-this"], [])


def test_plan_skips_checks_whose_component_is_switched_off():
    registry = discover([EXTRA])
    s = load_settings({"clickhouse_url": "off", "only": ["example.needs_clickhouse", "example.a"]}, {})
    plan = make_plan(registry, s)
    by_id = {e.check.id: e for e in plan.entries}
    assert not by_id["example.needs_clickhouse"].runs
    assert "disabled" in by_id["example.needs_clickhouse"].reason
    assert by_id["example.a"].runs and plan.components == []
    assert "host.resources" in plan.deselected


def test_options_are_validated_against_each_checks_declaration():
    registry = discover([EXTRA])
    assert resolve_options(registry, {"example.a": {"sleep": "0.5"}})["example.a"]["sleep"] == 0.5
    with pytest.raises(ConfigError, match="check example.a has no option 'slep'"):
        resolve_options(registry, {"example.a": {"slep": 1}})
    with pytest.raises(ConfigError, match="unknown check 'example.z'"):
        resolve_options(registry, {"example.z": {"x": 1}})
    with pytest.raises(ConfigError, match="example.a.sleep: expected a number"):
        resolve_options(registry, {"example.a": {"sleep": "soon"}})


@pytest.mark.parametrize(
    "modes, exit_code, overall",
    [
        ({"a": "ok", "b": "ok"}, 0, "ok"),
        ({"a": "ok", "b": "skip"}, 0, "ok"),
        ({"a": "ok", "b": "warn"}, 1, "warn"),
        ({"a": "warn", "b": "error"}, 3, "error"),
        ({"a": "error", "b": "fail"}, 2, "fail"),
    ],
)
def test_exit_codes_follow_the_worst_status(doctor, modes, exit_code, overall):
    opts = [f"-Oexample.{k}.mode={v}" for k, v in modes.items()]
    result = doctor("run", *target(), "--checks-dir", str(EXTRA), "--only", "example.a", "--only", "example.b", *opts)
    assert result.code == exit_code
    assert result.report["overall"] == overall


def test_a_crash_becomes_a_one_line_error_and_the_others_still_run(doctor):
    result = doctor("run", *target(), *SCRIPTED, "-Oexample.a.mode=crash", "-Oexample.b.mode=wrong_type")
    crashed, wrong = result.check("example.a"), result.check("example.b")
    assert crashed["status"] == "error"
    assert crashed["summary"] == "the check crashed (ZeroDivisionError: boom with a second line)"
    assert wrong["status"] == "error" and "instead of an outcome" in wrong["summary"]
    assert result.check("example.c")["status"] == "ok" and result.check("example.d")["status"] == "ok"
    assert result.code == 3 and "Traceback" not in result.stdout + result.stderr


def test_a_hanging_check_costs_its_own_deadline_not_the_run(doctor):
    # example.a hangs for an hour; its 5 s limit ends it, and the other checks finish normally.
    started = time.monotonic()
    result = doctor("run", *target(), *SCRIPTED, "-Oexample.a.mode=hang", "-Oexample.b.sleep=0.2")
    elapsed = time.monotonic() - started
    hung = result.check("example.a")
    assert hung["status"] == "error" and hung["timed_out"] is True
    assert "did not finish within its 5 s limit" in hung["summary"]
    assert 4.5 <= hung["duration_ms"] / 1000 < 7
    assert result.check("example.b")["status"] == "ok"
    assert elapsed < 8, f"the run took {elapsed:.1f} s"


def test_the_run_deadline_stops_everything_left(doctor):
    started = time.monotonic()
    result = doctor(
        "run",
        *target(),
        *SCRIPTED,
        "--timeout",
        "1.5",
        "--concurrency",
        "1",
        "-Oexample.a.mode=hang",
        "-Oexample.b.mode=hang",
    )
    elapsed = time.monotonic() - started
    checks = {c["id"]: c for c in result.report["checks"]}
    assert checks["example.a"]["timed_out"] and "--timeout of 1.5 s" in checks["example.a"]["summary"]
    not_started = [c for c in checks.values() if c["summary"].startswith("not started")]
    assert len(not_started) == 3 and all(c["status"] == "error" for c in not_started)
    assert result.report["run"]["deadline_hit"] is True
    assert elapsed < 4, f"the run took {elapsed:.1f} s with a 1.5 s deadline"


def test_concurrency_is_bounded(doctor):
    sleeps = [f"-Oexample.{x}.sleep=0.3" for x in "abcd"]
    doctor("run", *target(), *SCRIPTED, "--concurrency", "2", *sleeps)
    assert scripted_state()["peak"] == 2
    doctor("run", *target(), *SCRIPTED, "--concurrency", "4", *sleeps)
    assert scripted_state()["peak"] == 4


def test_a_check_needing_a_down_component_is_skipped_with_the_reason(doctor, tmp_path):
    from tests.http_server import closed_port

    port = closed_port()
    result = doctor(
        "run",
        *target(clickhouse=f"clickhouse://127.0.0.1:{port}/posthog"),
        "--checks-dir",
        str(EXTRA),
        "--only",
        "example.needs_clickhouse",
        "--only",
        "clickhouse.connection",
    )
    skipped = result.check("example.needs_clickhouse")
    assert skipped["status"] == "skipped"
    assert skipped["summary"].startswith("ClickHouse unavailable: connection refused")
    assert result.check("clickhouse.connection")["status"] == "fail"
    assert result.code == 2


def test_a_broken_extension_is_reported_as_an_error_result(doctor):
    result = doctor("run", *target(), "--checks-dir", str(EXTRA), "--checks-dir", str(BROKEN), "--only", "example.a")
    loaded = [c for c in result.report["checks"] if c["id"].startswith("extension.")]
    assert len(loaded) == 1 and loaded[0]["status"] == "error"
    assert "this extension is broken" in loaded[0]["summary"]
    assert result.code == 3


def test_results_are_bounded_in_size(doctor):
    huge = "x" * 20_000
    result = doctor("run", *target(), *SCRIPTED, "--only", "example.a", f"-Oexample.a.text={huge}")
    check = result.check("example.a")
    assert len(check["summary"]) < 400
    text = next(e for e in check["evidence"] if e["type"] == "text")
    assert text["truncated"] and len(text["text"]) < 4_100 and text["text"].endswith("chars]")
    assert len(check["evidence"][0]["rows"][0][0]) < 600


def test_run_plan_records_timings_and_the_run(tmp_path):
    registry = discover([EXTRA])
    s = load_settings({"only": ["example.a", "example.b"], "options": ["example.a.sleep=0.2"]}, {})
    report = run_plan(make_plan(registry, s), s, resolve_options(registry, s.check_options))
    a = next(c for c in report.checks if c.id == "example.a")
    assert 200 <= a.duration_ms < 1500
    assert report.run["timeout_s"] == 60 and report.run["deadline_hit"] is False
    assert report.run["duration_ms"] >= a.duration_ms


def test_shared_facts_are_computed_once_and_read_alike():
    from posthog_doctor.context import RunState

    state = RunState("run", {}, {})
    calls = []
    assert state.shared("k", lambda: calls.append(1) or {"v": 1}) == {"v": 1}
    assert state.shared("k", lambda: calls.append(1) or {"v": 2}) == {"v": 1}  # the cached value, not a wrapper
    assert calls == [1]

    def broken():
        raise ValueError("no answer")

    for _ in range(2):  # the failure is cached too, and every reader sees it
        with pytest.raises(ValueError, match="no answer"):
            state.shared("bad", broken)
