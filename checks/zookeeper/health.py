"""Is ZooKeeper (or ClickHouse Keeper) healthy, and does ClickHouse reach it?

Asked two ways, both read-only: the server itself through the four-letter words `srvr`, `mntr` and `ruok`
(mode, queued requests, latency, znode count, data size), and ClickHouse's own view (is one configured,
does ClickHouse reach it now, how many replicated tables depend on it). ZooKeeper 3.5.3+ and the
`zookeeper:3.7.0` image PostHog's hobby stack runs allow only `srvr` by default; a word outside
`4lw.commands.whitelist` is said as such, with how to allow it, never as a failure.
"""

from __future__ import annotations

from posthog_doctor.check import (
    Advice,
    Check,
    ConnectorError,
    Context,
    ErrorKind,
    Finding,
    FourLetterAnswer,
    Item,
    Option,
    Outcome,
    Query,
    Skip,
    Table,
    Text,
    Values,
    conclude,
    units,
)

from ..common import docs
from . import clickhouse_view
from .clickhouse_view import ClickHouseView
from .words import Figures, figures

SRVR = Query("zookeeper", "srvr", "srvr")
MNTR = Query("zookeeper", "mntr", "mntr")
RUOK = Query("zookeeper", "ruok", "ruok")

RESTART = Advice(
    "Start ZooKeeper again and read why it stopped (disk full and out of memory are the usual causes); "
    "ClickHouse reconnects by itself once it answers.",
    commands=[
        "docker compose ps zookeeper",
        "docker compose logs --tail 200 zookeeper",
        "docker compose up -d zookeeper",
        "kubectl -n posthog logs statefulset/posthog-posthog-zookeeper --tail 200",
    ],
    links=[docs.ZOOKEEPER_RUNBOOK],
)
QUORUM = Advice(
    "A member that is not serving has lost its quorum: more than half of the ensemble must be up and able "
    "to reach each other. Start the missing members (or fix the network between them); the members elect "
    "a leader by themselves once a majority is back.",
    commands=["kubectl -n posthog get pods -l app.kubernetes.io/name=zookeeper"],
    links=[docs.ZOOKEEPER_RUNBOOK, docs.CLICKHOUSE_REPLICATION],
)
CLICKHOUSE_CONFIG = Advice(
    "ClickHouse finds its ZooKeeper through the <zookeeper> section of its config (hobby: "
    "docker/clickhouse/config.xml, host `zookeeper`, port 2181). Check that section, and that ClickHouse's "
    "container reaches that host; the replicated tables take inserts again once it does.",
    links=[docs.CLICKHOUSE_ZOOKEEPER_TABLE, docs.CLICKHOUSE_REPLICATION],
)
LOAD = Advice(
    "ZooKeeper is slow to answer: it is usually waiting on its disk (every write is fsynced) or short of "
    "memory. Give its data volume a faster disk and its JVM more heap, and make sure autopurge runs so "
    "old snapshots and logs do not pile up.",
    links=[docs.ZOOKEEPER_RUNBOOK],
)
GROWTH = Advice(
    "ZooKeeper keeps every znode in memory (the zookeeper image's default heap is 1000 MB). Most of "
    "PostHog's znodes are ClickHouse's replication log and insert-deduplication blocks: look for tables "
    "that were dropped without cleaning up, and keep autopurge on (ZOO_AUTOPURGE_PURGEINTERVAL=1, as the "
    "hobby stack sets it).",
    links=[docs.ZOOKEEPER_RUNBOOK, docs.CLICKHOUSE_REPLICATION],
)
WHITELIST = Advice(
    "Allow the read-only words the doctor uses, so it can also report ZooKeeper's data size and health: "
    "4lw.commands.whitelist=srvr,mntr,ruok in zoo.cfg, or ZOO_4LW_COMMANDS_WHITELIST=srvr,mntr,ruok on the "
    "zookeeper image (ClickHouse Keeper: four_letter_word_allow_list, which allows them by default).",
    links=[docs.ZOOKEEPER_4LW, docs.ZOOKEEPER_IMAGE, docs.CLICKHOUSE_KEEPER],
)
ADDRESS = Advice(
    "Run the doctor on PostHog's network, or give ZooKeeper's address with --zookeeper-url zk://HOST:2181 "
    "(hobby: zookeeper:2181; Helm: posthog-posthog-zookeeper:2181).",
    links=[docs.HOBBY_DEPLOY],
)

