"""The System Status page as data: from the API's JSON, a saved copy of it, or the page's text pasted from a browser.

    page = parse_status(text)                  # saved JSON or pasted text; never raises
    page = status_from_api(body)               # the decoded JSON of GET /api/instance_status
    page.value("plugin_server_alive")          # True / False / None, whatever the source

Every row becomes a `Metric` with a canonical key (metrics.yaml): PostHog's key where it sends one (with
"plugin_sever_*" read as "plugin_server_*"), the key its label stands for when it sends none or when the
text was pasted, a slug of the label for rows nobody knows. Keys are unique within a page, so the
duplicated "object_storage" rows and any other repeat stay apart. Values are normalised by the row's kind,
so the API's `true` and the page's "Yes" are the same value. Pure: no I/O beyond reading metrics.yaml.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posthog_doctor.check import load_yaml

from .values import MAX_TEXT, normalise, tidy

MAX_LINES = 50_000  # a pasted page has about 60 lines, or a few thousand with ClickHouse's metrics expanded
MAX_ROWS = 2_000
MAX_SUBROWS = 2_000
MAX_COLUMNS = 20
MAX_SALVAGE_ATTEMPTS = 20_000


# --- the model ------------------------------------------------------------------------------------


@dataclass
class Subrows:
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Metric:
    key: str  # canonical and unique within the page
    label: str  # the page's "Metric" text
    value: Any  # normalised: bool, int, float, str or None (unknown)
    raw: Any  # as the source gave it
    kind: str | None = None  # from metrics.yaml; None for a row the doctor does not know
    source_key: str | None = None  # PostHog's own key, when the source had one
    subrows: Subrows | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"key": self.key, "label": self.label, "value": self.value, "source_key": self.source_key}
        if self.subrows is not None:
            data["subrows"] = {"columns": self.subrows.columns, "rows": self.subrows.rows}
        return data


@dataclass
class StatusPage:
    source: str  # "api" (live), "json" (a saved response) or "text" (a pasted page)
    metrics: list[Metric] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what could not be read, in plain words

    def metric(self, key: str) -> Metric | None:
        wanted = catalog().canonical(key)
        return next((m for m in self.metrics if m.key == wanted), None)

    def value(self, key: str) -> Any:
        """The normalised value of a canonical key (or of PostHog's own spelling of it), None when absent."""
        found = self.metric(key)
        return found.value if found is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "metrics": [m.to_dict() for m in self.metrics], "problems": list(self.problems)}


# --- what the rows are (metrics.yaml) ---------------------------------------------------------------


def norm(text: str) -> str:
    """A label reduced to lower-case words: "Redis 'maxmemory-policy' setting" -> "redis maxmemory policy setting"."""
    return " ".join(re.sub(r"[\W_]+", " ", str(text).lower()).split())


def slug(text: str) -> str:
    return norm(text).replace(" ", "_")[:80]


@dataclass(frozen=True)
class Spec:
    key: str  # may hold "{0}", filled from the label's or key's pattern group
    kind: str
    labels: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    key_pattern: re.Pattern[str] | None = None
    aliases: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()


class Catalog:
    """Look-ups over metrics.yaml: a label or a key to its canonical key and spec."""

    def __init__(self, data: dict[str, Any]):
        self.specs = [
            Spec(
                m["key"],
                m["kind"],
                tuple(m.get("labels", ())),
                re.compile(m["pattern"]) if m.get("pattern") else None,
                re.compile(m["key_pattern"]) if m.get("key_pattern") else None,
                tuple(m.get("aliases", ())),
                tuple(m.get("columns", ())),
            )
            for m in data["metrics"]
        ]
        self.by_label = {norm(label): spec for spec in self.specs for label in spec.labels}
        self.by_key = {name: spec for spec in self.specs if "{" not in spec.key for name in (spec.key, *spec.aliases)}
        self.always_sent = tuple(data.get("always_sent", ()))
        self.page_text = frozenset(norm(t) for t in data.get("page_text", ()))

    def from_label(self, label: str) -> tuple[str, Spec] | None:
        text = norm(label)
        if text in self.by_label:
            return self.by_label[text].key, self.by_label[text]
        return self._by_pattern(text, "pattern")

    def from_key(self, key: str) -> tuple[str, Spec] | None:
        if key in self.by_key:
            return self.by_key[key].key, self.by_key[key]
        return self._by_pattern(key, "key_pattern")

    def canonical(self, key: str) -> str:
        found = self.from_key(key)
        return found[0] if found else key

    def _by_pattern(self, text: str, attribute: str) -> tuple[str, Spec] | None:
        for spec in self.specs:
            pattern = getattr(spec, attribute)
            match = pattern.match(text) if pattern else None
            if match:
                return spec.key.format(match.group(1) or "0"), spec
        return None


