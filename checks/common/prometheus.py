"""Reading a Prometheus text exposition (what the plugin server's `/_metrics` answers, from prom-client).

The format (https://prometheus.io/docs/instrumenting/exposition_formats/): `# HELP` / `# TYPE` comments, then
one sample a line, `name{label="value",...} value [timestamp]`; label values escape `\\`, `"` and newlines;
values may be `NaN`, `+Inf`, `-Inf`. The reader keeps only the metric names asked for (the default metrics of
a Node process alone are hundreds of lines), never raises, and stops after a bounded number of lines: a
malformed line is counted and skipped, not fatal.

    metrics = parse_exposition(text, wanted={"process_start_time_seconds"})
    metrics.value("process_start_time_seconds")          # 1733990400.0, or None
    metrics.by_label("events_pipeline_step_dlq_total", "step_name")   # {"processPersonsStep": 3.0}
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_LINES = 200_000  # prom-client with many partitions and labels stays well below this
MAX_SAMPLES = 20_000  # of the metrics asked for
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|\})')
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
_SPECIAL = {"nan": math.nan, "+inf": math.inf, "inf": math.inf, "-inf": -math.inf}


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


@dataclass
class Exposition:
    samples: list[Sample] = field(default_factory=list)
    lines: int = 0  # lines read
    malformed: int = 0  # sample lines that could not be read
    cut: bool = False  # more lines or samples than the reader keeps

    def named(self, name: str) -> list[Sample]:
        return [s for s in self.samples if s.name == name]

    def has(self, name: str) -> bool:
        return any(s.name == name for s in self.samples)

    def value(self, name: str) -> float | None:
        """The value of a metric without labels (or the first of its series), None when absent or not finite."""
        found = next((s.value for s in self.samples if s.name == name), None)
        return found if found is not None and math.isfinite(found) else None

    def maximum(self, name: str, **labels: str) -> float | None:
        """The largest finite value among the series of `name` whose labels include `labels`."""
        values = [s.value for s in self._matching(name, labels) if math.isfinite(s.value)]
        return max(values) if values else None

    def total(self, name: str) -> float | None:
        """The sum over every series of `name` (a counter split by labels); None when there is none."""
        values = [s.value for s in self.samples if s.name == name and math.isfinite(s.value)]
        return sum(values) if values else None

    def by_label(self, name: str, label: str) -> dict[str, float]:
        """`name`'s finite values summed per value of `label` (series without the label count under "")."""
        out: dict[str, float] = {}
        for s in self.samples:
            if s.name == name and math.isfinite(s.value):
                key = s.labels.get(label, "")
                out[key] = out.get(key, 0.0) + s.value
        return out

    def _matching(self, name: str, labels: dict[str, str]) -> Iterable[Sample]:
        return (s for s in self.samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))


def parse_exposition(text: str, *, wanted: Iterable[str] | None = None) -> Exposition:
    """The samples of `text` whose metric name is in `wanted` (every sample when None). Never raises."""
    keep = set(wanted) if wanted is not None else None
    out = Exposition()
    for line in text.splitlines():
        if out.lines >= MAX_LINES:
            out.cut = True
            break
        out.lines += 1
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _NAME.match(line)
        if match is None:
            out.malformed += 1
            continue
        name = match.group(0)
        if keep is not None and name not in keep:
            continue
        sample = _sample(name, line[match.end() :])
        if sample is None:
            out.malformed += 1
            continue
        if len(out.samples) >= MAX_SAMPLES:
            out.cut = True
            break
        out.samples.append(sample)
    return out


def _sample(name: str, rest: str) -> Sample | None:
    labels: dict[str, str] = {}
    rest = rest.lstrip()
    if rest.startswith("{"):
        position = 1
        if rest[1:].lstrip().startswith("}"):
            position = rest.index("}") + 1
        else:
            while True:
                match = _LABEL.match(rest, position)
                if match is None:
                    return None
                labels[match.group(1)] = re.sub(r"\\[\\\"n]", lambda m: _ESCAPES[m.group(0)], match.group(2))
                position = match.end()
                if match.group(3) == "}":
                    break
                if rest[position:].lstrip().startswith("}"):  # a trailing comma before the brace
                    position = rest.index("}", position) + 1
                    break
        rest = rest[position:]
    parts = rest.split()
    if not parts or len(parts) > 2:
        return None
    value = _number(parts[0])
    return Sample(name, labels, value) if value is not None else None


def _number(text: str) -> float | None:
    special = _SPECIAL.get(text.lower())
    if special is not None:
        return special
    try:
        return float(text)
    except ValueError:
        return None
