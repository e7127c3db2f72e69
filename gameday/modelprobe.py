"""How the harness asks a stack's model server whether it serves, phase by phase: its
liveness, its model's readiness, and one real inference (the stack's probe request). Used by
the cold-start watch and the serving canary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gameday.stacks import StackDef

__all__ = ["ModelProbe", "model_probe"]


@dataclass(frozen=True)
class ModelProbe:
    """How to ask a member each phase: paths on its ``port`` and the probe inference."""

    port: str
    live_path: str
    ready_path: str
    infer_path: str
    infer_body: dict[str, Any]


def model_probe(definition: StackDef) -> ModelProbe | None:
    """How to ask a stack's model server each phase; None without a model
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
