"""Kernel-level isolation of a region's address block: one nftables table of ours."""

from __future__ import annotations

from typing import Any, Literal

from gameday.errors import FaultError
from gameday.platforms.local import nft
from gameday.platforms.local.faults.base import FaultContext, LocalFault

__all__ = ["NftTable"]


class NftTable(LocalFault):
    kind: Literal["nft_table"] = "nft_table"
    table: str
    region: str
    block: str
    direction: Literal["ingress", "egress", "both"] = "both"
    inside: tuple[str, int]  # a member of the region: address, port
    outside: tuple[str, int]  # a listener outside it (the edge)
    region_uids: tuple[int, ...] = ()  # users only this region's members run as

    def target(self) -> str:
        return f"{self.region} isolated ({self.direction}, table {self.table})"

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        nft.apply(nft.isolate(self.block, self.direction, table=self.table,
                              region_uids=self.region_uids))
        return {"table": self.table, "block": self.block, "direction": self.direction}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        observed = {
            "into_region": nft.connect_blocked(self.outside[0], *self.inside),
            "out_of_region": nft.connect_blocked(self.inside[0], *self.outside),
        }
        wanted = {"into_region": self.direction in ("ingress", "both"),
                  "out_of_region": self.direction in ("egress", "both")}
        # A dropped SYN-ACK blocks the connect too, so a one-way cut may block both probes.
        if not any(observed[key] for key, want in wanted.items() if want):
            raise FaultError(f"isolate {self.region}: nft rules in place but nothing is "
                             f"blocked (observed {observed})")
        return {"observed": observed}

    def undo(self, ctx: FaultContext) -> str:
        nft.remove(self.table)
        return f"removed nft table {self.table}"