@functools.lru_cache(maxsize=1)
def catalog() -> Catalog:
    return Catalog(load_yaml(Path(__file__).with_name("metrics.yaml").read_text(encoding="utf-8")))


class _Builder:
    """Collects a page's metrics, giving each a canonical key that no earlier row holds."""

    def __init__(self, source: str):
        self.page = StatusPage(source)
        self._used: set[str] = set()
        self._repeats: dict[str, int] = {}  # key -> how many rows asked for it, so numbering never rescans
        self._dropped = 0

    def add(self, label: str, raw: Any, source_key: str | None = None, subrows: Subrows | None = None) -> Metric | None:
        if len(self.page.metrics) >= MAX_ROWS:
            self._dropped += 1
            return None
        key, spec = self._resolve(label, source_key)
        unique, n = key, self._repeats.get(key, 1)
        while unique in self._used:
            n += 1
            unique = f"{key}_{n}"
        self._repeats[key] = n
        self._used.add(unique)
        kind = spec.kind if spec else None
        metric = Metric(
            unique, label, normalise(kind, raw), raw if _plain(raw) else tidy(raw), kind, source_key, subrows
        )
        self.page.metrics.append(metric)
        return metric

    @staticmethod
    def _resolve(label: str, source_key: str | None) -> tuple[str, Spec | None]:
        # The label first: it tells the duplicated "object_storage" rows apart, and it is all a paste has.
        found = catalog().from_label(label) or (catalog().from_key(source_key) if source_key else None)
        if found:
            return found
        return (slug(source_key) if source_key else "") or slug(label) or "row", None

    def finish(self) -> StatusPage:
        page = self.page
        if self._dropped:
            page.problems.append(f"only the first {MAX_ROWS:,} rows were read; {self._dropped:,} more were left out")
        if not page.metrics:
            page.problems.append(
                "no System Status rows found: expected the JSON of /api/instance_status or the "
                "page's Metric / Value rows"
            )
            return page
        missing = [catalog().by_key[key].labels[0] for key in catalog().always_sent if page.metric(key) is None]
        if missing:
            page.problems.append(
                f"rows every PostHog sends are missing ({', '.join(missing)}): the page was not copied whole"
            )
        return page


def _plain(raw: Any) -> bool:
    return raw is None or isinstance(raw, (bool, int, float)) or (isinstance(raw, str) and len(raw) <= MAX_TEXT)


# --- JSON -------------------------------------------------------------------------------------------


def status_from_api(body: Any, *, source: str = "api") -> StatusPage:
    """The page from the decoded JSON of /api/instance_status (old and new shapes). Never raises."""
    try:
        return _from_json(body, source)
    except Exception as exc:  # noqa: BLE001 - the promise is "never raises": a bug here must not end a run
        return StatusPage(source, problems=[f"could not read the response ({type(exc).__name__})"])


def _from_json(body: Any, source: str) -> StatusPage:
    builder = _Builder(source)
    rows = _overview_rows(body)
    if rows is None:
        builder.page.problems.append(
            'the JSON holds no System Status rows (expected {"results": {"overview": '
            "[...]}} as /api/instance_status answers)"
        )
        return builder.page
    skipped = sum(not _add_row(builder, row) for row in rows)
    if skipped:
        builder.page.problems.append(f"{skipped} row(s) had neither a metric nor a key and were ignored")
    return builder.finish()


