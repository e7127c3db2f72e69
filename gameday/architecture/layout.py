"""Which layout the diagram draws: the topology ``gameday up`` would build for a suite, or
for every reference stack with each setting at its default."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from gameday.config import StackName, Suite
from gameday.platforms.base import StackRequest
from gameday.platforms.local.topology import Topology, build_topology
from gameday.stacks import TARGETS_DIR

__all__ = ["default_suite", "layout_topology"]

_REPO = TARGETS_DIR.parent
_HOME = Path("/gameday-home")  # rendered into paths the chart never shows; nothing is created


def default_suite(replicas: int = 2) -> Suite:
    """Every reference stack, each setting at its default (Patroni failover, rag service)."""
    return Suite.model_validate({"name": "architecture", "stacks": list(get_args(StackName)),
                                 "replicas": replicas, "allow_no_slos": True})


def layout_topology(suite: Suite) -> Topology:
    """The layout ``gameday up`` would build for ``suite``; the addresses depend on neither
    the binaries nor the GPU (``auto`` would ask nvidia-smi, a process: drawn as cpu)."""
    if suite.triton.device == "auto":
        suite = suite.model_copy(update={"triton": suite.triton.model_copy(
            update={"device": "cpu"})})
    request = StackRequest(stacks=tuple(suite.stacks), replicas=suite.replicas,
                           edge=suite.edge, settings=suite.stack_settings())
    return build_topology(request, home=_HOME, repo=_REPO, artifacts=_REPO / "artifacts",
                          haproxy="haproxy", prometheus="prometheus")
