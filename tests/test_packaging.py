"""The package as a customer installs it: a plain (non-editable) install carries the checks and
templates and works from any directory; the image definition is what the README promises."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _leftovers() -> set[str]:
    return {p.name for p in ROOT.iterdir() if p.name == "build" or p.name.endswith(".egg-info")}


def test_plain_install_carries_checks_and_templates(tmp_path):
    target = tmp_path / "site"
    before = _leftovers()
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _leftovers() == before  # the install built in a scratch folder, not in the checkout
    package = target / "posthog_doctor"
    assert (package / "checks" / "connections.py").is_file()
    assert (package / "templates" / "report.html.j2").is_file()
    assert (package / "schema" / "report.schema.json").is_file()
    for sql in ROOT.joinpath("checks").rglob("*.sql"):  # every data file of every check ships too
        assert (package / "checks" / sql.relative_to(ROOT / "checks")).is_file(), sql
    for data in ROOT.joinpath("checks").rglob("*.yaml"):
        assert (package / "checks" / data.relative_to(ROOT / "checks")).is_file(), data

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)  # ahead of the editable checkout, so this is the installed copy
    code = (
        "import posthog_doctor, sys; print(posthog_doctor.__file__); sys.argv=['posthog-doctor','checks']; "
        "from posthog_doctor.cli import main; sys.exit(main())"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=elsewhere, env=env, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].startswith(str(target))
    assert "clickhouse.connection" in run.stdout and "host.resources" in run.stdout

    out = elsewhere / "out"
    run = subprocess.run(
        [sys.executable, "-c", code.replace("'checks'", "'run','--only','host','--quiet','--output','out'")],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        timeout=60,
    )
    assert run.returncode in (0, 1, 2), run.stderr
    assert (out / "report.html").is_file() and "<svg" not in (out / "report.md").read_text()


def test_dockerfile_describes_a_small_non_root_image_that_runs_the_doctor():
    """The image definition, read (there is no container engine here to build it; hadolint lints it below)."""
    text = (ROOT / "Dockerfile").read_text()
    instructions = [
        line.split(None, 1)
        for line in text.splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(" ")
    ]
    from_lines = [rest for op, rest in instructions if op == "FROM"]
    assert from_lines and re.match(r"python:3\.1[1-9]-slim", from_lines[0])
    users = [rest.strip() for op, rest in instructions if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert 'ENTRYPOINT ["posthog-doctor"]' in text and 'CMD ["run"]' in text
    assert "POSTHOG_DOCTOR_OUTPUT=/report" in text
    for folder in ("posthog_doctor", "checks", "templates"):
        assert re.search(rf"^COPY {folder} ", text, re.M), folder
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "tests" in ignored and ".git" in ignored


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    done = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_lists_every_bundled_check():
    from posthog_doctor.registry import Registry, load_bundled

    registry = Registry()
    load_bundled(registry)
    readme = (ROOT / "README.md").read_text()
    missing = [check_id for check_id in registry.checks if f"| `{check_id}` |" not in readme]
    assert not missing, f"README's check table misses {missing}"
