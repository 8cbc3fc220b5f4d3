"""The system_status check: live from /api/instance_status (a real local HTTP server playing Django) or from
--status-file, and every way the live page can fail to come back."""

from __future__ import annotations

import json

import pytest

from tests.conftest import target
from tests.service_support import STATUS_FIXTURES, web_app

API_KEY = "phx_DoctorTestKey0123456789abcdefABCDEF"
ONLY = ["--only", "system_status"]


def degraded_body() -> dict:
    return json.loads((STATUS_FIXTURES / "api_new_degraded.json").read_text())


def never_in_outputs(result, secret: str) -> None:
    for fmt in ("json", "md", "html"):
        assert secret not in result.text(fmt), fmt
    assert secret not in result.stdout + result.stderr


def test_live_page_with_an_api_key(doctor, fake_http):
    web_app(fake_http)
    route = fake_http.route("/api/instance_status", degraded_body())
    result = doctor("run", *target(posthog_api=fake_http.url), "--api-key", API_KEY, *ONLY)
    check = result.check("system_status")
    assert route.seen_auth == [f"Bearer {API_KEY}"]
    assert check["status"] == "fail" and result.code == 2
    assert check["summary"].startswith(
        "live System Status (/api/instance_status) — 4 failed, 2 warnings: the plugin "
        "server is down: events are accepted but not ingested; 20% or more"
    )
    found = next(e for e in check["evidence"] if e["title"] == "Findings")
    assert ["fail", "ClickHouse disk 0: 6.2 GiB free of 77.5 GiB (8%)"] in found["rows"]
    rows = next(e for e in check["evidence"] if e["title"] == "System Status rows")
    assert ["plugin_server_alive", "Plugin server alive", False] in rows["rows"]
    assert check["advice"][0]["text"].startswith("Restart the plugin server")
    never_in_outputs(result, API_KEY)


def test_live_and_pasted_page_of_the_same_state_agree(doctor, fake_http, tmp_path):
    web_app(fake_http)
    fake_http.route("/api/instance_status", degraded_body())
    live = doctor(
        "run", *target(posthog_api=fake_http.url), "--api-key", API_KEY, *ONLY, output=tmp_path / "live"
    ).check("system_status")
    pasted = doctor(
        "run",
        *target(),
        "--status-file",
        str(STATUS_FIXTURES / "paste_new_degraded_chrome.txt"),
        *ONLY,
        output=tmp_path / "pasted",
    ).check("system_status")
    assert pasted["status"] == live["status"] == "fail"
    findings = [next(e for e in c["evidence"] if e["title"] == "Findings")["rows"] for c in (live, pasted)]
    assert findings[0] == findings[1]
    assert pasted["summary"].startswith(
        "file paste_new_degraded_chrome.txt (a pasted page) — 4 failed, 2 warnings: the plugin server is down"
    )


def test_status_file_wins_over_the_live_page(doctor, fake_http):
    web_app(fake_http)
    route = fake_http.route("/api/instance_status", degraded_body())
    check = doctor(
        "run",
        *target(posthog_api=fake_http.url),
        "--api-key",
        API_KEY,
        *ONLY,
        "--status-file",
        str(STATUS_FIXTURES / "api_old_clickhouse.json"),
    ).check("system_status")
    assert route.hits == 0 and check["status"] == "ok"
    assert check["summary"] == (
        "file api_old_clickhouse.json (a saved API response) — every service System Status reports is healthy (22 rows)"
    )


def test_garbled_paste_is_partial_and_says_why(doctor):
    check = doctor("run", *target(), "--status-file", str(STATUS_FIXTURES / "paste_garbled.txt"), *ONLY).check(
        "system_status"
    )
    assert check["status"] == "fail"
    assert check["summary"].startswith(
        "file paste_garbled.txt (a pasted page, partly unreadable) — 1 failed: the plugin server is down"
    )
    text = next(e for e in check["evidence"] if e["type"] == "text")
    assert "rows every PostHog sends are missing (Redis alive)" in text["text"]


@pytest.mark.parametrize(
    "content, words",
    [
        ("", "no System Status rows could be read: the page is empty"),
        ('{"detail": "Authentication credentials were not provided."}', "holds no System Status rows"),
    ],
)
def test_file_without_rows_cannot_be_judged(doctor, tmp_path, content, words):
    path = tmp_path / "status.txt"
    path.write_text(content)
    result = doctor("run", *target(), "--status-file", str(path), *ONLY)
    check = result.check("system_status")
    assert check["status"] == "error" and words in check["summary"] and result.code == 3


def test_missing_status_file_is_a_usage_error(doctor, tmp_path):
    result = doctor("run", *target(), "--status-file", str(tmp_path / "nope.txt"), *ONLY)
    assert result.code == 4 and not result.output.exists()
    assert result.stderr.strip() == f"posthog-doctor: error: --status-file {tmp_path / 'nope.txt'}: not a readable file"


def test_without_key_or_file_the_check_is_skipped_and_says_what_it_needs(doctor, fake_http):
    web_app(fake_http)
    route = fake_http.route("/api/instance_status", degraded_body())
    check = doctor("run", *target(posthog_api=fake_http.url), *ONLY).check("system_status")
    assert check["status"] == "skipped" and route.hits == 0
    assert "personal API key" in check["summary"] and "--status-file FILE" in check["summary"]


