"""Benchmark: ``gameday up`` stand-up time, against one bare replica of the same stack.

The reference is the slowest thing ``up`` must wait for: one tabular replica started with the
very argv and environment the platform uses, until it answers its health check. The ratio says
what the platform adds on top (order groups, the edge and the fault proxy, health polling).
Runs in its own home and tears everything down; the default edge port must be free.

    python bench/standup.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from gameday.faults.checks import http_status
from gameday.platforms.base import StackRequest
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.platform import LocalPlatform
from gameday.platforms.local.specs import ProcessSpec
from gameday.platforms.local.topology import Topology

__all__ = ["main"]


def _time_up(home: LocalHome) -> tuple[float, ProcessSpec]:
    platform = LocalPlatform(home)
    started = time.perf_counter()
    platform.up(StackRequest(stacks=("tabular",), replicas=2))
    elapsed_s = time.perf_counter() - started
    try:
        topology = Topology.load(home)
        assert topology is not None
        replica = topology.component_members("tabular", "api", "region-a")[0]
    finally:
        platform.down()
    return elapsed_s, replica


def _time_bare_replica(spec: ProcessSpec, log: Path) -> float:
    assert spec.health is not None
    url = f"http://{spec.address}:{spec.health.port or spec.port}{spec.health.path}"
    started = time.perf_counter()
    with log.open("ab") as out:
        process = subprocess.Popen(spec.argv, cwd=spec.cwd, env={**os.environ, **spec.env},
                                   stdout=out, stderr=out)
    try:
        while http_status(url, timeout_s=1.0) != 200:
            if process.poll() is not None or time.perf_counter() - started > spec.start_timeout_s:
                raise RuntimeError(f"the bare replica did not come up; see {log}")
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)


def main(rounds: int = 3) -> dict[str, Any]:
    ups, bares = [], []
    with tempfile.TemporaryDirectory(prefix="gameday-bench-up-") as tmp:
        for index in range(rounds):
            up_s, replica = _time_up(LocalHome(Path(tmp) / f"home-{index}"))
            ups.append(up_s)
            bares.append(_time_bare_replica(replica, Path(tmp) / "bare.log"))
    result = {"benchmark": "standup", "rounds": rounds,
              "gameday_up_s": statistics.median(ups), "bare_replica_s": statistics.median(bares),
              "up_vs_bare_replica": statistics.median(ups) / statistics.median(bares),
              "gameday_up_all_s": ups, "bare_replica_all_s": bares,
              "load_average_1m": os.getloadavg()[0]}
    print(f"gameday up (tabular, 2 regions x 2 replicas, edge, fault proxy): "
          f"median {result['gameday_up_s']:.1f} s of {rounds}")
    print(f"one bare replica to healthy: median {result['bare_replica_s']:.1f} s")
    print(f"up / bare replica: {result['up_vs_bare_replica']:.2f}x")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    main(parser.parse_args().rounds)
