"""Real RAG processes for the tests: the embedding server and RAG replicas, started by the
same commands the platform uses, on 127.0.0.1, against the tests' PostgreSQL pair
(``tests.pgcluster``)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

import httpx
import pytest

from gameday.load.sse import AnswerParser, AnswerStream, read_answer_stream
from tests.pgcluster import PgCluster
from tests.prometheus_text import metric_sum

__all__ = ["EMBEDDER_PORT", "RAG_PORT", "RagProcess", "ask_stream", "metric_value"]

REPO = Path(__file__).resolve().parents[3]
SEED_VECTORS = REPO / "artifacts" / "rag" / "base-fp32.npz"  # written by make setup
EMBEDDER_PYTHON = REPO / ".venv-embedder" / "bin" / "python"
EMBEDDER_PORT = 28210
RAG_PORT = 28200
HOST = "127.0.0.1"


class RagProcess:
    """One uvicorn process (``module`` is ``embedder`` or ``app``), stopped on exit."""

    def __init__(
        self,
        kind: str,
        port: int,
        env: Mapping[str, str],
        ready_path: str = "/ready",
        timeout_s: float = 120,
    ) -> None:
        self.kind = kind
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self._env = env
        self._ready_path = ready_path
        self._timeout_s = timeout_s
        self._log = Path(tempfile.mkstemp(prefix=f"gameday-rag-{kind}-", suffix=".log")[1])
        self._popen: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RagProcess:
        target = (
            ["targets.rag.embedder:app"]
            if self.kind == "embedder"
            else ["--factory", "targets.rag.app:create_app"]
        )
        command = [
            _python(self.kind),
            "-m",
            "uvicorn",
            *target,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "GAMEDAY_REGION": "region-a",
            "GAMEDAY_REPLICA": f"rag-{self.kind}-test",
            **self._env,
        }
        with self._log.open("ab") as log:
            self._popen = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline_s = time.monotonic() + self._timeout_s
        while time.monotonic() < deadline_s:
            assert self._popen is not None
            if self._popen.poll() is not None:
                raise RuntimeError(f"{self.kind} exited {self._popen.returncode}: {self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + self._ready_path, timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.kind} not ready in {self._timeout_s:g} s: {self.log()}")

    def log(self) -> str:
        return self._log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self._popen is not None and self._popen.poll() is None:
            self._popen.terminate()
            try:
                self._popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _python(kind: str) -> str:
    """The embedder runs from its own venv, as the platform runs it (make setup makes it)."""
    if kind != "embedder":
        return sys.executable
    if not EMBEDDER_PYTHON.exists():
        pytest.skip(f"no {EMBEDDER_PYTHON}: run make setup (the embedder's venv)")
    return str(EMBEDDER_PYTHON)


def rag_env(cluster: PgCluster, embedder_url: str, **overrides: object) -> dict[str, str]:
    """A replica reading from the standby first (as region-b's would), writing to the primary;
    seeded from the vectors ``make setup`` embedded, when they are there."""
    hosts = f"host={HOST},{HOST} port={cluster.standby.port},{cluster.primary.port}"
    common = "dbname=postgres user=gameday connect_timeout=2"
    env = {
        "RAG_READ_DSN": f"{hosts} {common} target_session_attrs=any",
        "RAG_WRITE_DSN": f"{hosts} {common} target_session_attrs=read-write",
        "RAG_EMBEDDER_URL": embedder_url,
        "RAG_REFRESH_S": "0.2",
    }
    if SEED_VECTORS.is_file():
        env["RAG_SEED_VECTORS"] = str(SEED_VECTORS)
    env.update({f"RAG_{key.upper()}": str(value) for key, value in overrides.items()})
    return env


@contextlib.contextmanager
def rag_replica(
    cluster: PgCluster, embedder_url: str, port: int = RAG_PORT, ready_path: str = "/ready",
    **overrides: object,
) -> Iterator[RagProcess]:
    """A replica, waited for until ``ready_path`` answers 200 (``/health`` for one that is
    meant not to be ready)."""
    env = rag_env(cluster, embedder_url, **overrides)
    with RagProcess("app", port, env, ready_path=ready_path) as process:
        yield process


def ask_stream(
    url: str, question: str, *, stop_after: int | None = None, **body: object
) -> tuple[httpx.Response, AnswerStream]:
    """POST /ask and read its stream; ``stop_after`` closes the connection after that many
    tokens (a client that went away)."""
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", url + "/ask", json={"question": question, **body}) as response,
    ):
        if response.status_code != 200:
            response.read()
            return response, AnswerStream(error=f"HTTP {response.status_code}")
        if stop_after is None:
            return response, read_answer_stream(response.iter_raw())
        parser = AnswerParser()
        for chunk in response.iter_raw():
            parser.feed(chunk, time.time())
            if len(parser.stream.positions) >= stop_after:
                break
        return response, parser.end("the client stopped reading")


def metric_value(url: str, name: str, labels: Mapping[str, str] | None = None) -> float:
    """The sum of a metric's samples on the replica's /metrics whose labels include ``labels``."""
    return metric_sum(url + "/metrics", name, labels)
