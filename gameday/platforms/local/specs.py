"""What the local supervisor runs: one ProcessSpec per member, rendered from a stack's
declaration (or the platform's own edge and fault proxy), typed and saved in the topology.

The supervisor takes any command with its user, environment, working directory, ports,
health check, data directories, config files and restart policy; stacks, the edge and the
fault proxy are all just specs. Each member runs in its own process group.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["HealthCheck", "MetricsEndpoint", "ProcessSpec", "RenderedFile", "RestartPolicy"]

RestartPolicy = Literal["always", "on-failure", "never"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthCheck(_Frozen):
    """``http``: GET ``path`` on ``port`` answers 200; ``tcp``: a connect to ``port``
    succeeds; ``command``: ``argv`` exits 0 within ``timeout_s``."""

    kind: Literal["http", "tcp", "command"] = "http"
    path: str = "/health"
    port: int | None = None  # defaults to the member's first port
    argv: tuple[str, ...] = ()
    timeout_s: float = 1.0


class MetricsEndpoint(_Frozen):
    """Where Prometheus scrapes the member."""

    port: int
    path: str = "/metrics"


class RenderedFile(_Frozen):
    path: str
    text: str
    mode: int = 0o644


class Volume(_Frozen):
    """A size-capped filesystem (tmpfs) mounted at ``path`` before the member starts."""

    path: str
    size_mb: int


class ProcessSpec(_Frozen):
    name: str
    region: str  # region-a | region-b | edge
    stack: str  # tabular | edge | fault-proxy | ...
    component: str  # api | db | haproxy | fault-proxy | ...
    index: int = 1
    argv: tuple[str, ...]
    address: str
    ports: dict[str, int] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    user: str | None = None
    health: HealthCheck | None = HealthCheck()
    metrics: MetricsEndpoint | None = None
    restart: RestartPolicy = "always"
    start_timeout_s: float = 60.0
    stop_timeout_s: float = 5.0
    data_dirs: tuple[str, ...] = ()
    pid_files: tuple[str, ...] = ()  # processes outside the member's tree, signalled with it
    volumes: tuple[Volume, ...] = ()
    files: tuple[RenderedFile, ...] = ()
    order: int = 0  # lower starts first; each order group is healthy before the next starts

    @property
    def port(self) -> int:
        return next(iter(self.ports.values()))
