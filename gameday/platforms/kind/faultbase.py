"""What every kind fault kind is: a typed record with ``inject``, ``verify`` and ``undo`` over
the platform's ``KindEnv`` (Docker through its runner, each cluster's KubeApi, Toxiproxy).

The same ``undo`` runs wherever a fault is rolled back: the capability that injected it (its
verification failed, or the experiment's rollback), ``reset_faults``, and the roll-back of a
dead owner's faults. ``undo`` must be safe to call twice and after a partial ``inject``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from gameday.errors import GamedayError
from gameday.platforms.base import MemberState
from gameday.platforms.kind.env import KindEnv

__all__ = ["HeldMember", "KindFault", "wait_until"]


class HeldMember(BaseModel):
    """A member a fault holds, as it was when the fault began: the platform lists it from
    the ledger while its pod is gone (scaled to zero) or its cluster does not answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    region: str
    stack: str
    component: str
    state: MemberState


class KindFault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str

    def target(self) -> str:
        raise NotImplementedError

    def held(self) -> tuple[HeldMember, ...]:
        """The members the fault holds down or frozen."""
        return ()

    def members(self) -> tuple[str, ...]:
        return tuple(member.name for member in self.held())

    def inject(self, env: KindEnv) -> dict[str, Any]:
        raise NotImplementedError

    def verify(self, env: KindEnv) -> dict[str, Any]:
        """Proves the fault is in effect (FaultError if not); what it observed."""
        raise NotImplementedError

    def undo(self, env: KindEnv) -> str:
        raise NotImplementedError


def wait_until(check: Callable[[], bool], timeout_s: float, interval_s: float = 0.1) -> bool:
    """Poll ``check`` until it holds or ``timeout_s`` passes; a GamedayError from it (an API
    that does not answer yet) counts as not yet."""
    deadline_s = time.monotonic() + timeout_s
    while True:
        try:
            if check():
                return True
        except GamedayError:
            pass
        if time.monotonic() >= deadline_s:
            return False
        time.sleep(interval_s)