def _overview_rows(body: Any) -> list | None:
    """The list of rows, from the full response, its `results`, the bare list, or a single row."""
    if isinstance(body, dict) and isinstance(body.get("results"), dict):
        body = body["results"]
    if isinstance(body, dict) and isinstance(body.get("overview"), list):
        return body["overview"]
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and ("metric" in body or "key" in body):
        return [body]
    return None


def _add_row(builder: _Builder, row: Any) -> bool:
    if not isinstance(row, dict):
        return False
    label = tidy(row["metric"]) if row.get("metric") not in (None, "") else ""
    key = row.get("key")
    source_key = key.strip()[:200] if isinstance(key, str) and key.strip() else None
    if not label and not source_key:
        return False
    builder.add(label or source_key or "", row.get("value"), source_key, _subrows(row.get("subrows")))
    return True


def _subrows(data: Any) -> Subrows | None:
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        return None
    columns: list[Any] = data["columns"] if isinstance(data.get("columns"), list) else []
    rows = [
        [_cell(v) for v in row[:MAX_COLUMNS]] if isinstance(row, (list, tuple)) else [_cell(row)]
        for row in data["rows"][:MAX_SUBROWS]
    ]
    return Subrows([tidy(c) for c in columns[:MAX_COLUMNS]], rows)


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return normalise(None, value)  # NaN and Infinity become text
    return value if value is None or isinstance(value, (bool, int)) else tidy(value)


def _salvage_json(text: str) -> StatusPage:
    """Rows recovered one by one from JSON that does not parse whole (a response cut short)."""
    builder = _Builder("json")
    decoder = json.JSONDecoder()
    position, attempts = 0, 0
    starts = re.compile(r'\{\s*"(?:key|metric)"\s*:')
    while attempts < MAX_SALVAGE_ATTEMPTS and len(builder.page.metrics) < MAX_ROWS:
        match = starts.search(text, position)
        if match is None:
            break
        attempts += 1
        try:
            row, end = decoder.raw_decode(text, match.start())
        except (ValueError, RecursionError):
            position = match.end()
            continue
        _add_row(builder, row)
        position = end
    if builder.page.metrics:
        builder.page.problems.append(
            f"the JSON is not complete (cut short?): {len(builder.page.metrics)} row(s) "
            "were recovered, the rest is missing"
        )
    return builder.finish()


# --- pasted text ------------------------------------------------------------------------------------


def parse_status(text: str) -> StatusPage:
    """The page from a saved JSON response or the page's text copied from a browser. Never raises."""
    try:
        return _parse(text)
    except Exception as exc:  # noqa: BLE001 - the promise is "never raises": a bug here must not end a run
        return StatusPage("text", problems=[f"could not read the page ({type(exc).__name__})"])


def _parse(text: Any) -> StatusPage:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = str(text or "").replace("\ufeff", "").replace("\x00", "").strip()
    if not text:
        return StatusPage("text", problems=["the page is empty"])
    if text[0] in "{[":
        try:
            return status_from_api(json.loads(text), source="json")
        except (ValueError, RecursionError):
            salvaged = _salvage_json(text)
            if salvaged.metrics:
                return salvaged
    return parse_text(text)


def parse_text(text: str) -> StatusPage:
    """Metric / Value rows as a browser copies them: tab separated, one cell per line, space separated, or a
    Markdown table; an expanded row's sub-table follows it, with its header."""
    reader = _TextReader()
    lines = text.splitlines()
    for line in lines[:MAX_LINES]:
        reader.feed(line)
    page = reader.finish()
    if len(lines) > MAX_LINES:
        page.problems.insert(0, f"only the first {MAX_LINES:,} of {len(lines):,} lines were read")
    return page


