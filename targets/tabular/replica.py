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
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx

from targets.tabular.home import CHAMPION_URI, ModelHome

__all__ = ["free_port", "replica", "running"]

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A port nothing listens on now (the kernel's pick; another process may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def running(command: Sequence[str], log: Path, url: str, *, env: Mapping[str, str],
            health: str = "/health", start_timeout_s: float = 90.0) -> Iterator[str]:
    """Start ``command`` in its own session (output to ``log``), wait until ``url + health``
    answers 200, yield ``url``; then SIGTERM its process group (SIGKILL after 15 s)."""
    with log.open("ab") as sink:
        process = subprocess.Popen(list(command), cwd=REPO, env=dict(env), stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline_s = time.monotonic() + start_timeout_s
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}{health}", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline_s:
                raise RuntimeError(f"{Path(command[0]).name} did not come up (exit "
                                   f"{process.poll()}): "
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


def replica(log: Path, *, port: int | None = None, artifacts: Path | None = None,
            name: str = "tabular-api-a1", env: Mapping[str, str] | None = None,
            start_timeout_s: float = 90.0) -> contextlib.AbstractContextManager[str]:
    """The service, as ``running`` starts it. ``env``: more of its settings (``GAMEDAY_*``),
    over the defaults."""
    home = ModelHome((artifacts or REPO / "artifacts").resolve())
    port = port or free_port()
    environ = {**os.environ, "GAMEDAY_REGION": "region-a", "GAMEDAY_REPLICA": name,
               "GAMEDAY_MODEL_URI": CHAMPION_URI, "GAMEDAY_MODEL_HOME": str(home.root),
               "MLFLOW_TRACKING_URI": home.tracking_uri,
               "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", **(env or {})}
    command = [sys.executable, "-m", "uvicorn", "targets.tabular.app:app", "--host", HOST,
               "--port", str(port), "--no-access-log", "--log-level", "warning"]
    return running(command, log, f"http://{HOST}:{port}", env=environ,
                   start_timeout_s=start_timeout_s)
