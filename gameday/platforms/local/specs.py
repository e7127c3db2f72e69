"""What the local supervisor runs: one ProcessSpec per process, as plain JSON-able data.

The supervisor takes any command with its user, environment, working directory, address,
health check and restart policy; stacks, the edge and the fault proxy are all just specs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["HealthCheck", "ProcessSpec", "RestartPolicy"]

RestartPolicy = Literal["always", "on-failure", "never"]


@dataclass(frozen=True)
class HealthCheck:
    """``http``: GET ``path`` answers 200; ``tcp``: a connect succeeds."""

    kind: Literal["http", "tcp"] = "http"
    path: str = "/health"
    port: int | None = None  # defaults to the process's own port
    timeout_s: float = 1.0


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    region: str  # region-a | region-b | edge
    stack: str  # tabular | edge | fault-proxy | ...
    role: str  # replica | edge | fault-proxy
    argv: tuple[str, ...]
    address: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    user: str | None = None
    health: HealthCheck | None = HealthCheck()
    restart: RestartPolicy = "always"
    start_timeout_s: float = 60.0
    order: int = 0  # lower starts first; each order group is healthy before the next starts

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ProcessSpec:
        health = raw.get("health")
        return cls(**{**raw, "argv": tuple(raw["argv"]),
                      "health": HealthCheck(**health) if health else None})
