"""The doctors the benchmark compares, installed the way the README tells a customer to install one: a fresh venv
and a `pip install` of the tree (not editable), launched through the `posthog-doctor` console script. "Before"
and "after" are installed and launched the same way."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .measure import Doctor

ROOT = Path(__file__).resolve().parent.parent


def checkout(ref: str) -> Path:
    """The tree of a git commit (`git archive`), in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"phd-bench-{ref.replace('/', '_')[:20]}-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def install(label: str, tree: Path, folder: Path, extras: tuple[str, ...] = ()) -> Doctor:
    """A venv in `folder` with `tree` pip-installed (and `extras`, packages from the index, e.g. chdb-core)."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run([*pip, str(tree), *extras], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {tree} failed: {done.stderr[-1500:]}")
    return Doctor(label, folder / "bin" / "posthog-doctor", str(tree))


def doctors(before: str | None, folder: Path, extras: tuple[str, ...] = ()) -> list[Doctor]:
    """This tree ("after") and, when asked, `before` (a folder, or a git commit of this repository)."""
    found = [install("after", ROOT, folder / "after", extras)]
    if before:
        tree = Path(before) if Path(before).is_dir() else checkout(before)
        try:
            doctor = install("before", tree, folder / "before", extras)
        finally:
            if not Path(before).is_dir():
                shutil.rmtree(tree, ignore_errors=True)
        doctor.source = before
        found.append(doctor)
    return found
