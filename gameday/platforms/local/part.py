"""What the parts of ``LocalPlatform`` kept in modules of their own (its database faults, its
model-repository faults, its serving-load faults) may use of the platform they are part of."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gameday.errors import FaultError
from gameday.platforms.base import Member, check_region
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.ledger import Ledger
from gameday.platforms.local.topology import Topology

__all__ = ["ModelServers", "PlatformPart"]


@dataclass(frozen=True)
class ModelServers:
    """A region's model servers of a stack with a model repository, and how to probe them."""

    model: str
    port: str  # the model-serving port's name
    probe_path: str
    probe_body: dict[str, Any]
    members: list[Member]


class PlatformPart:
    """The platform's home, fault ledger, topology and members (``LocalPlatform`` gives them)."""

    home: LocalHome
    ledger: Ledger

    def topology(self) -> Topology:
        raise NotImplementedError

    def members(self, *, region: str | None = None, stack: str | None = None,
                component: str | None = None) -> list[Member]:
        raise NotImplementedError

    def model_servers(self, region: str, stack: str, what: str) -> ModelServers:
        """``stack``'s model servers in ``region``; FaultError, saying ``what`` needed them,
        when the stack declares no model repository and probe request, or runs no server."""
        check_region(region)
        definition = self.topology().request.stack(stack)
        repository, probe = definition.model_repository, definition.probe_request
        if repository is None or probe is None:
            raise FaultError(f"stack {stack} declares no model_repository and probe_request: "
                             f"{what}")
        members = self.members(region=region, stack=stack, component=repository.component)
        if not members:
            raise FaultError(f"no {stack}.{repository.component} member in {region}")
        return ModelServers(model=repository.model, port=repository.port,
                            probe_path=definition.endpoints[probe.endpoint],
                            probe_body=probe.body, members=members)
