"""What the parts of ``LocalPlatform`` kept in modules of their own (its database faults, its
model-repository faults, its serving-load faults) may use of the platform they are part of."""

from __future__ import annotations

from gameday.platforms.base import Member
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.ledger import Ledger
from gameday.platforms.local.topology import Topology

__all__ = ["PlatformPart"]


class PlatformPart:
    """The platform's home, fault ledger, topology and members (``LocalPlatform`` gives them)."""

    home: LocalHome
    ledger: Ledger

    def topology(self) -> Topology:
        raise NotImplementedError

    def members(self, *, region: str | None = None, stack: str | None = None,
                component: str | None = None) -> list[Member]:
        raise NotImplementedError
