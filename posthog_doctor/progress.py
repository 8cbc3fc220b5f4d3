"""Live progress on the terminal (stderr): a status line on a TTY, plain lines otherwise, or nothing."""

from __future__ import annotations

import shutil
import sys
import threading
from typing import TextIO

from .check import Check
from .model import CheckResult
from .render import STATUS_LABEL, human_ms
from .runner import Progress


class TerminalProgress:
    def __init__(self, total: int, stream: TextIO | None = None, *, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.total = total
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = 0
        self.running: list[str] = []
        self._lock = threading.Lock()

    def callbacks(self) -> Progress:
        return Progress(started=self.started, finished=self.finished)

    def started(self, check: type[Check]) -> None:
        with self._lock:
            self.running.append(check.id)
            self._status_line()

    def finished(self, result: CheckResult) -> None:
        with self._lock:
            self.done += 1
            if result.id in self.running:
                self.running.remove(result.id)
            if self.quiet:
                return
            self._clear()
            label = STATUS_LABEL[result.status.value]
            self.stream.write(f"  {label:<13} {result.id} ({human_ms(result.duration_ms)})\n")
            self._status_line()
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            self._clear()
            self.stream.flush()

    def _status_line(self) -> None:
        if self.quiet or not self.tty:
            return
        width = shutil.get_terminal_size((100, 20)).columns - 1
        line = f"[{self.done}/{self.total}] running: {', '.join(self.running) or '…'}"
        self.stream.write("\r" + line[:width].ljust(width))
        self.stream.flush()

    def _clear(self) -> None:
        if self.tty and not self.quiet:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self.stream.write("\r" + " " * width + "\r")
