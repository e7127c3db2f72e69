"""The watches a run keeps on its model servers, started together once the load runs: the
Triton servers' own metrics (``TritonWatch``) and the cold starts of every stack with a model
repository (``ColdStartWatch``)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from gameday.coldstartwatch import ColdStartWatch, ModelProbe
from gameday.config import Suite
from gameday.platforms.base import Platform
from gameday.poller import Poller
from gameday.stacks import StackDef, load_stack
from gameday.tritonwatch import TritonWatch

__all__ = ["model_probe", "start_model_watches"]


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
            component = definition.model_repository.component
            watches.append(ColdStartWatch(
                partial(platform.members, stack=name, component=component), probe, run_dir))
    for watch in watches:
        watch.start()
    return watches


def model_probe(definition: StackDef) -> ModelProbe | None:
    """How to ask a stack's model server for each cold-start phase; None without a model
    repository, a probe request or an HTTP route to the serving component."""
    repository, probe = definition.model_repository, definition.probe_request
    if repository is None or probe is None:
        return None
    route = next((r for r in definition.routes
                  if r.component == repository.component and r.mode == "http"), None)
    if route is None:
        return None
    return ModelProbe(port=repository.port, live_path=route.shallow_health_path,
                      ready_path=f"/v2/models/{repository.model}/ready",
                      infer_path=definition.endpoints[probe.endpoint], infer_body=probe.body)
