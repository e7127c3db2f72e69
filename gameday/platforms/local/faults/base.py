"""What every local fault kind is: a typed record with ``inject``, ``verify`` and ``undo``.

The same ``undo`` runs wherever a fault is rolled back: the capability that injected it, the
supervisor's dead man's switch (its owner died), ``reset_faults`` and ``gameday down``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from gameday.platforms.local.home import LocalHome

__all__ = ["FaultContext", "LocalFault", "MemberRef"]


@dataclass(frozen=True)
class FaultContext:
    """What a fault may use: the home, the fault proxy's API, the supervisor (``call(op,
    **arguments)``; raises ``SupervisorUnreachable`` when none runs)."""

    home: LocalHome
    proxy_api_url: str
    call: Callable[..., Any]


class MemberRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    address: str
    ports: dict[str, int]

    @property
    def url(self) -> str:
        return f"http://{self.address}:{next(iter(self.ports.values()))}"


class LocalFault(BaseModel):
    """One fault kind. ``inject`` does it, ``verify`` proves it is in effect (FaultError if
    not) and returns what it observed, ``undo`` rolls it back and says what it did; ``undo``
    must be safe to call twice and after a partial ``inject``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str

    def target(self) -> str:
        raise NotImplementedError

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        raise NotImplementedError

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        raise NotImplementedError

    def undo(self, ctx: FaultContext) -> str:
        raise NotImplementedError
