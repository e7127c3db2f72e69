"""A platform stood up with ``tie_to_caller`` goes down by itself when its owner dies (a run
that stood it up and was SIGKILLed), faults and all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.platform import LocalPlatform
from gameday.platforms.local.state import State

_UP_AND_HANG = """
import sys, time
from pathlib import Path
from gameday.platforms.base import StackRequest
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.platform import LocalPlatform
platform = LocalPlatform(LocalHome(Path(sys.argv[1])))
platform.up(StackRequest(replicas=1), tie_to_caller=True)
platform.stop_region("region-b", freeze=True)  # a fault in force when the owner dies
print("up", flush=True)
time.sleep(600)
"""


def test_the_supervisor_tears_down_a_platform_whose_owner_was_sigkilled(
        trained_artifacts: Path, tmp_path: Path) -> None:
    if not Path("/usr/sbin/haproxy").exists():
        pytest.skip("haproxy is not installed (make setup installs it)")
    home = LocalHome(tmp_path / "home")
    owner = subprocess.Popen([sys.executable, "-c", _UP_AND_HANG, str(home.root)],
                             stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[3],
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])})
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "up"
        state = State.load(home)
        assert state is not None and state.supervisor is not None
        pgids = [m.pgid for m in state.members if m.pgid]
        # fault proxy, Prometheus and its exporter, one replica per region, the edge's
        # HAProxy and nginx
        assert len(pgids) == 7
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        died_s = time.monotonic()
        while state.supervisor.alive():
            assert time.monotonic() - died_s < 30, "the supervisor outlived its owner"
            time.sleep(0.1)
        print(f"platform down {time.monotonic() - died_s:.1f} s after its owner died")
        alive = [p for p in psutil.process_iter() if _in(p, pgids)]
        assert alive == []
    finally:
        owner.kill()
        LocalPlatform(home).down()


def _in(proc: psutil.Process, pgids: list[int]) -> bool:
    try:
        return os.getpgid(proc.pid) in pgids and proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, ProcessLookupError):
        return False
