"""ZooKeeper for the tests: a real Apache ZooKeeper (Debian's `zookeeper` package, run from its jar without
Docker), a real ClickHouse 18.16 configured to use it, and a real local TCP server that answers the
four-letter words exactly as ClickHouse Keeper does (no Keeper binary is installable here).

- `start_zookeeper()`: ZooKeeper 3.8 standalone, with the default 4lw whitelist (only `srvr`, as the
  `zookeeper:3.7.0` image PostHog's hobby stack runs) or a given one; `lost_quorum=True` starts one member
  of a two-member ensemble, which answers "This ZooKeeper instance is not currently serving requests".
- `start_clickhouse_with_zookeeper(port)`: Debian's ClickHouse with a `<zookeeper>` section pointing at it.
- `FourLetterServer`: a real TCP server answering the words in a server's exact formats, for states a real
  ZooKeeper cannot be put in here: ClickHouse Keeper (src/Coordination/FourLetterCommand.cpp:
  ServerStatCommand, MonitorCommand, RuokCommand; its refusal is closing the connection without a word,
  KeeperTCPHandler::tryExecuteFourLetterWordCmd), and ZooKeeper 3.7.0 (the hobby image's version) in
  read-only mode. It records every word it received.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

from tests import servers
from tests.servers import Server, Unavailable, free_port, wait_for_port

ZOOKEEPER_JAR = Path("/usr/share/java/zookeeper.jar")
ZOOKEEPER_CONF = Path("/etc/zookeeper/conf_example")  # Debian's log4j settings, on the classpath


def start_zookeeper(whitelist: str | None = None, *, lost_quorum: bool = False) -> Server:
    """A throwaway ZooKeeper on a free port. `whitelist=None` keeps ZooKeeper's own default (srvr only)."""
    java = servers.find_binary("java")
    if not ZOOKEEPER_JAR.exists():
        raise Unavailable(f"{ZOOKEEPER_JAR} is missing (apt-get install zookeeper)")
    folder = Path(tempfile.mkdtemp(prefix="phd-zookeeper-"))
    (folder / "data").mkdir()
    port = free_port()
    lines = [
        "tickTime=500",
        "initLimit=5",
        "syncLimit=2",
        f"dataDir={folder / 'data'}",
        f"clientPort={port}",
        "clientPortAddress=127.0.0.1",
        "admin.enableServer=false",
        "autopurge.purgeInterval=0",
    ]
    if whitelist is not None:
        lines.append(f"4lw.commands.whitelist={whitelist}")
    main = "org.apache.zookeeper.server.ZooKeeperServerMain"
    if lost_quorum:  # member 1 of 2; member 2 never starts, so there is no majority
        (folder / "data" / "myid").write_text("1\n")
        lines += [
            f"server.1=127.0.0.1:{free_port()}:{free_port()}",
            f"server.2=127.0.0.1:{free_port()}:{free_port()}",
        ]
        main = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
    config = folder / "zoo.cfg"
    config.write_text("\n".join(lines) + "\n")
    log = folder / "zookeeper.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [java, "-Xmx96m", "-XX:+UseSerialGC", "-cp", f"{ZOOKEEPER_CONF}:{ZOOKEEPER_JAR}", main, str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            start_new_session=True,
        )

    def stop() -> None:
        servers._kill(proc, grace=1)  # throwaway data: no need to wait for a slow shutdown
        shutil.rmtree(folder, ignore_errors=True)

    try:
        wait_for_port(port, 30, proc, log)
        _wait_answers(port, serving=not lost_quorum)
    except Exception:
        stop()
        raise
    return Server("zookeeper", f"zk://127.0.0.1:{port}", port=port, details={"folder": str(folder)}, _stop=stop)


def _wait_answers(port: int, *, serving: bool, seconds: float = 20) -> None:
    """ZooKeeper binds its port, then answers "not currently serving requests" until it has loaded its
    data: wait for the answer the test needs (a ClickHouse connecting before that gives up on it)."""
    import time

    stop_at = time.monotonic() + seconds
    answer = b""
    while time.monotonic() < stop_at:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"srvr")
                answer = sock.recv(4096)
            if answer and (b"not currently serving" not in answer) == serving:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise Unavailable(f"ZooKeeper on port {port} did not come up within {seconds:.0f} s (it said {answer[:60]!r})")


_CH_ZOOKEEPER = """\
<yandex>
  <zookeeper>
    <node><host>127.0.0.1</host><port>{port}</port></node>
    <session_timeout_ms>4000</session_timeout_ms>
    <operation_timeout_ms>2000</operation_timeout_ms>
  </zookeeper>
</yandex>
"""


