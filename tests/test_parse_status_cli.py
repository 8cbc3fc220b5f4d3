"""`posthog-doctor parse-status FILE`: a customer's System Status page turned into rows and findings, offline."""

from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import run_process
from tests.service_support import STATUS_FIXTURES

DEGRADED = [
    "api_new_degraded.json",
    "paste_new_degraded_chrome.txt",
    "paste_new_degraded_firefox.txt",
    "paste_new_degraded_slack.txt",
    "paste_new_degraded_markdown.md",
]


@pytest.fixture
def no_network(monkeypatch):
    """parse-status must not connect anywhere: any attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("parse-status tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def parse_json(doctor, path) -> tuple[int, dict]:
    result = doctor("parse-status", str(path), "--format", "json")
    return result.code, json.loads(result.stdout)


def status_check(report: dict) -> dict:
    """The system_status check's result in a parse-status report (the model every output is rendered from)."""
    return next(c for c in report["checks"] if c["id"] == "system_status")


def evidence(check: dict, title: str) -> dict | None:
    return next((e for e in check["evidence"] if e["title"] == title), None)


def rows_by_key(check: dict) -> dict[str, list]:
    return {row[0]: row for row in evidence(check, "System Status rows")["rows"]}


def test_the_api_response_and_every_paste_of_the_same_state_give_the_same_findings(doctor, no_network):
    outputs = {name: parse_json(doctor, STATUS_FIXTURES / name) for name in DEGRADED}
    codes = {code for code, _ in outputs.values()}
    findings = {name: status_check(data)["findings"] for name, (_, data) in outputs.items()}
    assert codes == {2}
    reference = findings["api_new_degraded.json"]
    assert [(f["key"], f["status"]) for f in reference if f["status"] != "ok"] == [
        ("plugin_server_alive", "fail"),
        ("dead_letter_queue_ratio_ok", "fail"),
        ("object_storage_healthy", "fail"),
        ("last_event_ingested", "warn"),
        ("clickhouse_disk_0", "fail"),
        ("redis_memory", "warn"),
    ]
    for name, found in findings.items():
        assert found == reference, name
    # The same headline after the source; summaries are clipped at a fixed length, so compare what both kept.
    said = {
        name: status_check(data)["summary"].split(" — ", 1)[1].split("… [+")[0] for name, (_, data) in outputs.items()
    }
    paste, api = said["paste_new_degraded_chrome.txt"], said["api_new_degraded.json"]
    assert len(paste) > 200 and (paste.startswith(api) or api.startswith(paste))


def test_json_output_holds_the_normalised_rows(doctor, no_network):
    code, data = parse_json(doctor, STATUS_FIXTURES / "paste_new_degraded_chrome.txt")
    check = status_check(data)
    assert data["target"]["status_file"] == "paste_new_degraded_chrome.txt" and data["overall"] == "fail"
    assert check["summary"].startswith("file paste_new_degraded_chrome.txt (a pasted page) — 4 failed, 2 warnings")
    rows = rows_by_key(check)
    assert rows["plugin_server_alive"] == ["plugin_server_alive", "Plugin server alive", False]
    assert rows["clickhouse_event_count"][2] == 1523774
    assert evidence(check, "ClickHouse table sizes")["rows"][0] == ["sharded_events", "812.44 MiB", 1523774]
    assert evidence(check, "What could not be read") is None and not check["partial"]


def test_markdown_output_leads_with_the_verdict_and_the_advice(doctor, no_network):
    result = doctor("parse-status", str(STATUS_FIXTURES / "paste_new_degraded_firefox.txt"))
    lines = result.stdout.splitlines()
    assert result.code == 2
    assert lines[0] == "## ❌ paste\\_new\\_degraded\\_firefox.txt: FAIL"
    first = lines.index("### ❌ System Status page: FAIL")  # the worst check first
    bullets = [line for line in lines[first:] if line.startswith("- ")]
    assert bullets[0] == "- ❌ **FAIL** the plugin server is down: events are accepted but not ingested"
    advice = lines[lines.index(bullets[0]) + 1]
    assert advice.startswith("  → Restart the plugin server; it is safe")
    assert "[docs](https://posthog.com/docs/self-host/deploy/troubleshooting)" in advice
    assert "| plugin\\_server\\_alive | Plugin server alive | no |" in result.stdout


@pytest.mark.parametrize(
    "name, code",
    [
        ("api_old_clickhouse.json", 0),
        ("api_old_postgres.json", 1),
        ("paste_old_postgres.md", 1),
        ("paste_garbled.txt", 2),
    ],
)
def test_exit_code_follows_the_worst_finding(doctor, no_network, name, code):
    assert doctor("parse-status", str(STATUS_FIXTURES / name)).code == code


def test_partial_paste_is_flagged_in_both_formats(doctor, no_network):
    path = STATUS_FIXTURES / "paste_garbled.txt"
    _, data = parse_json(doctor, path)
    check = status_check(data)
    assert check["partial"] and evidence(check, "What could not be read")["text"].startswith(
        "4 line(s) were not understood"
    )
    markdown = doctor("parse-status", str(path)).stdout
    assert "4 line(s) were not understood" in markdown


def test_secrets_in_a_paste_are_redacted(doctor, tmp_path, no_network):
    path = tmp_path / "status.txt"
    path.write_text(
        "Plugin server alive\tYes\n"
        "Site URL\thttps://admin:hunter2-Secret-77@posthog.example.com\n"
        "Personal API key\tphx_abcdefghijklmnopqrstuvwxyz012345\n"
        "Admin e-mail\tjane.doe@example.com\n"
    )
    for fmt in ("json", "md"):
        out = doctor("parse-status", str(path), "--format", fmt).stdout
        assert "hunter2-Secret-77" not in out and "phx_abcdefghijklmnopqrstuvwxyz012345" not in out, fmt
        assert "jane.doe@example.com" not in out and "email-1" in out, fmt


def test_unreadable_file_is_one_line_and_exit_4(doctor, tmp_path):
    result = doctor("parse-status", str(tmp_path / "missing.txt"))
    assert result.code == 4 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"posthog-doctor: error: cannot read {tmp_path / 'missing.txt'}: No such file or directory"
    ]


def test_file_with_no_rows_exits_3(doctor, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("nothing to see here\n")
    result = doctor("parse-status", str(path), "--format", "json")
    data = json.loads(result.stdout)
    assert result.code == 3 and data["overall"] == "error" and status_check(data)["status"] == "error"


def test_utf16_paste_from_windows_is_read(doctor, tmp_path, no_network):
    path = tmp_path / "status.txt"
    path.write_bytes((STATUS_FIXTURES / "paste_new_degraded_chrome.txt").read_text().encode("utf-16"))
    code, data = parse_json(doctor, path)
    assert code == 2 and len(rows_by_key(status_check(data))) == 35


def test_as_a_real_process(tmp_path):
    done = run_process("parse-status", str(STATUS_FIXTURES / "api_old_postgres.json"), "--format", "json", cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    data = json.loads(done.stdout)
    assert [f["key"] for f in status_check(data)["findings"] if f["status"] == "warn"] == ["analytics_database"]
