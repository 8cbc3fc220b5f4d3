"""Real ClickHouse, Postgres and Redis servers for tests (and the benchmark), started from local binaries.

Where a server comes from, in order (DESIGN.md "Tests"):
1. an explicit URL in the environment: POSTHOG_DOCTOR_TEST_{CLICKHOUSE,POSTGRES,REDIS}_URL;
2. a throwaway instance from the binaries on PATH (or Debian's install folders), in a temporary folder
   on a free port;
3. testcontainers, when a Docker engine answers;
4. otherwise the caller skips with the reason, except in CI (env CI set), where it fails.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Credentials of the throwaway servers. Long enough that redaction tests can look for them in outputs.
CH_PASSWORD = "ch-doctor-Secret-9f3a"
PG_PASSWORD = "pg-doctor-Secret-71c2"
PG_SUPER_PASSWORD = "pg-super-Secret-5e8d"
REDIS_PASSWORD = "redis-doctor-Secret-0b4e"


class Unavailable(Exception):
    """This way of getting a server does not work here; the message says why."""


@dataclass
class Server:
    kind: str
    url: str  # what the doctor is given (a non-admin user where the server has one)
    host: str = "127.0.0.1"
    port: int = 0
    admin_url: str = ""  # for seeding data: an account that may write
    origin: str = "local"  # env, local, testcontainers
    details: dict = field(default_factory=dict)
    _stop: Callable[[], None] | None = None

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        if proc is not None and proc.poll() is not None:
            raise Unavailable(f"server exited with {proc.returncode}: {_tail(log)}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise Unavailable(f"nothing listened on port {port} after {seconds:.0f} s: {_tail(log)}")


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])[-400:]


def find_binary(name: str, patterns: tuple[str, ...] = ()) -> str:
    found = shutil.which(name)
    if found:
        return found
    for pattern in patterns:
        matches = sorted(glob.glob(pattern), reverse=True)  # newest version first
        if matches:
            return matches[0]
    raise Unavailable(f"{name} not found on PATH" + (f" or in {', '.join(patterns)}" if patterns else ""))


def _kill(proc: subprocess.Popen, grace: float = 10) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# --- ClickHouse ---------------------------------------------------------------------------------

_CH_CONFIG = """\
<yandex>
  <logger><level>warning</level><log>{d}/log/server.log</log><errorlog>{d}/log/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>{tcp}</tcp_port>
  <http_port>{http}</http_port>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>53687091</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>500</flush_interval_milliseconds></query_log>
</yandex>
"""

# Users: `default` (admin, for seeding), `doctor` (a password, like a real deployment), `readonly_user`
# (a readonly=1 profile, which forbids even setting limits), `limited` (may use database `default` only).
# Every query is logged to system.query_log.
_CH_USERS = """\
<yandex>
  <profiles>
    <default><log_queries>1</log_queries></default>
    <readonly><readonly>1</readonly><log_queries>1</log_queries></readonly>
  </profiles>
  <users>
    <default><password></password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></default>
    <doctor><password>{password}</password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></doctor>
    <readonly_user><password>{password}</password><networks><ip>::/0</ip></networks><profile>readonly</profile><quota>default</quota></readonly_user>
    <limited><password>{password}</password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota><allow_databases><database>default</database></allow_databases></limited>
  </users>
  <quotas><default></default></quotas>
