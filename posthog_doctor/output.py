"""Writing reports: redact the model, render each format, scan each rendering, then write atomically."""

from __future__ import annotations

import html
import os
import re
import tempfile
from pathlib import Path

from .model import Report
from .redaction import Redactor, scan
from .render import render

EXTENSIONS = {"json": "json", "md": "md", "html": "html"}


class OutputError(Exception):
    """The reports could not be written (or would have leaked a secret)."""


def redact(report: Report, secrets: list[str], enabled: bool = True) -> Report:
    return Redactor(secrets, enabled=enabled).report(report)


def render_checked(report: Report, fmt: str, secrets: list[str]) -> str:
    """Render one format and refuse it when something that looks like a secret survived redaction."""
    text = render(report, fmt)
    if report.redaction.get("enabled", True):
        leaks = scan(plain(text), secrets)
        if leaks:
            raise OutputError(
                f"refusing to write the {fmt} report: it still contains what looks like a secret "
                f"({', '.join(sorted(set(leaks)))}); please report this as a posthog-doctor bug"
            )
    return text


def plain(text: str) -> str:
    """The text a reader sees: Markdown backslash escapes and HTML entities undone, so the scan for
    secrets neither misses an escaped one nor mistakes an escaped mask (\\*\\*\\*) for a secret."""
    return html.unescape(re.sub(r"\\(.)", r"\1", text))


def render_all(report: Report, formats: list[str], secrets: list[str]) -> dict[str, str]:
    """Every requested format, each scanned; nothing is written unless all of them pass."""
    return {fmt: render_checked(report, fmt, secrets) for fmt in formats}


def report_stem(ticket: str = "", customer: str = "") -> str:
    """`report`, or `report-<ticket>-<customer>` so files from different tickets never collide."""
    from .bundle import slug

    return "-".join(["report"] + [slug(part) for part in (ticket, customer) if part])


def write_reports(rendered: dict[str, str], folder: Path, stem: str = "report") -> list[Path]:
    """Write each rendered format into `folder`; return the files written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from None
    written = []
    for fmt, text in rendered.items():
        path = folder / f"{stem}.{EXTENSIONS[fmt]}"
        write_atomic(path, text)
        written.append(path)
    return written


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
