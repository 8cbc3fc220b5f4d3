"""The support bundle: the three reports and a manifest in one archive, ready to attach to a ticket.

The manifest says what produced the reports and how complete they are (every check's status,
duration, timeout and partial flags, the redaction summary) and carries a SHA-256 per file, so
support can tell at a glance whether anything was cut, redacted or altered.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import tarfile
from datetime import datetime
from pathlib import Path

from .model import Report

BUNDLE_FORMATS = ("json", "md", "html")


def slug(text: str, limit: int = 40) -> str:
    """A file-name-safe version of a ticket reference, customer or host name."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned[:limit] or "unnamed"


def bundle_name(report: Report) -> str:
    label = report.target.get("ticket") or socket.gethostname() or "host"
    moment = datetime.fromisoformat(report.generated_at.replace("Z", "+00:00"))
    return f"posthog-doctor-{slug(label)}-{moment.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def manifest(report: Report, files: dict[str, bytes]) -> dict:
    return {
        "tool": report.tool,
        "schema_version": report.schema_version,
        "generated_at": report.generated_at,
        "overall": report.overall.value,
        "counts": report.counts,
        "ticket": report.target.get("ticket", ""),
        "customer": report.target.get("customer", ""),
        "checks": [
            {
                "id": c.id,
                "status": c.status.value,
                "duration_ms": c.duration_ms,
                "timed_out": c.timed_out,
                "partial": c.partial,
            }
            for c in report.checks
        ],
        "redaction": report.redaction,
        "files": [
            {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in files.items()
        ],
    }


def write_bundle(report: Report, rendered: dict[str, str], folder: Path, stem: str) -> Path:
    """Write the archive into `folder`; `rendered` maps each format to its (already checked) text."""
    files = {f"{stem}.{fmt}": rendered[fmt].encode("utf-8") for fmt in BUNDLE_FORMATS}
    files["manifest.json"] = (json.dumps(manifest(report, files), indent=2) + "\n").encode("utf-8")
    mtime = datetime.fromisoformat(report.generated_at.replace("Z", "+00:00")).timestamp()
    path = folder / bundle_name(report)
    top = path.name.removesuffix(".tar.gz")
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, mtime
            tar.addfile(info, io.BytesIO(data))
    return path