</yandex>
"""


def start_clickhouse(
    config_d: dict[str, str] | None = None, prefix: str = "phd-clickhouse-", grace: float = 10
) -> Server:
    """Debian's ClickHouse on free ports in a throwaway folder; `config_d` adds files to its config.d (name ->
    XML), and `grace` is how long a stop waits for a clean shutdown."""
    binary = find_binary("clickhouse-server", ("/usr/bin/clickhouse-server", "/usr/sbin/clickhouse-server"))
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    for sub in ("log", "data", "tmp", "user_files", "format_schemas", "config.d"):
        (folder / sub).mkdir()
    tcp, http = free_port(), free_port()
    (folder / "config.xml").write_text(_CH_CONFIG.format(d=folder, tcp=tcp, http=http))
    for name, xml in (config_d or {}).items():
        (folder / "config.d" / name).write_text(xml)
    (folder / "users.xml").write_text(_CH_USERS.format(password=CH_PASSWORD))
    log = folder / "log" / "stdout.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [binary, f"--config-file={folder / 'config.xml'}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            start_new_session=True,
        )

    def stop() -> None:
        _kill(proc, grace)
        shutil.rmtree(folder, ignore_errors=True)

    try:
        wait_for_port(tcp, 30, proc, folder / "log" / "error.log")
        _wait_clickhouse_ready(tcp)
    except Exception:
        stop()
        raise
    return Server(
        "clickhouse",
        f"clickhouse://doctor:{CH_PASSWORD}@127.0.0.1:{tcp}/posthog",
        port=tcp,
        admin_url=f"clickhouse://default@127.0.0.1:{tcp}/default",
        details={"http_port": http, "folder": str(folder)},
        _stop=stop,
    )


def _wait_clickhouse_ready(port: int) -> None:
    from clickhouse_driver import Client

    stop_at = time.monotonic() + 20
    while True:
        try:
            Client("127.0.0.1", port, connect_timeout=2).execute("CREATE DATABASE IF NOT EXISTS posthog")
            return
        except Exception as exc:  # noqa: BLE001 - still starting
            if time.monotonic() > stop_at:
                raise Unavailable(f"ClickHouse did not answer queries: {exc}") from None
            time.sleep(0.2)


# --- Postgres -----------------------------------------------------------------------------------

_PG_DIRS = ("/usr/lib/postgresql/*/bin/{}",)


def _as_postgres_user() -> list[str]:
    """Postgres refuses to run as root: run its binaries as the `postgres` user when we are root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise Unavailable("running as root and runuser is missing: cannot start postgres as a normal user")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("running as root and there is no 'postgres' user to run the server as") from None
    return [runuser, "-u", "postgres", "--"]