def start_clickhouse_with_zookeeper(zookeeper_port: int) -> Server:
    """Debian's ClickHouse (the suite's 18.16) with PostHog's kind of `<zookeeper>` section, on free ports."""
    return servers.start_clickhouse(
        {"zookeeper.xml": _CH_ZOOKEEPER.format(port=zookeeper_port)},
        prefix="phd-clickhouse-zk-",
        grace=1,  # throwaway data: no need to wait for a slow shutdown
    )


# --- ClickHouse Keeper's answers (FourLetterCommand.cpp) -------------------------------------------------

KEEPER_VERSION = "v23.8.2.7-lts-f73c8f378745d8520eec1b3e5a1ae9d2b3a7c3e5"
KEEPER_SRVR = (
    f"ClickHouse Keeper version: {KEEPER_VERSION}\n"
    "Latency min/avg/max: 0/1/27\n"
    "Received: 4211\n"
    "Sent: 4211\n"
    "Connections: 2\n"
    "Outstanding: {outstanding}\n"
    "Zxid: 0x2b8f\n"
    "Mode: {mode}\n"
    "Node count: {znodes}\n"
)
KEEPER_MNTR = (
    f"zk_version\t{KEEPER_VERSION}\n"
    "zk_avg_latency\t1\n"
    "zk_max_latency\t27\n"
    "zk_min_latency\t0\n"
    "zk_packets_received\t4211\n"
    "zk_packets_sent\t4211\n"
    "zk_num_alive_connections\t2\n"
    "zk_outstanding_requests\t{outstanding}\n"
    "zk_server_state\t{mode}\n"
    "zk_znode_count\t{znodes}\n"
    "zk_watch_count\t3\n"
    "zk_ephemerals_count\t2\n"
    "zk_approximate_data_size\t{data_size}\n"
    "zk_key_arena_size\t0\n"
    "zk_latest_snapshot_size\t0\n"
    "zk_open_file_descriptor_count\t310\n"
    "zk_max_file_descriptor_count\t10240\n"
    "zk_followers\t{followers}\n"
    "zk_synced_followers\t{synced}\n"
)
KEEPER_NOT_SERVING = "This instance is not currently serving requests"

# ZooKeeper 3.7.0's `srvr` (the zookeeper:3.7.0 image PostHog's hobby stack runs), and its refusal.
ZOOKEEPER_37_SRVR = (
    "Zookeeper version: 3.7.0-e3704b390a6697bfdf4b0bef79e3da7a4f6bac4b, built on 2021-03-17 09:46 UTC\n"
    "Latency min/avg/max: 0/0.2754/12\n"
    "Received: 1620\n"
    "Sent: 1619\n"
    "Connections: 3\n"
    "Outstanding: 0\n"
    "Zxid: 0x6a\n"
    "Mode: {mode}\n"
    "Node count: 160\n"
)
ZOOKEEPER_NOT_IN_WHITELIST = "{word} is not executed because it is not in the whitelist.\n"


class FourLetterServer:
    """A real TCP server answering four-letter words from `answers` (word -> reply). A word it lacks (or maps
    to None) is refused as ClickHouse Keeper refuses it: the connection is closed without a word."""

    def __init__(self, answers: dict[str, str | None]) -> None:
        self.answers = answers
        self.words: list[bytes] = []  # every request received, as sent
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"zk://127.0.0.1:{self.port}"
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    @classmethod
    def keeper(
        cls,
        *,
        mode: str = "leader",
        outstanding: int = 0,
        znodes: int = 5321,
        data_size: int = 2_404_883,
        synced: int = 2,
        words: tuple[str, ...] = ("srvr", "mntr", "ruok"),
    ) -> FourLetterServer:
        """ClickHouse Keeper (leader of three by default) allowing `words`."""
        fields = dict(
            mode=mode, outstanding=outstanding, znodes=znodes, data_size=data_size, followers=2, synced=synced
        )
        answers = {"srvr": KEEPER_SRVR.format(**fields), "mntr": KEEPER_MNTR.format(**fields), "ruok": "imok"}
        return cls({w: a for w, a in answers.items() if w in words})

    @classmethod
    def zookeeper_37(cls, *, mode: str) -> FourLetterServer:
        """ZooKeeper 3.7.0 with the image's default whitelist (srvr only)."""
        refused = {w: ZOOKEEPER_NOT_IN_WHITELIST.format(word=w) for w in ("mntr", "ruok")}
        return cls({"srvr": ZOOKEEPER_37_SRVR.format(mode=mode), **refused})

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    word = conn.recv(4)
                except OSError:
                    continue
                self.words.append(word)
                reply = self.answers.get(word.decode("ascii", "replace"))
                if reply:
                    try:
                        conn.sendall(reply.encode())
                    except OSError:  # the client stopped reading (an answer over its cap)
                        continue

    def close(self) -> None:
        self._stop = True
        self.sock.close()
