"""Where the local platform keeps its files (default ``.gameday/``, resolved at the edge)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["LocalHome"]


@dataclass(frozen=True)
class LocalHome:
    root: Path

    @property
    def topology(self) -> Path:
        return self.root / "topology.json"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def socket(self) -> Path:
        return self.root / "supervisor.sock"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def supervisor_log(self) -> Path:
        return self.logs / "supervisor.log"

    @property
    def haproxy_socket(self) -> Path:
        return self.root / "haproxy.sock"
