"""Shared fixtures: real servers, a fake PostHog HTTP server, and a way to run the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import servers
from tests.http_server import FakeServer, SilentServer

# The whole-deployment fixture (`posthog`) of the safety tests, shared by three modules; the shared Kafka broker.
pytest_plugins = ["tests.safety_support", "tests.kafka_support"]

IN_CI = bool(os.environ.get("CI"))
COMPONENT_FLAGS = {
    "clickhouse": "--clickhouse-url",
    "postgres": "--postgres-url",
    "redis": "--redis-url",
    "posthog_api": "--posthog-url",
    "plugin_server": "--plugin-server-url",
    "zookeeper": "--zookeeper-url",
    "capture": "--capture-url",
    "kafka": "--kafka-url",
}
# A component's answer time on a test machine shared by parallel workers measures that machine's load, not what a
# test is about: every `run` a test starts gives the latency warnings (1 s for a connection, 2 s for a capture
# endpoint) 15 s. A test about slowness sets its own threshold, which comes later on the command line and wins.
PATIENT = tuple(
    flag
    for check in (
        "clickhouse.connection",
        "postgres.connection",
        "redis.connection",
        "kafka.connection",
        "posthog.connection",
        "plugin_server.connection",
        "capture.endpoints",
    )
    for flag in ("--set", f"{check}.slow_ms=15000")
)


def patient(args) -> list[str]:
    """`run`'s arguments with PATIENT first; any other command's unchanged."""
    args = list(args)
    return ["run", *PATIENT, *args[1:]] if args[:1] == ["run"] else args


# Variables that would point the doctor somewhere else if the machine running the tests has them.
_LEAKY_ENV = ("DATABASE_URL", "REDIS_URL", "SITE_URL", "CDP_API_URL", "CLICKHOUSE_", "POSTHOG_", "KAFKA_")


# Parallel runs (pytest-xdist, `--dist loadfile`, as scripts/test.sh runs the suite): the longest files start first,
# so none of them is left to run alone at the end.
_LONGEST_FIRST = ("test_postgres_event_volume.py", "test_scenarios.py", "test_safety_faults.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in _LONGEST_FIRST)  # a stable sort: the order within is kept


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Tests see only the environment they set: no PostHog or doctor variables from the machine."""
    for name in list(os.environ):
        if name.startswith(_LEAKY_ENV) and not name.startswith("POSTHOG_DOCTOR_TEST_"):
            monkeypatch.delenv(name, raising=False)


def unavailable(what: str, why: str) -> None:
    """Something a test needs is missing: a skip on a developer's machine, a failure in CI."""
    if IN_CI:
        pytest.fail(f"CI needs {what}: {why}")
    pytest.skip(f"{what}: {why}")


def require_module(name: str):
    """Import `name`, or fail in CI / skip elsewhere (like a missing server)."""
    try:
        return __import__(name)
    except ImportError as exc:
        unavailable(f"the Python package {name}", str(exc))


def _server(kind: str):
    try:
        server = servers.provide(kind)
    except servers.Unavailable as exc:
        if IN_CI:
            pytest.fail(f"CI needs a real {kind} server: {exc}")
        pytest.skip(str(exc))
    return server


@pytest.fixture(scope="session")
def clickhouse_server():
    server = _server("clickhouse")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server():
    server = _server("postgres")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    server = _server("redis")
    yield server
    server.stop()


@pytest.fixture
def fake_http():
    server = FakeServer()
    yield server
    server.close()


@pytest.fixture
def silent_server():
    server = SilentServer()
    yield server
    server.close()


def target(**urls: str) -> list[str]:
    """Flags naming exactly the given components; every other component is switched off, so a test
    never wanders to whatever happens to listen on this machine's default ports."""
    args = []
    for component, flag in COMPONENT_FLAGS.items():
        args += [flag, urls.get(component, "off")]
    return args


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    output: Path

    @property
    def report(self) -> dict:
        return json.loads((self.output / "report.json").read_text())

    def check(self, check_id: str) -> dict:
        return next(c for c in self.report["checks"] if c["id"] == check_id)

    def text(self, fmt: str) -> str:
        return (self.output / f"report.{fmt}").read_text()


@pytest.fixture
def doctor(tmp_path, capsys):
    """Run the CLI in this process: doctor("run", *flags) -> CliResult (reports in a temp folder)."""

    def run(*args: str, output: Path | None = None) -> CliResult:
        from posthog_doctor.cli import main

        out = output or tmp_path / "report"
        argv = patient(args)
        if argv and argv[0] == "run" and "--output" not in argv:
            argv += ["--output", str(out)]
        code = main(argv)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err, out)

    return run


def run_process(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None):
    """Run `python -m posthog_doctor` as a real process (for exit codes, tracebacks, timing)."""
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_ENV) or k.startswith("POSTHOG_DOCTOR_TEST_")
    }
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "posthog_doctor", *patient(args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd,
    )