class _TextReader:
    def __init__(self) -> None:
        self.builder = _Builder("text")
        self.pending: str | None = None  # a known label alone on its line: its value is on the next line
        self.table: _SubTable | None = None  # the table row whose expanded sub-table may follow
        self.ignored: list[str] = []

    def feed(self, line: str) -> None:
        cells = _cells(line)
        if not cells or all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
            return  # a blank line or a Markdown separator
        if norm(" ".join(cells)) in ("metric value", "metric", "value"):
            self._close_table()  # the page's own header (a sub-table header has three columns)
            return
        known = _known_row(cells)
        if known is not None:
            self._flush_pending()
            self._close_table()
            label, value = known
            if value is None:
                self.pending = label
            else:
                self._add(label, value)
            return
        if self.pending is not None:
            label, self.pending = self.pending, None
            self._add(label, " ".join(cells))
        elif norm(" ".join(cells)) in catalog().page_text:
            self._close_table()
        elif self.table is not None:
            self.table.feed(cells)
        elif len(cells) >= 2:
            self._add(cells[0], " ".join(cells[1:]))
        else:
            self.ignored.append(line.strip())

    def _add(self, label: str, value: str) -> None:
        metric = self.builder.add(label, value)
        found = catalog().from_label(label)
        if metric is not None and found and found[1].kind == "table":
            self.table = _SubTable(metric, list(found[1].columns))

    def _flush_pending(self) -> None:
        if self.pending is not None:
            self._add(self.pending, "")
            self.pending = None

    def _close_table(self) -> None:
        if self.table is not None:
            self.table.close()
            self.table = None

    def finish(self) -> StatusPage:
        self._flush_pending()
        self._close_table()
        if self.ignored:
            example = self.ignored[0] if len(self.ignored[0]) <= 80 else self.ignored[0][:79] + "…"
            self.builder.page.problems.append(
                f"{len(self.ignored)} line(s) were not understood and were ignored, e.g. {example!r}"
            )
        return self.builder.finish()


class _SubTable:
    """The rows of an expanded row (ClickHouse table sizes, system metrics, Helm info), header optional."""

    def __init__(self, metric: Metric, columns: list[str]):
        self.metric = metric
        self.columns = columns
        self.rows: list[list[Any]] = []
        self.loose: list[str] = []  # single cells, when each cell was copied onto its own line

    def feed(self, cells: list[str]) -> None:
        if len(self.rows) >= MAX_SUBROWS:
            return
        if len(cells) == 1 and len(self.columns) > 1:
            self.loose.append(cells[0])
            if len(self.loose) == len(self.columns):
                self._row(self.loose)
                self.loose = []
            return
        self._row(cells)

    def _row(self, cells: list[str]) -> None:
        if not self.rows and [norm(c) for c in cells] == [norm(c) for c in self.columns]:
            return  # the sub-table's header
        self.rows.append([normalise(None, c) for c in cells[:MAX_COLUMNS]])

    def close(self) -> None:
        if self.loose:
            self._row(self.loose)
        if self.rows:
            self.metric.subrows = Subrows(list(self.columns), self.rows)


def _cells(line: str) -> list[str]:
    """The cells of one pasted line: split on tabs, Markdown pipes, or runs of two or more spaces."""
    line = line.replace("\u00a0", " ").replace("\u200b", "")
    if "\t" in line:
        parts = line.split("\t")
    elif line.lstrip().startswith("|"):
        parts = line.strip().strip("|").split("|")
    else:
        parts = re.split(r" {2,}", line.strip())
    cells = [" ".join(p.split()) for p in parts]
    while cells and not cells[0]:  # the expand-arrow column of the page's table
        cells.pop(0)
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _known_row(cells: list[str]) -> tuple[str, str | None] | None:
    """(label, value or None) when the line starts with a label metrics.yaml knows."""
    if catalog().from_label(cells[0]):
        return cells[0], (" ".join(cells[1:]) if len(cells) > 1 else None)
    if len(cells) == 1:  # "Plugin server alive Yes": the separator was lost, so try the longest known label
        words = cells[0].split()
        for n in range(min(len(words) - 1, 12), 0, -1):
            label = " ".join(words[:n])
            if catalog().from_label(label):
                return label, " ".join(words[n:])
    return None
