"""Shared fixtures: the repo, trained model artifacts, a free loopback port, the local platform.

The local platform fixture stands the real stack up once per test session (real HAProxy, real
uvicorn replicas, the fault proxy) in its own home directory and always tears it down.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from gameday.edge_options import EdgeOptions
from gameday.platforms.base import StackRequest
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.platform import LocalPlatform

REPO = Path(__file__).resolve().parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


def pick_free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def free_port() -> int:
    return pick_free_port()


@pytest.fixture(scope="session")
def trained_artifacts() -> Path:
    """The model registry `make setup` trains; trained here if a test run comes first."""
    artifacts = REPO / "artifacts"
    subprocess.run([sys.executable, "-m", "targets.tabular.train"], cwd=REPO, check=True,
                   capture_output=True)
    return artifacts


@contextmanager
def platform_up(home_dir: Path, *, edge: EdgeOptions | None = None, replicas: int = 2,
                settings: dict[str, Any] | None = None) -> Iterator[LocalPlatform]:
    """The tabular stack up on the local platform, torn down after, whatever happens.

    ``GAMEDAY_HOME`` points at its home meanwhile, so faults and runs find it.
    """
    if not Path("/usr/sbin/haproxy").exists():
        pytest.skip("haproxy is not installed (make setup installs it)")
    home = LocalHome(home_dir)
    platform = LocalPlatform(home)
    previous_home = os.environ.get("GAMEDAY_HOME")
    os.environ["GAMEDAY_HOME"] = str(home.root)
    try:
        platform.up(StackRequest(stacks=("tabular",), replicas=replicas,
                                 edge=edge or EdgeOptions(), settings=settings or {}))
        yield platform
    finally:
        platform.down()
        if previous_home is None:
            os.environ.pop("GAMEDAY_HOME", None)
        else:
            os.environ["GAMEDAY_HOME"] = previous_home


@pytest.fixture(scope="module")
def local_platform(trained_artifacts: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """The tabular stack up for one test module (a package's conftest may widen the scope)."""
    with platform_up(tmp_path_factory.mktemp("gameday-home")) as platform:
        yield platform
