"""The local platform's database capabilities (``DatabaseAccess``) and the network cut of one
quorum member (``NetworkControl.cut_from_peers``), as a part of ``LocalPlatform``."""

from __future__ import annotations

from typing import Any

from gameday.errors import FaultError
from gameday.platforms.base import DatabaseInfo, check_region
from gameday.platforms.local import nft
from gameday.platforms.local.database import database_info, kill_postmaster, region_uids
from gameday.platforms.local.faults import DiskFill, NftPeerCut
from gameday.platforms.local.part import PlatformPart
from gameday.platforms.local.volumes import volume_of

__all__ = ["DatabaseFaults"]


class DatabaseFaults(PlatformPart):
    # -- DatabaseAccess ------------------------------------------------------------------------
    def database(self, stack: str) -> DatabaseInfo:
        return database_info(self.topology(), self.home.root, stack)

    def kill_postmaster(self, stack: str, node: str) -> int:
        return kill_postmaster(self.topology(), self.home.root, stack, node)

    def fill_disk(self, node: str) -> dict[str, Any]:
        volume = volume_of(self.topology().spec(node))
        if volume is None:
            raise FaultError(f"{node} has no size-capped volume: set database.disk_mb in the "
                             "suite (a disk-full fault never fills the host's disk)")
        return self.ledger.inject(DiskFill(member=node, volume=volume.path))

    def free_disks(self) -> list[str]:
        return self.ledger.undo(lambda record: isinstance(record.fault, DiskFill))

    # -- NetworkControl: one quorum member ----------------------------------------------------
    def cut_from_peers(self, stack: str, component: str, region: str) -> dict[str, object]:
        check_region(region)
        usable, reason = nft.nft_usable()
        if not usable:
            raise FaultError(f"nftables is not usable here: {reason}")
        members = [s for s in self.topology().processes
                   if s.stack == stack and s.component == component]
        mine = [s for s in members if s.region == region]
        uids = region_uids(self.topology(), region)
        if len(mine) != 1 or len(members) < 3 or not uids or mine[0].user is None:
            raise FaultError(f"cut {stack}.{component} in {region}: needs one member there, "
                             f"run as a user of that region only, and two peers elsewhere")
        own = tuple((m.address, port) for m in mine for port in m.ports.values())
        peers = tuple((m.address, port) for m in members if m not in mine
                      for port in m.ports.values())
        return self.ledger.inject(NftPeerCut(
            table=f"gameday_cut_{stack}_{component}", member=mine[0].name, user=mine[0].user,
            uids=uids, own=own, peers=peers))

    def heal_peers(self, stack: str, component: str) -> dict[str, object]:
        table = f"gameday_cut_{stack}_{component}"
        undone = self.ledger.undo(lambda r: isinstance(r.fault, NftPeerCut)
                                  and r.fault.table == table)
        nft.remove(table)
        return {"table": table, "undone": undone}
