"""Kernel-level isolation of a region's address block: one nftables table of ours."""

from __future__ import annotations

import subprocess
from typing import Any, Literal

from gameday.errors import FaultError
from gameday.platforms.local import nft
from gameday.platforms.local.faults.base import FaultContext, LocalFault

__all__ = ["NftPeerCut", "NftTable"]


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


_PROBE = ("import socket, sys\n"
          "s = socket.socket(); s.settimeout(0.5)\n"
          "try:\n    s.connect((sys.argv[1], int(sys.argv[2])))\n"
          "except TimeoutError:\n    sys.exit(3)\n"
          "except OSError:\n    sys.exit(0)\n")


def _blocked_for(user: str, address: str, port: int) -> bool:
    """Whether a connect by ``user`` times out: the rules match by the socket's owner, so the
    probe runs as that user (Debian's Python, which every user may run)."""
    done = subprocess.run(["/usr/bin/python3", "-c", _PROBE, address, str(port)], user=user,
                          capture_output=True, timeout=10)
    return done.returncode == 3


class NftPeerCut(LocalFault):
    """One quorum member (and whatever else runs as its region's user: the Patroni beside an
    etcd member) cut from the other members' endpoints, and they from its own."""

    kind: Literal["nft_peer_cut"] = "nft_peer_cut"
    table: str
    member: str
    user: str
    uids: tuple[int, ...]
    own: tuple[tuple[str, int], ...]
    peers: tuple[tuple[str, int], ...]

    def target(self) -> str:
        return f"{self.member} cut from its peers (table {self.table})"

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        nft.apply(nft.cut_peers(self.table, self.uids, self.own, self.peers))
        return {"table": self.table, "member": self.member, "peers": list(self.peers)}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        address, port = self.peers[0]
        if not _blocked_for(self.user, address, port):
            raise FaultError(f"cut {self.member}: nft rules in place but {self.user} still "
                             f"reaches {address}:{port}")
        return {"blocked": f"{self.user} -> {address}:{port}"}

    def undo(self, ctx: FaultContext) -> str:
        nft.remove(self.table)
        return f"removed nft table {self.table}"
