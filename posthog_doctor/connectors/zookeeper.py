"""ZooKeeper and ClickHouse Keeper, read-only: three four-letter words over plain TCP.

A four-letter word is the whole request: the client sends four bytes, the server answers in plain text
and closes the connection. Only `srvr` (server details), `mntr` (monitoring variables) and `ruok` ("are
you ok?") are ever sent: they change nothing, unlike `srst`/`crst` (reset statistics) or Keeper's
`rcvr`, `csnp`, `rqld`, `ydld` (recovery, snapshot, leadership). Each answer is read up to a size cap and
by a deadline, so a silent port or a server trickling bytes costs the call its time limit, never the run.

What a server says when it will not answer (ZooKeeper 3.5.3+ and the `zookeeper:*` images allow only
`srvr` unless `4lw.commands.whitelist` says more):
- ZooKeeper: `<word> is not executed because it is not in the whitelist.` (NettyServerCnxn/NIOServerCnxn);
- ClickHouse Keeper: closes the connection without a word (KeeperTCPHandler::tryExecuteFourLetterWordCmd
  returns false for a word not in `four_letter_word_allow_list`);
- a member that has lost its quorum: `This ZooKeeper instance is not currently serving requests`
  (Keeper: `This instance is not currently serving requests`).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from ..endpoints import Endpoint
from .base import ConnectorError, Deadline, ErrorKind, network_error
from .results import Query

WORDS = ("srvr", "mntr", "ruok")  # the only words this connector sends: each one only reads
MAX_ANSWER_BYTES = 256_000  # a ZooKeeper 3.8 `mntr` is about 20 kB
CALL_CAP_SECONDS = 5.0

NOT_IN_WHITELIST = "is not executed because it is not in the whitelist"
NOT_SERVING = "is not currently serving requests"

# What the probe sends (`posthog-doctor explain` lists it beside the checks' own words).
PROBE_QUERY = Query("zookeeper", "srvr", "srvr")
OWN_QUERIES = (PROBE_QUERY,)


@dataclass(frozen=True)
class FourLetterAnswer:
    """What the server said to one word: its text (possibly empty), cut at the size cap when `truncated`."""

    word: str
    text: str
    truncated: bool
    elapsed_ms: float

    @property
    def not_in_whitelist(self) -> bool:
        """ZooKeeper refused the word: it is not in `4lw.commands.whitelist`."""
        return NOT_IN_WHITELIST in self.text

    @property
    def not_serving(self) -> bool:
        """The server is up but not serving (a quorum member that cannot reach its quorum)."""
        return NOT_SERVING in self.text

    @property
    def silent(self) -> bool:
        """The server closed the connection without a word (ClickHouse Keeper's answer to a word it does not allow)."""
        return not self.text.strip()

    @property
    def answered(self) -> bool:
        """Whether this is the word's real answer (not a refusal, not silence)."""
        return not (self.not_in_whitelist or self.not_serving or self.silent)

    def fields(self) -> dict[str, str]:
        """`srvr` (`Key: value` lines) or `mntr` (`zk_key<TAB>value` lines) as a mapping; {} for anything else."""
        found: dict[str, str] = {}
        if not self.answered:
            return found
        for line in self.text.splitlines():
            if "\t" in line:
                key, _, value = line.partition("\t")
            elif ":" in line:
                key, _, value = line.partition(":")
            else:
                continue
            found[key.strip()] = value.strip()
        return found


class ZooKeeper:
    """Four-letter words to one ZooKeeper or ClickHouse Keeper server, for one check."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline):
        self.endpoint = endpoint
        self.deadline = deadline
        self.where = f"{endpoint.host}:{endpoint.port}"

    def command(self, word: str) -> FourLetterAnswer:
        """Send `word` (one of WORDS) and read the whole answer, bounded in size and time."""
        if word not in WORDS:
            raise ConnectorError(f"refused to send {word!r}: only {', '.join(WORDS)} are sent", ErrorKind.NOT_ALLOWED)
        limit = self.deadline.limit(CALL_CAP_SECONDS)
        stop_at = time.monotonic() + limit
        started = time.monotonic()
        chunks: list[bytes] = []
        size = 0
        try:
            with socket.create_connection((self.endpoint.host, self.endpoint.port), timeout=min(limit, 5.0)) as sock:
                sock.sendall(word.encode("ascii"))
                while True:
                    left = stop_at - time.monotonic()
                    if left <= 0:
                        raise ConnectorError(
                            f"{self.where} was still answering {word!r} after {limit:.1f} s", ErrorKind.TIMEOUT
                        )
                    sock.settimeout(left)
                    chunk = sock.recv(16_384)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_ANSWER_BYTES:
                        break
        except ConnectorError:
            raise
        except TimeoutError:
            raise ConnectorError(
                f"no answer to {word!r} from {self.where} within {limit:.1f} s", ErrorKind.TIMEOUT
            ) from None
        except ConnectionResetError:
            # A server may reset instead of closing once it has answered; what arrived is the answer.
            if not chunks:
                raise ConnectorError(f"{self.where} closed the connection unexpectedly", ErrorKind.PROTOCOL) from None
        except OSError as exc:
            raise network_error(exc, self.where, limit) from None
        raw = b"".join(chunks)
        truncated = len(raw) > MAX_ANSWER_BYTES
        return FourLetterAnswer(
            word,
            raw[:MAX_ANSWER_BYTES].decode("utf-8", errors="replace"),
            truncated,
            (time.monotonic() - started) * 1000,
        )

    def close(self) -> None:
        """Nothing stays open between words: each one has its own short connection."""
