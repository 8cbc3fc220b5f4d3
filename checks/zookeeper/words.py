"""What the four-letter words say, as figures: `srvr` (every server allows it) and `mntr` (where allowed).

`srvr` (ZooKeeper 3.5+ and ClickHouse Keeper, FourLetterCommand.cpp ServerStatCommand):
    Zookeeper version: 3.7.0-..., built on ...        (Keeper: `ClickHouse Keeper version: v23.3...`)
    Latency min/avg/max: 0/0.5/12
    Received: 10 / Sent: 9 / Connections: 2 / Outstanding: 0
    Zxid: 0x1a / Mode: standalone|leader|follower|observer|read-only / Node count: 5
`mntr` is `zk_<key><TAB><value>` lines: zk_server_state, zk_outstanding_requests, zk_avg_latency,
zk_znode_count, zk_approximate_data_size, zk_num_alive_connections, zk_open_file_descriptor_count,
zk_max_file_descriptor_count, and on a leader zk_followers and zk_synced_followers.
"""

from __future__ import annotations

from dataclasses import dataclass

from posthog_doctor.check import FourLetterAnswer


@dataclass
class Figures:
    """The server's state as numbers, from whichever words it answered (None: not said)."""

    version: str = ""
    keeper: bool = False  # ClickHouse Keeper rather than Apache ZooKeeper
    mode: str = ""
    outstanding: int | None = None
    latency_min_ms: float | None = None
    latency_avg_ms: float | None = None
    latency_max_ms: float | None = None
    znodes: int | None = None
    data_bytes: int | None = None  # zk_approximate_data_size: what ZooKeeper holds in memory
    connections: int | None = None
    followers: int | None = None
    synced_followers: int | None = None
    open_fds: int | None = None
    max_fds: int | None = None


def figures(srvr: FourLetterAnswer | None, mntr: FourLetterAnswer | None) -> Figures:
    found = Figures()
    if srvr is not None and srvr.answered:
        fields = srvr.fields()
        if "ClickHouse Keeper version" in fields:
            found.version, found.keeper = fields["ClickHouse Keeper version"].split("-")[0], True
        else:
            found.version = fields.get("Zookeeper version", "").split(",")[0].split("-")[0]
        found.mode = fields.get("Mode", "")
        found.outstanding = _int(fields.get("Outstanding"))
        found.znodes = _int(fields.get("Node count"))
        found.connections = _int(fields.get("Connections"))
        latency = fields.get("Latency min/avg/max", "").split("/")
        if len(latency) == 3:
            found.latency_min_ms, found.latency_avg_ms, found.latency_max_ms = (_float(v) for v in latency)
    if mntr is not None and mntr.answered:
        fields = mntr.fields()
        found.version = found.version or fields.get("zk_version", "").split(",")[0].split("-")[0]
        found.mode = found.mode or fields.get("zk_server_state", "")
        for name, key in (
            ("outstanding", "zk_outstanding_requests"),
            ("znodes", "zk_znode_count"),
            ("connections", "zk_num_alive_connections"),
        ):
            if getattr(found, name) is None:
                setattr(found, name, _int(fields.get(key)))
        if found.latency_avg_ms is None:
            found.latency_avg_ms = _float(fields.get("zk_avg_latency"))
            found.latency_max_ms = _float(fields.get("zk_max_latency"))
        found.data_bytes = _int(fields.get("zk_approximate_data_size"))
        found.followers = _int(fields.get("zk_followers"))
        found.synced_followers = _int(fields.get("zk_synced_followers"))
        found.open_fds = _int(fields.get("zk_open_file_descriptor_count"))
        found.max_fds = _int(fields.get("zk_max_file_descriptor_count"))
    return found


def _int(text: str | None) -> int | None:
    try:
        return int(float(str(text).strip())) if text not in (None, "") else None
    except ValueError:
        return None


def _float(text: str | None) -> float | None:
    try:
        return float(str(text).strip()) if text not in (None, "") else None
    except ValueError:
        return None
