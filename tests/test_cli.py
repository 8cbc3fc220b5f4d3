"""The command line as a user meets it: real processes, exit codes, one-line errors, offline commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_process, target

EXTRA = Path(__file__).parent / "fixtures" / "extra_checks"


def test_version_is_fast_and_plain():
    done = run_process("--version")
    assert done.returncode == 0 and done.stdout.strip().startswith("posthog-doctor ")


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["run", "--clickhouse-url", "mysql://u:TopSecret99@h/db"], "does not start with clickhouse://"),
        (["run", "--config", "/nonexistent/doctor.yaml"], "cannot read config file"),
        (["run", "--only", "no.such.check"], "no check id, id prefix or tag matches"),
        (["run", "--timeout", "-3"], "timeout must be between"),
        (["render", "/nonexistent/report.json"], "cannot read"),
        (["frobnicate"], "invalid choice"),
        ([], ""),
    ],
)
def test_usage_errors_exit_4_with_one_line_and_no_traceback(args, message, tmp_path):
    done = run_process(*args, cwd=tmp_path)
    assert done.returncode == 4
    assert "Traceback" not in done.stderr and "TopSecret99" not in done.stderr
    if message:
        error_lines = [line for line in done.stderr.splitlines() if line.startswith("posthog-doctor: error:")]
        assert len(error_lines) == 1 and message in error_lines[0]


def test_run_writes_three_reports_and_prints_a_summary(tmp_path):
    out = tmp_path / "out"
    done = run_process(
        "run",
        *target(),
        "--checks-dir",
        str(EXTRA),
        "--only",
        "scripted",
        "-Oexample.b.mode=warn",
        "--output",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md"]
    assert "posthog-doctor" in done.stdout and "WARN" in done.stdout and "example.b: a warning" in done.stdout
    assert "  OK            example.a" in done.stderr  # non-TTY progress: one plain line per check


def test_quiet_prints_nothing_and_format_limits_the_files(tmp_path):
    out = tmp_path / "out"
    done = run_process(
        "run",
        *target(),
        "--checks-dir",
        str(EXTRA),
        "--only",
        "example.a",
        "--quiet",
        "--format",
        "json",
        "--output",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    assert [p.name for p in out.iterdir()] == ["report.json"]


def test_default_output_folder_is_in_the_current_directory(tmp_path):
    done = run_process("run", *target(), "--checks-dir", str(EXTRA), "--only", "example.a", "--quiet", cwd=tmp_path)
    assert done.returncode == 0
    assert (tmp_path / "posthog-doctor-report" / "report.json").is_file()


def test_unwritable_output_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run_process(
        "run", *target(), "--checks-dir", str(EXTRA), "--only", "example.a", "--output", str(blocker / "x")
    )
    assert done.returncode == 3 and "cannot create the output folder" in done.stderr and "Traceback" not in done.stderr


def test_checks_lists_every_check(tmp_path):
    done = run_process("checks", "--format", "json", "--checks-dir", str(EXTRA), cwd=tmp_path)
    data = json.loads(done.stdout)
    ids = {c["id"] for c in data["checks"]}
    assert {
        "clickhouse.connection",
        "postgres.connection",
        "redis.connection",
        "posthog.connection",
        "plugin_server.connection",
        "host.resources",
        "example.a",
    } <= ids
    text = run_process("checks", cwd=tmp_path).stdout
    assert "clickhouse.connection" in text and "[clickhouse?]" in text


def test_explain_shows_the_plan_and_every_query_without_connecting(tmp_path):
    done = run_process(
        "explain",
        *target(clickhouse="clickhouse://u:Hidden1234@10.255.255.1:9000/posthog"),
        "--checks-dir",
        str(EXTRA),
        "--only",
        "example",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert data["components"]["clickhouse"]["url"] == "clickhouse://u:***@10.255.255.1:9000/posthog"
    a = next(c for c in data["checks"] if c["id"] == "example.a")
    assert a["runs"] and a["queries"] == [{"component": "clickhouse", "name": "example", "text": "SELECT 1"}]
    assert a["options"] == {"mode": "ok", "sleep": 0.0, "text": "", "metric": 0.0, "rows": 1}
    assert "Hidden1234" not in done.stdout
    text = run_process("explain", *target(), "--checks-dir", str(EXTRA), "--only", "example.a", cwd=tmp_path).stdout
    assert "dry run" in text and "SELECT 1" in text
    left_out = next(line for line in text.splitlines() if line.startswith("Left out by --only/--skip:"))
    assert "example.b" in left_out and "example.a" not in left_out


def test_render_rebuilds_outputs_offline_from_json(tmp_path):
    out = tmp_path / "out"
    run_process(
        "run",
        *target(),
        "--checks-dir",
        str(EXTRA),
        "--only",
        "scripted",
        "-Oexample.c.mode=fail",
        "--output",
        str(out),
        "--quiet",
        cwd=tmp_path,
    )
    md = run_process("render", str(out / "report.json"), "--format", "md", cwd=tmp_path)
    assert md.returncode == 0 and md.stdout == (out / "report.md").read_text()
    html_file = tmp_path / "again.html"
    done = run_process("render", str(out / "report.json"), "--format", "html", "--output", str(html_file))
    assert done.returncode == 0 and html_file.read_text() == (out / "report.html").read_text()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"{not json", "is not valid JSON"),
        (b'{"schema_version": "9.0.0", "tool": {}, "generated_at": "x", "checks": []}', "schema 9.0.0 is not readable"),
        (b'{"hello": "world"}', "not a posthog-doctor report"),
        (b'{"schema_version": "1.0.0", "tool": {}, "generated_at": "x", "checks": [{"id": "a"}]}', "malformed report"),
    ],
)
def test_render_refuses_what_is_not_a_readable_report(tmp_path, content, message):
    path = tmp_path / "report.json"
    path.write_bytes(content)
    done = run_process("render", str(path))
    assert done.returncode == 4 and message in done.stderr and "Traceback" not in done.stderr