# What a way of not answering means, in words (other failures quote the connector's own sentence).
NO_ANSWER = {
    ErrorKind.REFUSED: "refuses connections: ZooKeeper is not running there",
    ErrorKind.TIMEOUT: "accepts connections but does not answer: it is hung or overloaded",
    ErrorKind.DNS: "does not resolve: no such host on this network",
}


def _not_answering(where: str, said: str, kind: ErrorKind | None) -> str:
    return f"{where} {NO_ANSWER[kind]}" if kind in NO_ANSWER else f"{where} cannot be asked ({said})"


class ZooKeeperHealth(Check):
    """ZooKeeper (or ClickHouse Keeper): reachable, mode, queued requests, latency, znode count and data size
    from the read-only four-letter words `srvr`, `mntr`, `ruok`; and ClickHouse's own view (configured,
    reached now, replicated tables that depend on it)."""

    id = "zookeeper.health"
    title = "ZooKeeper"
    uses = ("zookeeper", "clickhouse")
    tags = ("zookeeper",)
    category = "Deployments/Maintenance"
    timeout = 20.0
    options = {
        "warn_outstanding": Option(10, "warn when more requests than this wait in ZooKeeper's queue"),
        "warn_avg_latency_ms": Option(100.0, "warn when ZooKeeper's average latency is above this (ms)"),
        "warn_znodes": Option(1_000_000, "warn when ZooKeeper holds more znodes than this"),
        "warn_data_bytes": Option(
            512 * 1024**2, "warn when ZooKeeper's in-memory data is larger than this (the image's heap is 1000 MB)"
        ),
    }
    queries = (SRVR, MNTR, RUOK, *clickhouse_view.QUERIES)

    def run(self, ctx: Context) -> Outcome:
        view, unread = clickhouse_view.read(ctx)
        probe = ctx.probe("zookeeper")
        where = (probe.endpoint or "").removeprefix("zk://") or "ZooKeeper"
        findings: list[Finding] = []
        evidence: list = []
        answers: dict[str, FourLetterAnswer] = {}

        if probe.reachable:
            answers = self._ask(ctx)
            found = figures(answers.get("srvr"), answers.get("mntr"))
            findings += self._judge_server(ctx, where, answers, found)
            evidence.append(_server_values(where, found))
            evidence.append(_words_table(answers))
        else:
            found = Figures()
            findings += self._unreachable(ctx, where, probe.summary, probe.error_kind, view)
        if view is not None:
            asked = probe.error_kind not in (ErrorKind.DISABLED, ErrorKind.NOT_CONFIGURED)
            findings += _judge_clickhouse(
                view, zookeeper_answers=probe.reachable, outage_told=asked and not probe.reachable
            )
            evidence.append(_clickhouse_values(view))
        if unread:
            evidence.append(Text("ClickHouse's view of ZooKeeper", unread))
        if not findings:
            raise Skip("neither ZooKeeper nor ClickHouse could be asked" + (f" ({unread})" if unread else ""))

        refused = [a.word for a in answers.values() if a.not_in_whitelist or (a.silent and a.word != "srvr")]
        if refused:
            evidence.append(
                Text(
                    "Four-letter words not allowed",
                    f"{', '.join(refused)}: not in this server's allow list (ZooKeeper's default allows only "
                    "srvr). " + WHITELIST.text,
                )
            )
        summary_bits = [f"{found.mode or 'answers'}"]
        if found.latency_avg_ms is not None:
            summary_bits.append(f"average latency {units.milliseconds(found.latency_avg_ms)}")
        if found.outstanding is not None:
            summary_bits.append(f"{found.outstanding} requests queued")
        if found.znodes is not None:
            summary_bits.append(f"{units.approx(found.znodes)} znodes")
        if found.data_bytes is not None:
            summary_bits.append(f"{units.size(found.data_bytes)} of data")
        healthy = f"ZooKeeper at {where}: " + ", ".join(summary_bits) if probe.reachable else findings[0].text
        if probe.reachable and view is not None and view.reaches:
            healthy += "; ClickHouse reaches it"
        return conclude(
            findings,
            healthy,
            evidence=evidence,
            advice=[WHITELIST] if refused else [],
            metrics={
                "zookeeper_outstanding": found.outstanding,
                "zookeeper_avg_latency_ms": found.latency_avg_ms,
                "zookeeper_znodes": found.znodes,
                "zookeeper_data_bytes": found.data_bytes,
            },
        )

    # -- the server itself --

    @staticmethod
    def _ask(ctx: Context) -> dict[str, FourLetterAnswer]:
        """srvr, then mntr and ruok; a word that fails in transport after srvr answered is left out."""
        answers = {"srvr": ctx.zookeeper.command(SRVR.text)}
        if answers["srvr"].not_serving:
            return answers  # every other word says the same
        for query in (MNTR, RUOK):
            try:
                answers[query.text] = ctx.zookeeper.command(query.text)
            except ConnectorError as exc:
                if exc.kind == ErrorKind.NOT_ALLOWED:
                    raise
        return answers

    def _judge_server(
        self, ctx: Context, where: str, answers: dict[str, FourLetterAnswer], found: Figures
    ) -> list[Finding]:
        o = ctx.options
        srvr = answers["srvr"]
        if srvr.not_serving:
            return [
                Finding.fail(
                    f"ZooKeeper at {where} runs but is not serving requests: it has lost its quorum, so "
                    "ClickHouse can neither insert into replicated tables nor run distributed DDL",
                    QUORUM,
                    key="not_serving",
                )
            ]
        if not any(a.answered for a in answers.values()):
            return [
                Finding.warn(
                    f"{where} accepts connections but answers none of srvr, mntr, ruok: it may not be "
                    f"ZooKeeper, or allows none of them ({srvr.text.strip()[:80]!r})",
                    WHITELIST,
                    key="no_words",
                )
            ]
        findings: list[Finding] = []
        ruok = answers.get("ruok")
        if ruok is not None and ruok.answered and ruok.text.strip() != "imok":
            findings.append(Finding.warn(f"ruok answered {ruok.text.strip()[:60]!r} instead of imok", RESTART))
        if found.mode == "read-only":
            findings.append(
                Finding.fail(
                    f"ZooKeeper at {where} is in read-only mode: it lost its quorum and refuses writes, so "
                    "ClickHouse cannot insert into replicated tables",
                    QUORUM,
                    key="read_only",
                )
            )
        if found.outstanding is not None and found.outstanding > o["warn_outstanding"]:
            findings.append(
                Finding.warn(
                    f"{found.outstanding} requests queued in ZooKeeper (more than {o['warn_outstanding']}): it "
                    "is not keeping up, and ClickHouse's inserts and merges wait on it",
                    LOAD,
                    key="outstanding",
                )
            )
        if found.latency_avg_ms is not None and found.latency_avg_ms > o["warn_avg_latency_ms"]:
            findings.append(
                Finding.warn(
                    f"ZooKeeper's average latency is {found.latency_avg_ms:g} ms (above "
                    f"{o['warn_avg_latency_ms']:g} ms; max {found.latency_max_ms or 0:g} ms)",
                    LOAD,
                    key="latency",
                )
            )
        if found.znodes is not None and found.znodes > o["warn_znodes"]:
            findings.append(
                Finding.warn(
                    f"ZooKeeper holds {units.approx(found.znodes)} znodes (more than {units.approx(o['warn_znodes'])})",
                    GROWTH,
                    key="znodes",
                )
            )
        if found.data_bytes is not None and found.data_bytes > o["warn_data_bytes"]:
            findings.append(
                Finding.warn(
                    f"ZooKeeper holds {units.size(found.data_bytes)} of data in memory (more than "
                    f"{units.size(o['warn_data_bytes'])}): close to the default 1000 MB heap, after which it "
                    "stalls in garbage collection or dies",
                    GROWTH,
                    key="data_size",
                )
            )
        if found.followers and found.synced_followers is not None and found.synced_followers < found.followers:
            findings.append(
                Finding.warn(
                    f"only {found.synced_followers} of {found.followers} followers are in sync with the leader",
                    QUORUM,
                    key="followers",
                )
            )
        if found.open_fds and found.max_fds and found.max_fds > 0 and found.open_fds > 0.9 * found.max_fds:
            findings.append(
                Finding.warn(
                    f"ZooKeeper uses {found.open_fds:,} of its {found.max_fds:,} file descriptors",
                    RESTART,
                    key="file_descriptors",
                )
            )
        return findings or [Finding.ok(f"ZooKeeper at {where} answers ({found.mode or 'mode not said'})")]

    @staticmethod
    def _unreachable(
        ctx: Context, where: str, said: str, kind: ErrorKind | None, view: ClickHouseView | None
    ) -> list[Finding]:
        """Findings when the doctor cannot ask ZooKeeper itself, told together with ClickHouse's view."""
        if kind in (ErrorKind.DISABLED, ErrorKind.NOT_CONFIGURED):
            if view is None:
                raise Skip(said)
            return []  # ClickHouse's view alone
        if view is not None and view.configured and view.reaches is False:
            # Down for ClickHouse too: the outage itself, said once with what it breaks.
            if ctx.configured("zookeeper"):
                doctor_saw = _not_answering(where, said, kind)
            else:  # the hobby and Helm names were tried, then localhost: name the last one tried
                doctor_saw = f"none answers at the default addresses (last tried {where}: {said})"
            return [
                Finding.fail(
                    f"ZooKeeper is down: {doctor_saw}, and ClickHouse cannot reach it either ({view.error}): "
                    f"{_depends(view)}",
                    RESTART,
                    key="zookeeper_down",
                )
            ]
        clickhouse_reaches = view is not None and view.configured and view.reaches
        nodes = f" at {', '.join(view.nodes)}" if view is not None and view.nodes else ""
        if not ctx.configured("zookeeper"):
            # Only the hobby default was tried: not finding one is a fault only when ClickHouse says so.
            if view is None or not view.configured:
                raise Skip(
                    f"no ZooKeeper at the default address ({said})"
                    + ("" if view is None else ", and ClickHouse has none configured")
                    + "; pass --zookeeper-url zk://HOST:2181 to check one"
                )
            return [
                Finding.ok(
                    f"ClickHouse reaches its ZooKeeper{nodes}; the doctor cannot reach it from here for its "
                    f"figures ({said})",
                    key="not_from_here",
                )
            ]
        sentence = "ZooKeeper at " + _not_answering(where, said, kind)
        if clickhouse_reaches:
            return [
                Finding.warn(
                    f"{sentence}, yet ClickHouse reaches its own ZooKeeper{nodes}: the address given to the "
                    "doctor is not the one ClickHouse uses",
                    ADDRESS,
                    key="wrong_address",
                )
            ]
        return [Finding.fail(sentence, RESTART, key="unreachable")]


