"""capture.endpoints, capture.token and capture.service against the real local HTTP server playing each
generation's capture (Rust and Django), Caddy with capture down, and PostHog's token lookups."""

from __future__ import annotations

import pytest

from tests.capture_support import (
    PATHS,
    RUST_NO_EVENT,
    TOKEN,
    caddy_bad_gateway,
    capture_service,
    django_capture,
    early_access,
    remote_config,
    rust_capture,
    web_page,
)
from tests.conftest import COMPONENT_FLAGS, target
from tests.http_server import FakeServer, closed_port

ENDPOINTS = ["--only", "capture.endpoints"]
TOKEN_CHECK = ["--only", "capture.token_lookup"]
SERVICE = ["--only", "capture.service"]


@pytest.fixture
def service_http():
    server = FakeServer()
    yield server
    server.close()


def said(check: dict) -> str:
    return " | ".join(f["text"] for f in check["findings"])


def rows(check: dict, title_start: str) -> list[list]:
    return next(e for e in check["evidence"] if e["title"].startswith(title_start))["rows"]


def only_gets_and_capture_preflights(server: FakeServer) -> None:
    """The read-only promise on the wire: GETs, and OPTIONS only on capture paths; never a body."""
    for method, path, headers in server.requests:
        assert method in ("GET", "OPTIONS"), (method, path)
        assert int(headers.get("Content-Length") or 0) == 0, (method, path)
        if method == "OPTIONS":
            assert path in PATHS and headers.get("Access-Control-Request-Method") == "POST", (path, headers)


# --- capture.endpoints ---


def test_rust_capture_behind_the_proxy_answers_every_path_and_allows_browsers(doctor, fake_http):
    rust_capture(fake_http)
    check = doctor("run", *target(capture=fake_http.url), *ENDPOINTS).check("capture.endpoints")
    assert check["status"] == "ok", said(check)
    assert check["summary"] == (
        "Rust capture answers on /e/, /batch/, /capture/, /i/v0/e/; browsers may post from other sites (CORS)"
    )
    assert [r[2] for r in rows(check, "Capture endpoints")] == ["Rust capture"] * 4
    preflight = rows(check, "CORS preflight")[0]
    assert preflight[:3] == ["/i/v0/e/", 200, "https://example.com"] and "POST" in preflight[3]
    assert fake_http.methods == {"GET", "OPTIONS"}
    only_gets_and_capture_preflights(fake_http)


@pytest.mark.parametrize("generation", ["2021", "2023"])
def test_django_capture_of_older_generations(doctor, fake_http, generation):
    django_capture(fake_http, generation)
    check = doctor("run", *target(capture=fake_http.url), *ENDPOINTS).check("capture.endpoints")
    assert check["status"] == "ok", said(check)
    assert check["summary"].startswith("Django capture answers on /e/, /batch/, /capture/")
    assert "/i/v0/e/ is not capture here: this PostHog's Django capture predates it" in said(check)
    assert rows(check, "CORS preflight")[0][:3] == ["/e/", 200, "https://example.com"]
    only_gets_and_capture_preflights(fake_http)


def test_capture_down_behind_caddy_is_a_failure_with_its_cause(doctor, fake_http):
    caddy_bad_gateway(fake_http)
    result = doctor("run", *target(capture=fake_http.url), *ENDPOINTS)
    check = result.check("capture.endpoints")
    assert check["status"] == "fail" and result.code == 2
    assert check["summary"] == (
        "the proxy answers HTTP 502 on /e/, /batch/, /capture/, /i/v0/e/: it cannot reach the capture service "
        "behind it (hobby: capture:3000), so every event sent there is lost"
    )
    assert any("docker compose logs --tail 200 capture" in c for a in check["advice"] for c in a["commands"])
    assert "OPTIONS" not in fake_http.methods  # no capture answered: nothing to ask a preflight of