# Audit row 19 (/work/shared/posthog-generations.md).
@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_is_explained_and_never_printed(doctor, fake_http, status):
    web_app(fake_http)
    fake_http.route("/api/instance_status", {"detail": "Invalid personal API key."}, status=status)
    result = doctor("run", *target(posthog_api=fake_http.url), "--api-key", API_KEY, *ONLY)
    check = result.check("system_status")
    assert check["status"] == "error"
    if status == 401:
        assert "answered HTTP 401: the API key given was refused (wrong key" in check["summary"]
    else:  # any user may read System Status on self-hosted: a 403 is about the key, not about staff rights
        assert "answered HTTP 403: the API key was accepted but may not read System Status" in check["summary"]
        assert "only PostHog Cloud limits it to staff" in check["summary"]
    never_in_outputs(result, API_KEY)


def test_oversized_answer_is_not_parsed(doctor, fake_http):
    web_app(fake_http)
    fake_http.route("/api/instance_status", b"", endless=True)
    check = doctor("run", *target(posthog_api=fake_http.url), "--api-key", API_KEY, *ONLY).check("system_status")
    assert check["status"] == "error" and "answered with more than 2,000,000 bytes; not parsed" in check["summary"]


def test_login_page_instead_of_json_is_named(doctor, fake_http):
    web_app(fake_http)
    fake_http.route("/api/instance_status", "<!doctype html><title>PostHog</title>", content_type="text/html")
    check = doctor("run", *target(posthog_api=fake_http.url), "--api-key", API_KEY, *ONLY).check("system_status")
    assert check["status"] == "error"
    assert "a body that is not JSON (text/html): '<!doctype html><title>PostHog</title>'" in check["summary"]


def test_redirect_to_another_host_is_not_followed_with_the_key(doctor, fake_http):
    web_app(fake_http)
    route = fake_http.route(
        "/api/instance_status", "", status=302, headers={"Location": "http://login.example.invalid/api/instance_status"}
    )
    result = doctor("run", *target(posthog_api=fake_http.url), "--api-key", API_KEY, *ONLY)
    check = result.check("system_status")
    assert route.hits == 1 and check["status"] == "error"
    assert "redirected to another host (login.example.invalid); not followed" in check["summary"]
    never_in_outputs(result, API_KEY)


def test_tls_to_a_plain_http_server_is_a_clear_skip(doctor, fake_http):
    web_app(fake_http)
    url = fake_http.url.replace("http://", "https://")
    check = doctor("run", *target(posthog_api=url), "--api-key", API_KEY, *ONLY).check("system_status")
    assert check["status"] == "skipped"
    assert "the web app is unavailable: TLS" in check["summary"]


def test_thresholds_are_options_of_the_check(doctor):
    result = doctor(
        "run",
        *target(),
        "--status-file",
        str(STATUS_FIXTURES / "api_new_degraded.json"),
        *ONLY,
        "--option",
        "system_status.disk_fail_free_pct=5",
        "--option",
        "system_status.redis_memory_warn_pct=99",
    )
    found = next(e for e in result.check("system_status")["evidence"] if e["title"] == "Findings")["rows"]
    assert ["warn", "ClickHouse disk 0: 6.2 GiB free of 77.5 GiB (8%)"] in found
    assert ["ok", "Redis uses 191.2 MiB of its 200.0 MiB maxmemory (96%, policy allkeys-lru)"] in found


# --- the newest PostHog's probe errors, and the page's cache ---


def newest_with_probe_errors() -> dict:
    """The newest instance_status when probes raise (posthog/api/test/test_instance_status.py, index id
    55193736795): the failing row's value is "error: <exception>", and a failed object storage probe adds a row
    {"key": "object_storage", "metric": "Object Storage", "value": "error: ..."}."""
    body = degraded_body()
    rows = body["results"]["overview"]
    for row in rows:
        if row.get("key") == "plugin_sever_alive":
            row["value"] = "error: RuntimeError: plugin server blew up"
        if row.get("key") == "clickhouse_event_count":
            row["value"] = "error: ServerException: Code: 159. Timeout exceeded"
    rows[:] = [r for r in rows if r.get("metric") != "Object Storage healthy"]
    rows.append({"key": "object_storage", "metric": "Object Storage", "value": "error: RuntimeError: boom"})
    return body


# Audit row 18 (/work/shared/posthog-generations.md).
def test_probe_errors_of_the_newest_posthog_are_failures_with_their_reason(doctor, tmp_path):
    path = tmp_path / "status.json"
    path.write_text(json.dumps(newest_with_probe_errors()))
    check = doctor("run", *target(), "--status-file", str(path), *ONLY).check("system_status")
    found = {f["key"]: (f["status"], f["text"]) for f in check["findings"]}
    assert found["plugin_server_alive"] == (
        "fail",
        "Django could not tell whether the plugin server is alive (its probe failed: "
        "'error: RuntimeError: plugin server blew up')",
    )
    assert found["object_storage_probe"] == (
        "fail",
        "Django could not check object storage (its probe failed: 'error: RuntimeError: boom')",
    )
    assert found["clickhouse_event_count"][0] == "warn"
    assert "could not be measured ('error: ServerException" in found["clickhouse_event_count"][1]
    assert not any("neither yes nor no" in text for _, text in found.values())
    assert check["status"] == "fail"


# Audit row 20 (/work/shared/posthog-generations.md).
def test_the_live_page_is_said_to_be_up_to_a_minute_old(doctor, fake_http):
    web_app(fake_http)
    fake_http.route("/api/instance_status", degraded_body())
    check = doctor("run", *target(posthog_api=fake_http.url), "--api-key", API_KEY, *ONLY).check("system_status")
    rows = next(e for e in check["evidence"] if e["title"] == "System Status rows")
    assert rows["note"] == "PostHog caches this page for up to 60 s: a change made in the last minute may not show yet."