def _depends(view: ClickHouseView) -> str:
    """What stops working in PostHog's ClickHouse without ZooKeeper."""
    if view.replicated_tables == 1:
        return "its replicated table cannot take inserts (it turns read-only)"
    if view.replicated_tables:
        return f"its {view.replicated_tables} replicated tables cannot take inserts (they turn read-only)"
    return "replicated tables and distributed DDL stop working"


def _judge_clickhouse(view: ClickHouseView, *, zookeeper_answers: bool, outage_told: bool) -> list[Finding]:
    if not view.configured:
        return [Finding.ok("ClickHouse has no ZooKeeper configured (a single server without replication)")]
    if view.reaches is False:
        if outage_told:
            return []  # said with the outage (ZooKeeperHealth._unreachable)
        if zookeeper_answers:
            return [
                Finding.fail(
                    f"ClickHouse cannot reach its ZooKeeper ({view.error}) although it answers the doctor: "
                    f"{_depends(view)}",
                    CLICKHOUSE_CONFIG,
                    key="clickhouse_unreached",
                )
            ]
        return [
            Finding.fail(
                f"ClickHouse cannot reach its ZooKeeper ({view.error}): {_depends(view)}",
                RESTART,
                CLICKHOUSE_CONFIG,
                key="clickhouse_unreached",
            )
        ]
    if view.expired:
        return [
            Finding.fail(
                f"ClickHouse's ZooKeeper session has expired: {_depends(view)} until it reconnects",
                RESTART,
                key="session_expired",
            )
        ]
    return [Finding.ok(f"ClickHouse reaches its ZooKeeper ({len(view.root)} znodes under '/')")]


