"""The fault kinds of the local platform, one class each, in one explicit table.

A fault record in the ledger (``state.json``) holds one of these with its owner; whoever rolls
it back — the capability, the supervisor's dead man's switch, ``reset_faults``, ``down`` —
calls the same ``undo``.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from gameday.platforms.local.faults.base import FaultContext, LocalFault, MemberRef
from gameday.platforms.local.faults.disk import DiskFill
from gameday.platforms.local.faults.gpumemory import GpuMemoryHog
from gameday.platforms.local.faults.inputshift import ShiftedInputs
from gameday.platforms.local.faults.member import MemberHold
from gameday.platforms.local.faults.model import BrokenModel
from gameday.platforms.local.faults.nft import NftPeerCut, NftTable
from gameday.platforms.local.faults.queueburst import QueueBurst
from gameday.platforms.local.faults.region import RegionHold
from gameday.platforms.local.faults.release import ModelRelease
from gameday.platforms.local.faults.repository import (
    BackendStalled,
    ModelUnloaded,
    RepositoryFault,
    VersionLoaded,
)
from gameday.platforms.local.faults.sideprocess import SideLoadFault
from gameday.platforms.local.faults.toxics import LinkToxics, ProxyRef, Toxic
from gameday.platforms.local.owner import Owner

__all__ = [
    "FAULTS",
    "BackendStalled",
    "BrokenModel",
    "DiskFill",
    "Fault",
    "FaultContext",
    "FaultRecord",
    "GpuMemoryHog",
    "LinkToxics",
    "LocalFault",
    "MemberHold",
    "MemberRef",
    "ModelRelease",
    "ModelUnloaded",
    "NftPeerCut",
    "NftTable",
    "ProxyRef",
    "QueueBurst",
    "RegionHold",
    "RepositoryFault",
    "ShiftedInputs",
    "SideLoadFault",
    "Toxic",
    "VersionLoaded",
]

FAULTS: dict[str, type[LocalFault]] = {
    "region_hold": RegionHold,
    "member_hold": MemberHold,
    "nft_table": NftTable,
    "nft_peer_cut": NftPeerCut,
    "disk_fill": DiskFill,
    "link_toxics": LinkToxics,
    "model": BrokenModel,
    "model_unloaded": ModelUnloaded,
    "version_loaded": VersionLoaded,
    "backend_stalled": BackendStalled,
    "queue_burst": QueueBurst,
    "gpu_memory_hog": GpuMemoryHog,
    "shifted_inputs": ShiftedInputs,
    "release": ModelRelease,
}

Fault = Annotated[RegionHold | MemberHold | NftTable | NftPeerCut | LinkToxics | BrokenModel
                  | DiskFill | ModelUnloaded | VersionLoaded | BackendStalled | QueueBurst
                  | GpuMemoryHog | ShiftedInputs | ModelRelease,
                  Field(discriminator="kind")]


class FaultRecord(BaseModel):
    """A fault in force: what, since when, owned by which process (None: nobody's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    fault: Fault
    owner: Owner | None = None
    injected_s: float = Field(default_factory=time.time)

    def describe(self) -> str:
        owner = f"pid {self.owner.pid}" if self.owner else "no owner"
        return f"{self.fault.kind}: {self.fault.target()} (owner {owner})"
