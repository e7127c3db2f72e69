"""Helpers for the tabular tests: run the training CLI, run a replica as the platform does.

A plain module rather than conftest so test files can import its names.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from targets.tabular.home import ModelHome

REPO = Path(__file__).resolve().parents[3]
REGION, REPLICA = "region-a", "tabular-a1"
# The replica's PSI window: small enough that a test fills it in a second or two over HTTP.
DRIFT_WINDOW = 300
_START_TIMEOUT_S = 90.0  # a cold start is ~4 s; a busy shared 2-core machine can be far slower


@dataclass(frozen=True)
class Training:
    home: ModelHome
    output: str


def train(home: Path, *python_options: str) -> subprocess.CompletedProcess[str]:
    """Run the training CLI the way `make setup` does."""
    return subprocess.run(
        [sys.executable, *python_options, "-m", "targets.tabular.train", "--home", str(home)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"},
    )


@contextmanager
def running_replica(home: ModelHome, log: Path, **env: str) -> Iterator[str]:
    """A uvicorn replica on 127.0.0.1 and a free port, started as the platform starts it;
    yields its base URL once /health answers, and always stops it."""
    port = _free_port()
    environ: Mapping[str, str] = {
        **os.environ,
        "GAMEDAY_REGION": REGION,
        "GAMEDAY_REPLICA": REPLICA,
        "GAMEDAY_MODEL_URI": "models:/fraud@champion",
        "GAMEDAY_MODEL_HOME": str(home.root),
        "MLFLOW_TRACKING_URI": home.tracking_uri,
        **env,
    }
    command = [sys.executable, "-m", "uvicorn", "targets.tabular.app:app",
               "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=REPO, env=environ, stdout=sink, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"replica exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"replica not healthy at {url} after {_START_TIMEOUT_S} s")