def test_a_proxy_that_strips_cors_breaks_browsers_only(doctor, fake_http):
    rust_capture(fake_http)
    fake_http.route("/i/v0/e/", b"", method="OPTIONS", content_type="")  # answered by the proxy, no CORS headers
    check = doctor("run", *target(capture=fake_http.url), *ENDPOINTS).check("capture.endpoints")
    assert check["status"] == "fail"
    assert "answered without Access-Control-Allow-Origin: browsers refuse to post events" in check["summary"]
    assert any("let the preflight through" in a["text"] for a in check["advice"])


def test_a_proxy_that_allows_one_site_only_is_a_warning(doctor, fake_http):
    rust_capture(fake_http)
    fake_http.route(
        "/i/v0/e/",
        b"",
        method="OPTIONS",
        content_type="",
        headers={"Access-Control-Allow-Origin": "https://shop.example.org", "Access-Control-Allow-Methods": "POST"},
    )
    check = doctor("run", *target(capture=fake_http.url), *ENDPOINTS).check("capture.endpoints")
    assert check["status"] == "warn"
    assert "allows only https://shop.example.org, not https://example.com" in check["summary"]


def test_the_preflight_origin_is_an_option(doctor, fake_http):
    rust_capture(fake_http)
    flags = [*target(capture=fake_http.url), *ENDPOINTS, "--set", "capture.endpoints.origin=https://app.acme.test"]
    check = doctor("run", *flags).check("capture.endpoints")
    assert check["status"] == "ok"
    assert rows(check, "CORS preflight")[0][2] == "https://app.acme.test"


def test_rust_capture_without_the_newest_route_loses_newest_sdks(doctor, fake_http):
    rust_capture(fake_http, ("/e/", "/batch/", "/capture/"))
    web_page(fake_http, "/i/v0/e/")  # an old Caddyfile: /i/v0 still goes to the web app
    check = doctor("run", *target(capture=fake_http.url), *ENDPOINTS).check("capture.endpoints")
    assert check["status"] == "fail"
    assert check["summary"] == (
        "/i/v0/e/ do not reach capture: a web page answers, not capture, so SDKs sending there lose their events"
    )


def test_an_address_that_is_not_capture_at_all(doctor, fake_http):
    check = doctor("run", *target(capture=fake_http.url), *ENDPOINTS).check("capture.endpoints")  # every path 404
    assert check["status"] == "fail"
    assert "/e/, /batch/, /capture/, /i/v0/e/ do not reach capture: nothing is there (HTTP 404)" in check["summary"]


def test_refused_capture_address_named_by_the_user_fails(doctor):
    port = closed_port()
    check = doctor("run", *target(capture=f"http://127.0.0.1:{port}"), *ENDPOINTS).check("capture.endpoints")
    assert check["status"] == "fail" and "connection refused" in check["summary"]


def test_no_capture_at_the_default_addresses_is_skipped(doctor):
    flags = target()
    at = flags.index(COMPONENT_FLAGS["capture"])
    del flags[at : at + 2]
    check = doctor("run", *flags, *ENDPOINTS).check("capture.endpoints")
    if check["status"] != "skipped":  # this machine serves something on port 80
        pytest.skip(f"something answers at the default capture address here: {check['summary']}")
    assert "--capture-url" in check["summary"]


def test_site_url_is_the_capture_address(doctor, fake_http, monkeypatch):
    rust_capture(fake_http)
    monkeypatch.setenv("SITE_URL", fake_http.url)
    flags = target()
    at = flags.index(COMPONENT_FLAGS["capture"])
    del flags[at : at + 2]
    result = doctor("run", *flags, *ENDPOINTS)
    assert result.check("capture.endpoints")["status"] == "ok"
    assert result.report["target"]["component_sources"]["capture"] == "env:SITE_URL"


# --- capture.token ---


def lookups(server: FakeServer) -> list[str]:
    """The requests the token check sent (the run's probe asks /e/ first)."""
    return [path for _, path, _ in server.requests if path != "/e/"]


def run_token(doctor, server: FakeServer, token: str = TOKEN):
    return doctor("run", *target(capture=server.url), "--project-token", token, *TOKEN_CHECK)