def start_postgres() -> Server:
    initdb = find_binary("initdb", tuple(p.format("initdb") for p in _PG_DIRS))
    pg_ctl = find_binary("pg_ctl", tuple(p.format("pg_ctl") for p in _PG_DIRS))
    # pg_ctl on PATH may be Debian's wrapper; use the one beside initdb so both share a version.
    sibling = Path(initdb).with_name("pg_ctl")
    if sibling.exists():
        pg_ctl = str(sibling)
    prefix = _as_postgres_user()
    folder = Path(tempfile.mkdtemp(prefix="phd-postgres-"))
    folder.chmod(0o755)
    pwfile = folder / "pwfile"
    pwfile.write_text(PG_SUPER_PASSWORD + "\n")
    if prefix:
        shutil.chown(folder, "postgres")
        shutil.chown(pwfile, "postgres")
    data, log = folder / "data", folder / "server.log"
    port = free_port()

    def run(cmd: list[str], timeout: float = 60) -> None:
        done = subprocess.run(prefix + cmd, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise Unavailable(f"{Path(cmd[0]).name} failed: {(done.stderr or done.stdout).strip()[-400:]}")

    def stop() -> None:
        subprocess.run(prefix + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=30)
        shutil.rmtree(folder, ignore_errors=True)

    run(
        [
            initdb,
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
    )
    # Every statement is logged with its application name, so tests can prove what the doctor sent.
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c log_statement=all "
        "-c log_line_prefix=%m[%p]app=%a: "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
        "-c maintenance_work_mem=256MB -c max_wal_size=4GB"
    )
    try:
        run([pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start"], timeout=90)
        admin = f"postgresql://postgres:{PG_SUPER_PASSWORD}@127.0.0.1:{port}"
        _pg_setup(admin + "/postgres")
    except Exception:
        stop()
        raise
    return Server(
        "postgres",
        f"postgres://posthog:{PG_PASSWORD}@127.0.0.1:{port}/posthog",
        port=port,
        admin_url=admin + "/posthog",
        details={"log": str(log), "folder": str(folder)},
        _stop=stop,
    )


def _pg_setup(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"CREATE ROLE posthog LOGIN PASSWORD '{PG_PASSWORD}'")
        conn.execute("CREATE DATABASE posthog OWNER posthog")


# --- Redis --------------------------------------------------------------------------------------


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for localhost (openssl), for servers that speak TLS."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    done = subprocess.run(
        [
            find_binary("openssl"),
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise Unavailable(f"openssl could not make a certificate: {done.stderr.strip()[-300:]}")
    return cert, key


def start_redis(password: str | None = None, tls: bool = False) -> Server:
    binary = find_binary("redis-server")
    folder = Path(tempfile.mkdtemp(prefix="phd-redis-"))
    port = free_port()
    log = folder / "redis.log"
    cmd = [
        binary,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(folder),
        "--logfile",
        str(log),
    ]
    if tls:
        cert, key = self_signed_certificate(folder)
        cmd += [
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-auth-clients",
            "no",
        ]
    else:
        cmd += ["--port", str(port)]
    if password:
        cmd += ["--requirepass", password]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)

    def stop() -> None:
        _kill(proc)
        shutil.rmtree(folder, ignore_errors=True)

    try:
        wait_for_port(port, 15, proc, log)
    except Exception:
        stop()
        raise
    auth = f":{password}@" if password else ""
    scheme = "rediss" if tls else "redis"
    return Server(
        "redis",
        f"{scheme}://{auth}127.0.0.1:{port}/0",
        port=port,
        admin_url=f"{scheme}://{auth}127.0.0.1:{port}/0",
        _stop=stop,
    )


# --- testcontainers -----------------------------------------------------------------------------


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - no engine, no permission, no library: all mean "not available"
        return False


def start_container(kind: str) -> Server:
    if not docker_available():
        raise Unavailable("no Docker engine answers")
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    if kind == "clickhouse":
        c = (
            DockerContainer("clickhouse/clickhouse-server:24.8")
            .with_exposed_ports(9000)
            .with_env("CLICKHOUSE_USER", "doctor")
            .with_env("CLICKHOUSE_PASSWORD", CH_PASSWORD)
        )
        c.start()
        wait_for_logs(c, "Ready for connections", timeout=60)
        host, port = c.get_container_host_ip(), int(c.get_exposed_port(9000))
        url = f"clickhouse://doctor:{CH_PASSWORD}@{host}:{port}/posthog"
        return Server(kind, url, host, port, url.replace("/posthog", "/default"), "testcontainers", _stop=c.stop)
    if kind == "postgres":
        c = (
            DockerContainer("postgres:15-alpine")
            .with_exposed_ports(5432)
            .with_env("POSTGRES_USER", "posthog")
            .with_env("POSTGRES_PASSWORD", PG_PASSWORD)
            .with_env("POSTGRES_DB", "posthog")
            .with_command("postgres -c log_statement=all")
        )
        c.start()
        wait_for_logs(c, "database system is ready to accept connections", timeout=60)
        host, port = c.get_container_host_ip(), int(c.get_exposed_port(5432))
        url = f"postgres://posthog:{PG_PASSWORD}@{host}:{port}/posthog"
        return Server(kind, url, host, port, url, "testcontainers", _stop=c.stop)
    c = DockerContainer("redis:7-alpine").with_exposed_ports(6379)
    c.start()
    wait_for_logs(c, "Ready to accept connections", timeout=60)
    host, port = c.get_container_host_ip(), int(c.get_exposed_port(6379))
    url = f"redis://{host}:{port}/0"
    return Server(kind, url, host, port, url, "testcontainers", _stop=c.stop)


STARTERS = {"clickhouse": start_clickhouse, "postgres": start_postgres, "redis": start_redis}


def provide(kind: str) -> Server:
    """A server of `kind` from the first source that works; raises Unavailable listing every reason."""
    env_url = os.environ.get(f"POSTHOG_DOCTOR_TEST_{kind.upper()}_URL")
    if env_url:
        return Server(
            kind,
            env_url,
            admin_url=os.environ.get(f"POSTHOG_DOCTOR_TEST_{kind.upper()}_ADMIN_URL", env_url),
            origin="env",
        )
    reasons = []
    for source in (STARTERS[kind], start_container):
        try:
            return source() if source is not start_container else source(kind)
        except Unavailable as exc:
            reasons.append(str(exc))
    raise Unavailable(f"no {kind} server: " + "; ".join(reasons))


if __name__ == "__main__":  # start all three and print their URLs, for poking at by hand
    servers = [provide(k) for k in STARTERS]
    print(textwrap.indent("\n".join(f"{s.kind}: {s.url}" for s in servers), "  "))
    try:
        signal.pause()
    finally:
        for s in servers:
            s.stop()
