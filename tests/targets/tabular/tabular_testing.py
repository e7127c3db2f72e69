"""Helpers for the tabular tests: run the training CLI, run a replica as the platform does.

A plain module rather than conftest so test files can import its names.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from targets.tabular.home import ModelHome
from targets.tabular.replica import free_port as _free_port  # noqa: F401 (feast_testing)
from targets.tabular.replica import replica

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
    with replica(log, artifacts=home.root, name=REPLICA, env=env,
                 start_timeout_s=_START_TIMEOUT_S) as url:
        yield url