def test_token_known_to_remote_config(doctor, fake_http):
    rust_capture(fake_http)
    remote_config(fake_http, TOKEN, known=True)
    result = run_token(doctor, fake_http)
    check = result.check("capture.token_lookup")
    assert check["status"] == "ok"
    assert check["summary"] == "the project token given is known to this PostHog (/array/<token>/config)"
    assert "analytics endpoint /i/v0/e/" in rows(check, "Token lookups")[0][3]
    assert lookups(fake_http) == [f"/array/{TOKEN}/config"]  # one lookup was enough


def test_unknown_token_is_a_failure_with_its_cause(doctor, fake_http):
    remote_config(fake_http, TOKEN, known=False)
    early_access(fake_http, known=False)
    result = run_token(doctor, fake_http)
    check = result.check("capture.token_lookup")
    assert check["status"] == "fail"
    assert check["summary"] == (
        "no project of this PostHog has the token given (/array/<token>/config answered 404 and "
        "/api/early_access_features/ answered 401): events sent with it are accepted by capture and dropped "
        "in ingestion"
    )
    assert any("Project API key" in a["text"] and "PostHog Cloud" in a["text"] for a in check["advice"])
    assert (f"/api/early_access_features/?token={TOKEN}") in [p for _, p, _ in fake_http.requests]
    for fmt in ("json", "md", "html"):
        assert TOKEN not in result.text(fmt)


def test_2023_posthog_checks_the_token_through_early_access_features(doctor, fake_http):
    web_page(fake_http, f"/array/{TOKEN}/config")  # no remote config yet: the catch-all
    early_access(fake_http, known=True)
    check = run_token(doctor, fake_http).check("capture.token_lookup")
    assert check["status"] == "ok"
    assert check["summary"] == "the project token given is known to this PostHog (/api/early_access_features/)"
    assert rows(check, "Token lookups")[0][2] == "absent"


def test_older_posthog_cannot_check_a_token_without_an_event_and_says_so(doctor, fake_http):
    web_page(fake_http, f"/array/{TOKEN}/config")
    early_access(fake_http, known=None)
    check = run_token(doctor, fake_http).check("capture.token_lookup")
    assert check["status"] == "error"
    assert "cannot be checked without sending an event" in check["summary"]
    assert {m for m, _, _ in fake_http.requests} == {"GET"}


def test_malformed_token_is_refused_without_sending_it(doctor, fake_http):
    bad = "phc_abc$def<script>"
    check = run_token(doctor, fake_http, bad).check("capture.token_lookup")
    assert check["status"] == "fail" and "malformed" in check["summary"]
    assert not any("/array/" in p for _, p, _ in fake_http.requests)


def test_malformed_token_as_posthog_answers_it(doctor, fake_http):
    token = "phc_" + "a" * 250  # the right characters, too long: PostHog's check_token answers 400
    fake_http.route(f"/array/{token}/config", {"detail": "Invalid token"}, status=400)
    check = run_token(doctor, fake_http, token).check("capture.token_lookup")
    assert check["status"] == "fail" and "malformed" in check["summary"]


def test_a_personal_api_key_is_not_a_project_token(doctor, fake_http):
    check = run_token(doctor, fake_http, "phx_" + "k" * 40).check("capture.token_lookup")
    assert check["status"] == "fail" and "personal API key" in check["summary"]
    assert lookups(fake_http) == []


def test_without_a_token_the_check_does_not_apply(doctor, fake_http):
    check = doctor("run", *target(capture=fake_http.url), *TOKEN_CHECK).check("capture.token_lookup")
    assert check["status"] == "skipped" and "--project-token" in check["summary"]


def test_token_from_the_environment_is_redacted_even_when_an_answer_echoes_it(doctor, fake_http, monkeypatch):
    fake_http.route(f"/array/{TOKEN}/config", f"upstream error for {TOKEN}", status=500)
    early_access(fake_http, known=None)
    monkeypatch.setenv("POSTHOG_DOCTOR_PROJECT_TOKEN", TOKEN)
    result = doctor("run", *target(capture=fake_http.url), *TOKEN_CHECK)
    check = result.check("capture.token_lookup")
    assert check["status"] == "error" and "did not answer as PostHog does" in check["summary"]
    for fmt in ("json", "md", "html"):
        assert TOKEN not in result.text(fmt)
    assert "phc_***" in check["summary"] or "***" in check["summary"]


