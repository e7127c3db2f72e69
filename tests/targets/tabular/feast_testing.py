"""Helpers for the feature store tests: build a Feast repo and run a real ``feast serve`` on
it, the way ``make setup`` and the stack do. A plain module so test files can import it."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.targets.tabular.tabular_testing import REPO, _free_port

FEAST_VENV = REPO / ".venv-feast"
_START_TIMEOUT_S = 90.0
FEAST_ENV = {**os.environ, "FEAST_USAGE": "False", "PYTHONPATH": str(REPO)}


def need_feast() -> None:
    if not (FEAST_VENV / "bin" / "feast").exists():
        pytest.skip("the Feast venv is not installed (make setup builds .venv-feast)")


def build_repos(artifacts: Path) -> str:
    """``make setup``'s build step into ``artifacts``; returns its one line."""
    done = subprocess.run([str(FEAST_VENV / "bin" / "python"), "-m",
                           "targets.tabular.featurestore.build", "--artifacts", str(artifacts)],
                          cwd=REPO, env=FEAST_ENV, capture_output=True, text=True, timeout=300,
                          check=True)
    return done.stdout.strip()


@contextmanager
def feature_server(repo: Path, log: Path) -> Iterator[str]:
    """``feast serve`` on one region's repo, 127.0.0.1 and a free port, as the stack runs it;
    yields its URL once /health answers, always stopped (its whole process group)."""
    port = _free_port()
    command = [str(FEAST_VENV / "bin" / "feast"), "-c", str(repo), "serve", "-h", "127.0.0.1",
               "-p", str(port), "-w", "1", "--no-access-log", "-r", "5", "--max-requests", "0"]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=REPO, stdout=sink, stderr=sink,
                                   env={**FEAST_ENV, "XDG_RUNTIME_DIR": str(log.parent)},
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline_s = time.monotonic() + _START_TIMEOUT_S
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline_s:
                raise RuntimeError(f"feast serve not healthy at {url}:\n{log.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False
