"""A real headless browser (Debian's chromium) for the HTML report: the rendered DOM, the console, a screenshot.

Chromium prints every console message (a CSP violation, a script error) on stderr as `INFO:CONSOLE`; a report
page has no script and loads nothing, so any console line is a defect.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import unavailable

# As the machine's probe starts it: no first-run, no background traffic to Google (the network is closed).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1200,1600",
)


@dataclass
class Page:
    dom: str
    console: list[str]
    screenshot: Path


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        unavailable("Debian's chromium", "not installed (apt-get install chromium; scripts/test.sh installs it)")
    return str(found)


def open_page(path: Path, screenshot: Path) -> Page:
    """Render `path` twice (DOM, then a screenshot) in a fresh profile; return what the browser saw."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="phd-chromium-") as profile:
        base = [binary, *FLAGS, f"--user-data-dir={profile}"]
        dom = subprocess.run([*base, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=90)
        shot = subprocess.run(
            [*base, f"--screenshot={screenshot}", path.as_uri()], capture_output=True, text=True, timeout=90
        )
    console = [line for line in (dom.stderr + shot.stderr).splitlines() if ":CONSOLE" in line]
    return Page(dom.stdout, console, screenshot)
