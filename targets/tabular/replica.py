"""One fraud-scoring replica outside any platform, on a loopback port of its own: what the
pipeline's serve and monitor steps and the drift benchmark start. The argv and environment are
those of ``stack.yaml``'s ``api`` component for a region-a member (the repo's registry, the
champion alias)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx

from targets.tabular.home import CHAMPION_URI, ModelHome

__all__ = ["free_port", "replica"]

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A port nothing listens on now (the kernel's pick; another process may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def replica(log: Path, *, port: int | None = None, artifacts: Path | None = None,
            name: str = "tabular-api-a1", env: Mapping[str, str] | None = None,
            start_timeout_s: float = 90.0) -> Iterator[str]:
    """Start the service, wait for /health, yield its base URL; stop its process group.
    ``env``: more of the service's settings (``GAMEDAY_*``), over the defaults."""
    home = ModelHome((artifacts or REPO / "artifacts").resolve())
    port = port or free_port()
    environ = {**os.environ, "GAMEDAY_REGION": "region-a", "GAMEDAY_REPLICA": name,
               "GAMEDAY_MODEL_URI": CHAMPION_URI, "GAMEDAY_MODEL_HOME": str(home.root),
               "MLFLOW_TRACKING_URI": home.tracking_uri,
               "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", **(env or {})}
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "targets.tabular.app:app", "--host", HOST,
             "--port", str(port), "--no-access-log", "--log-level", "warning"],
            cwd=REPO, env=environ, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{HOST}:{port}"
    try:
        deadline_s = time.monotonic() + start_timeout_s
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline_s:
                raise RuntimeError(f"the replica did not come up (exit {process.poll()}): "
                                   f"{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
