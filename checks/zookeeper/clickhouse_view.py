"""ClickHouse's own view of its ZooKeeper: configured or not, which node it talks to, whether it reaches it
now, and how many tables depend on it. Metadata only: system.tables, system.zookeeper_connection, and the
names of the znodes under '/' (system.zookeeper needs a path filter; no value is read).

Version gates: ClickHouse attaches system.zookeeper only when a ZooKeeper is configured, and
system.zookeeper_connection exists only from 23.x (absent on 18.16); what could not be read is said.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from posthog_doctor.check import ConnectorError, Context, MissingObject, Query

TABLES = Query.from_file(__file__, "clickhouse_zookeeper_tables.sql", "clickhouse")
CONNECTION = Query.from_file(__file__, "clickhouse_zookeeper_connection.sql", "clickhouse")
ROOT = Query.from_file(__file__, "clickhouse_zookeeper_root.sql", "clickhouse")
REPLICATED = Query.from_file(__file__, "clickhouse_replicated_tables.sql", "clickhouse")
QUERIES = (TABLES, CONNECTION, ROOT, REPLICATED)
ZOOKEEPER_CALL_SECONDS = 8.0  # ClickHouse's own ZooKeeper operation timeout is 10 s; do not wait longer


@dataclass
class ClickHouseView:
    configured: bool
    nodes: list[str] = field(default_factory=list)  # host:port ClickHouse is connected to (23.x+)
    expired: bool = False  # a session ClickHouse holds has expired
    reaches: bool | None = None  # whether ClickHouse listed '/' just now (None: not asked)
    error: str = ""  # why it could not
    root: list[str] = field(default_factory=list)  # znode names under '/'
    replicated_tables: int | None = None
    unread: list[str] = field(default_factory=list)  # what could not be read, and why


def read(ctx: Context) -> tuple[ClickHouseView | None, str]:
    """ClickHouse's view, or None and why it could not be had (ClickHouse down, or refusing the first query)."""
    if not ctx.available("clickhouse"):
        return None, ""
    ch = ctx.clickhouse
    try:
        present = {str(r[0]) for r in ch.query(TABLES).rows}
    except ConnectorError as exc:
        return None, f"ClickHouse could not be asked about its ZooKeeper: {exc}"
    view = ClickHouseView(configured="zookeeper" in present)
    try:
        view.replicated_tables = int(ch.query(REPLICATED).scalar(0))
    except ConnectorError as exc:
        view.unread.append(f"replicated tables: {exc}")
    if not view.configured:
        return view, ""
    if "zookeeper_connection" in present:
        try:
            for host, port, expired in ch.query(CONNECTION).rows:
                view.nodes.append(f"{host}:{port}")
                view.expired = view.expired or bool(int(expired))
        except MissingObject as exc:  # early 23.x named the columns zookeeper_*: the rest still tells
            view.unread.append(f"system.zookeeper_connection: {exc}")
    else:
        view.unread.append("system.zookeeper_connection: not on this ClickHouse version (23.x and later)")
    try:
        rows = ch.query(ROOT, timeout=ZOOKEEPER_CALL_SECONDS).rows
        view.reaches, view.root = True, [str(r[0]) for r in rows]
    except ConnectorError as exc:  # ClickHouse answered, but not its ZooKeeper: that is the finding
        view.reaches, view.error = False, _zookeeper_error(str(exc))
    return view, ""


def _zookeeper_error(text: str) -> str:
    """ClickHouse's own words, without the connector's preamble or the repeated exception class name:
    "All connection tries failed while connecting to ZooKeeper. Addresses: zookeeper:2181"."""
    text = text.split("returned an error:", 1)[-1].strip()
    return text.rsplit("Coordination::Exception:", 1)[-1].strip()