def _server_values(where: str, found: Figures) -> Values:
    latency = (
        f"{found.latency_min_ms:g} / {found.latency_avg_ms:g} / {found.latency_max_ms:g}"
        if None not in (found.latency_min_ms, found.latency_avg_ms, found.latency_max_ms)
        else (f"avg {found.latency_avg_ms:g}" if found.latency_avg_ms is not None else "—")
    )
    items = [
        Item("Address", where, "address"),
        Item("Server", ("ClickHouse Keeper " if found.keeper else "ZooKeeper ") + (found.version or "?"), "version"),
        Item("Mode", found.mode or "—", "mode"),
        Item("Latency min/avg/max (ms)", latency, "latency"),
        Item("Requests queued", found.outstanding, "outstanding"),
        Item("Znodes", found.znodes, "znodes"),
        Item(
            "Data size",
            units.size(found.data_bytes) if found.data_bytes is not None else "— (needs mntr)",
            "data_size",
        ),
        Item("Connections", found.connections, "connections"),
    ]
    if found.followers is not None:
        items.append(Item("Followers in sync", f"{found.synced_followers} of {found.followers}", "followers"))
    return Values("ZooKeeper", items)


def _words_table(answers: dict[str, FourLetterAnswer]) -> Table:
    rows = []
    for word, answer in answers.items():
        if answer.not_in_whitelist:
            said = "not in the whitelist"
        elif answer.not_serving:
            said = "not currently serving requests"
        elif answer.silent:
            said = "closed without an answer (not allowed)"
        else:
            said = f"answered ({len(answer.text):,} bytes)"
        rows.append([word, said, round(answer.elapsed_ms)])
    return Table("Four-letter words", ["Word", "Answer", "ms"], rows)


def _clickhouse_values(view: ClickHouseView) -> Values:
    items = [Item("ZooKeeper configured", "yes" if view.configured else "no", "configured")]
    if view.configured:
        items += [
            Item("Connected to", ", ".join(view.nodes) or "— (not shown before ClickHouse 23.x)", "nodes"),
            Item("Session expired", "yes" if view.expired else "no", "expired"),
            Item(
                "Reaches it now",
                "yes" if view.reaches else f"no: {view.error}" if view.reaches is False else "—",
                "reaches",
            ),
            Item("Znodes under '/'", ", ".join(view.root[:10]) or "—", "root"),
        ]
    items.append(Item("Replicated tables", view.replicated_tables, "replicated_tables"))
    return Values("ClickHouse's view of ZooKeeper", items, note="; ".join(view.unread))
