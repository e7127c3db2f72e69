"""The watches a run keeps on its model servers, started together once the load runs: the
Triton servers' own metrics (``TritonWatch``), for every stack with a model repository the
cold starts of its servers (``ColdStartWatch``) and a serving canary a server
(``CanaryWatch``), and for every stack that compares its inputs with its training data their
drift, a watch a server (``DriftWatch``)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from gameday.canarywatch import CanaryWatch
from gameday.coldstartwatch import ColdStartWatch
from gameday.config import Suite
from gameday.driftwatch import DriftWatch
from gameday.modelprobe import model_probe
from gameday.platforms.base import Platform
from gameday.poller import Poller
from gameday.stacks import load_stack
from gameday.tritonwatch import TritonWatch

__all__ = ["start_model_watches"]


def start_model_watches(suite: Suite, platform: Platform, run_dir: Path) -> list[Poller]:
    """Every watch that applies to the suite's stacks, started."""
    watches: list[Poller] = []
    if "triton" in suite.stacks:
        servers = platform.members(stack="triton", component="server")
        watches.append(TritonWatch(
            [(m.name, m.region, f"http://{m.address}:{m.ports['metrics']}/metrics")
             for m in servers if "metrics" in m.ports], run_dir))
    for name in suite.stacks:
        definition = load_stack(name)
        probe = model_probe(definition)
        if probe is not None and definition.model_repository is not None:
            members = partial(platform.members, stack=name,
                              component=definition.model_repository.component)
            watches.append(ColdStartWatch(members, probe, run_dir))
            watches += [CanaryWatch(m.name, members, probe, run_dir) for m in members()]
        if definition.drift is not None:
            drifting = partial(platform.members, stack=name, component=definition.drift.component)
            watches += [DriftWatch(m.name, drifting, definition.drift, run_dir)
                        for m in drifting()]
    for watch in watches:
        watch.start()
    return watches