# --- capture.service ---


def run_service(doctor, proxy: FakeServer, service_url: str):
    flags = [*target(capture=proxy.url), *SERVICE, "--set", f"capture.service.service_url={service_url}"]
    return doctor("run", *flags).check("capture.service")


def test_healthy_rust_capture_service(doctor, fake_http, service_http):
    rust_capture(fake_http)
    capture_service(service_http, live=True)
    check = run_service(doctor, fake_http, service_http.url)
    assert check["status"] == "ok"
    assert (
        check["summary"] == f"the capture service at 127.0.0.1:{service_http.port} is ready and live (rdkafka healthy)"
    )


def test_unhealthy_rust_capture_names_its_kafka_producer(doctor, fake_http, service_http):
    rust_capture(fake_http)
    capture_service(service_http, live=False)
    check = run_service(doctor, fake_http, service_http.url)
    assert check["status"] == "fail"
    assert "rdkafka (its Kafka producer) is Unhealthy, so it cannot hand events on to Kafka" in check["summary"]


def test_capture_service_not_running(doctor, fake_http):
    caddy_bad_gateway(fake_http)
    port = closed_port()
    check = run_service(doctor, fake_http, f"http://127.0.0.1:{port}")
    assert check["status"] == "fail"
    assert check["summary"] == f"the capture service at 127.0.0.1:{port} refuses connections: it is not running"


def test_an_address_that_is_not_rust_capture(doctor, fake_http, service_http):
    rust_capture(fake_http)
    check = run_service(doctor, fake_http, service_http.url)  # answers 404 everywhere
    assert check["status"] == "warn"
    assert "is it the Rust capture service (port 3000)?" in said(check)


def test_no_capture_service_on_this_network_is_skipped(doctor, fake_http):
    django_capture(fake_http)
    check = doctor("run", *target(capture=fake_http.url), *SERVICE).check("capture.service")
    if check["status"] != "skipped":  # a host named `capture` resolves on this machine
        pytest.skip(f"capture resolves here: {check['summary']}")
    assert "PostHog before 2024 captures in the web app" in check["summary"]


def test_rust_no_event_answer_is_what_capture_says(fake_http):
    """The format the fake serves is the one the classification relies on (api.rs RequestParsingError)."""
    from checks.capture.answers import RUST, classify
    from posthog_doctor.check import Http
    from posthog_doctor.connectors.base import Deadline
    from posthog_doctor.endpoints import parse_endpoint

    rust_capture(fake_http)
    resp = Http(parse_endpoint("capture", "http", fake_http.url), Deadline(5)).get("/e/")
    assert resp.status == 400 and resp.text() == RUST_NO_EVENT and classify(resp).kind == RUST


def test_explain_shows_the_preflight(doctor):
    result = doctor("explain", *target(capture="http://proxy:80"), "--only", "capture")
    assert "capture query OPTIONS preflight:" in result.stdout
    assert "Access-Control-Request-Method: POST" in result.stdout
    assert "GET /array/<project token>/config" in result.stdout


def test_the_http_connector_sends_no_other_method(fake_http):
    from posthog_doctor.check import ConnectorError, ErrorKind, Http
    from posthog_doctor.connectors.base import Deadline
    from posthog_doctor.endpoints import parse_endpoint

    http = Http(parse_endpoint("capture", "http", fake_http.url), Deadline(5))
    for method in ("POST", "PUT", "PATCH", "DELETE", "HEAD"):
        with pytest.raises(ConnectorError) as refused:
            http._request(method, "/e/", None, {}, None)
        assert refused.value.kind == ErrorKind.NOT_ALLOWED
    assert fake_http.requests == []
