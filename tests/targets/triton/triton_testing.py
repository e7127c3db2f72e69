"""A real Triton server for the tests, started by the same script and with the same rendered
config as the platform's members (``targets/triton/stack.yaml``), on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jinja2
import pytest

from gameday.stack_options import TritonOptions

__all__ = ["TRITON_PORT", "TritonServer", "infer", "triton_server"]

REPO = Path(__file__).resolve().parents[3]
VERSIONS = REPO / "artifacts" / "triton" / "fraud"
TRITON_PORT = 28300
HOST = "127.0.0.1"
SITE = Path(sysconfig.get_paths()["purelib"])


class TritonServer:
    def __init__(self, data: Path, port: int) -> None:
        self.data = data
        self.url = f"http://{HOST}:{port}"
        self.metrics_url = f"http://{HOST}:{port + 2}/metrics"
        self.control = data / "control"
        self.log = data / "server.log"
        self.pid = 0  # the server's process (start.sh execs tritonserver)
        self.spawned_s = 0.0  # time.time() just before it was spawned


def render_config(options: TritonOptions, *, env_path: Path) -> str:
    template = (REPO / "targets" / "triton" / "config.pbtxt.tmpl").read_text()
    text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(
        settings={"triton": options.model_dump(mode="json")}, gpu=False, repo=str(REPO))
    return text.replace(f"{REPO}/.venv-triton", str(env_path))


@contextlib.contextmanager
def triton_server(data: Path, *, port: int = TRITON_PORT,
                  options: TritonOptions | None = None,
                  env_path: Path = REPO / ".venv-triton") -> Iterator[TritonServer]:
    """A server with its own repository in ``data``, ready (the model loaded) before yielding;
    ``env_path`` is the model's environment (EXECUTION_ENV_PATH)."""
    if not (VERSIONS / "1" / "weights.npz").is_file() or not (env_path / "bin").is_dir():
        pytest.skip("no Triton model versions or model environment: run make setup")
    server = TritonServer(data, port)
    (data / "models" / "fraud").mkdir(parents=True, exist_ok=True)
    (data / "models" / "fraud" / "config.pbtxt").write_text(
        render_config(options or TritonOptions(), env_path=env_path))
    env = {**os.environ, "DATA": str(data), "MODEL": "fraud", "VERSIONS": str(VERSIONS),
           "CONTROL": str(server.control), "GAMEDAY_TRITON_CONTROL": str(server.control),
           "PYTHON": sys.executable, "SITE": str(SITE), "ADDRESS": HOST,
           "HTTP_PORT": str(port), "GRPC_PORT": str(port + 1), "METRICS_PORT": str(port + 2)}
    server.spawned_s = time.time()
    with server.log.open("ab") as log:
        process = subprocess.Popen(["/bin/sh", str(REPO / "targets" / "triton" / "start.sh")],
                                   env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server.pid = process.pid
    try:
        _wait_ready(server, process)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def _wait_ready(server: TritonServer, process: subprocess.Popen[bytes],
                timeout_s: float = 60) -> None:
    deadline_s = time.monotonic() + timeout_s
    while time.monotonic() < deadline_s:
        if process.poll() is not None:
            raise RuntimeError(f"tritonserver exited {process.returncode}: "
                               f"{server.log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/v2/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"tritonserver not ready in {timeout_s:g} s: "
                       f"{server.log.read_text(errors='replace')[-3000:]}")


def infer(url: str, rows: list[list[float]], *, timeout_s: float = 10,
          client: httpx.Client | None = None) -> httpx.Response:
    body: dict[str, Any] = {"inputs": [{"name": "features", "datatype": "FP32",
                                        "shape": [len(rows), 7],
                                        "data": [v for row in rows for v in row]}]}
    poster = client or httpx
    return poster.post(url + "/v2/models/fraud/infer", json=body, timeout=timeout_s)
