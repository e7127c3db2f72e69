"""Kernel-level partitions between loopback address blocks, as nftables tables we own.

Every packet between two loopback addresses passes the output hook once, so one `output`
chain that drops by source and destination block cuts a link in one direction. Only
127.0.0.0/8 blocks are accepted: this never touches a real interface.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gameday.errors import FaultError

__all__ = [
    "TABLE_PREFIX",
    "Direction",
    "PairDirection",
    "PartitionRule",
    "RegionUidRule",
    "ReplyRule",
    "apply",
    "connect_blocked",
    "cut_peers",
    "isolate",
    "list_tables",
    "nft_usable",
    "partition",
    "remove",
    "ruleset_text",
]

TABLE_PREFIX = "gameday_"
Direction = Literal["ingress", "egress", "both"]
PairDirection = Literal["a_to_b", "b_to_a", "both"]

_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
_TABLE_NAME = re.compile(rf"^{TABLE_PREFIX}[A-Za-z0-9_]{{1,50}}$")
_TABLE_LINE = re.compile(r"^table inet (\S+) \{", re.MULTILINE)
_NFT_TIMEOUT_S = 10.0


def _loopback_block(block: str) -> ipaddress.IPv4Network:
    try:
        network = ipaddress.IPv4Network(block)
    except ValueError as exc:
        raise ValueError(f"block {block!r} is not an IPv4 CIDR: {exc}") from None
    if not network.subnet_of(_LOOPBACK):
        raise ValueError(f"block {block} is outside 127.0.0.0/8; only loopback is partitioned")
    return network


@dataclass(frozen=True)
class PartitionRule:
    """Drop IPv4 packets from `source` to `destination` (CIDRs in 127.0.0.0/8).

    `*_outside` flips a side to "any address not in that block".
    """

    source: str
    destination: str
    source_outside: bool = False
    destination_outside: bool = False

    def __post_init__(self) -> None:
        _loopback_block(self.source)
        _loopback_block(self.destination)

    def nft(self) -> str:
        """The rule as one nft statement."""
        saddr = "!= " if self.source_outside else ""
        daddr = "!= " if self.destination_outside else ""
        return f"ip saddr {saddr}{self.source} ip daddr {daddr}{self.destination} drop"


@dataclass(frozen=True)
class ReplyRule:
    """Packets answering a connection go where its first packets went: a region member
    answering its neighbour (which, unbound, sent from 127.0.0.1) must not be cut as if it
    dialled out, and a connection from outside never got its SYN through anyway."""

    def nft(self) -> str:
        return "ct direction reply accept"


@dataclass(frozen=True)
class RegionUidRule:
    """Packets sent by the region's own users' sockets: ``drop`` those leaving the block, or
    ``accept`` the rest. On loopback a socket that binds no address sends from 127.0.0.1, so
    an address rule alone would cut a region's members off from each other (Patroni from its
    own PostgreSQL and etcd member) while letting them dial out; their uid tells them apart."""

    uids: tuple[int, ...]
    block: str
    verdict: Literal["drop", "accept"]

    def nft(self) -> str:
        uids = ", ".join(str(u) for u in self.uids)
        leaving = f" ip daddr != {self.block}" if self.verdict == "drop" else ""
        return f"meta skuid {{ {uids} }}{leaving} {self.verdict}"


Rule = PartitionRule | RegionUidRule | ReplyRule


def _isolation_rules(block: str, direction: Direction,
                     region_uids: tuple[int, ...] = ()) -> tuple[Rule, ...]:
    cidr = str(_loopback_block(block))
    ingress = PartitionRule(cidr, cidr, source_outside=True)
    egress = PartitionRule(cidr, cidr, destination_outside=True)
    rules: dict[str, tuple[Rule, ...]] = {
        "ingress": (ingress,), "egress": (egress,), "both": (ingress, egress)}
    if direction not in rules:
        raise ValueError(f"direction {direction!r}: expected ingress, egress or both")
    if not region_uids:
        return rules[direction]
    leave = RegionUidRule(region_uids, cidr, "drop")
    own = RegionUidRule(region_uids, cidr, "accept")
    first: tuple[Rule, ...] = (own,) if direction == "ingress" else (leave, own)
    return (ReplyRule(), *first, *rules[direction])


def _partition_rules(
    block_a: str, block_b: str, direction: PairDirection
) -> tuple[PartitionRule, ...]:
    a, b = _loopback_block(block_a), _loopback_block(block_b)
    if a.overlaps(b):
        raise ValueError(f"blocks {a} and {b} overlap; a partition needs two disjoint blocks")
    a_to_b, b_to_a = PartitionRule(str(a), str(b)), PartitionRule(str(b), str(a))
    rules = {"a_to_b": (a_to_b,), "b_to_a": (b_to_a,), "both": (a_to_b, b_to_a)}
    if direction not in rules:
        raise ValueError(f"direction {direction!r}: expected a_to_b, b_to_a or both")
    return rules[direction]


def isolate(block: str, direction: Direction, table: str = "gameday_isolate",
            region_uids: tuple[int, ...] = ()) -> str:
    """Table text cutting `block` off from every other address: packets into it ("ingress"),
    out of it ("egress") or both. TCP needs both ways, so either one blocks connects.
    ``region_uids``: the users only the region's members run as (see ``RegionUidRule``)."""
    return ruleset_text(table, _isolation_rules(block, direction, region_uids))


def partition(
    block_a: str, block_b: str, direction: PairDirection, table: str = "gameday_partition"
) -> str:
    """Table text cutting only the link between two blocks ("a_to_b", "b_to_a" or "both");
    each block keeps talking to everything else."""
    return ruleset_text(table, _partition_rules(block_a, block_b, direction))


def cut_peers(table: str, uids: tuple[int, ...], own: Sequence[tuple[str, int]],
              peers: Sequence[tuple[str, int]]) -> str:
    """Table text cutting the sockets of ``uids`` (one region's members) off from the
    ``peers`` endpoints, and everyone else off from the ``own`` endpoints: one quorum member
    (an etcd member and the Patroni beside it) alone, the rest of its region untouched."""
    if not uids or not own or not peers:
        raise ValueError("cut_peers needs the region's users, its endpoints and the peers'")
    for address, _ in (*own, *peers):
        if ipaddress.IPv4Address(address) not in _LOOPBACK:
            raise ValueError(f"{address} is outside 127.0.0.0/8; only loopback is cut")
    users = ", ".join(str(u) for u in uids)

    def endpoints(pairs: Sequence[tuple[str, int]]) -> str:
        return ", ".join(f"{a} . {p}" for a, p in pairs)

    rules = [ReplyRule().nft(),
             f"meta skuid {{ {users} }} ip daddr . tcp dport {{ {endpoints(peers)} }} drop",
             f"meta skuid != {{ {users} }} ip daddr . tcp dport {{ {endpoints(own)} }} drop"]
    return _table_text(table, rules)


def ruleset_text(table: str, rules: Sequence[Rule]) -> str:
    """nft script for table `inet <table>` holding `rules` in an output hook chain."""
    return _table_text(table, [rule.nft() for rule in rules])


def _table_text(table: str, rules: Sequence[str]) -> str:
    if not _TABLE_NAME.match(table):
        raise ValueError(f"table {table!r}: expected {TABLE_PREFIX} then letters, digits, '_'")
    body = "\n".join(f"        {rule}" for rule in rules)
    return (
        f"table inet {table} {{\n"
        "    chain output {\n"
        "        type filter hook output priority filter; policy accept;\n"
        f"{body}\n"
        "    }\n"
        "}\n"
    )


def _nft(args: Sequence[str], script: str | None = None) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("nft") or shutil.which("nft", path="/usr/sbin:/sbin")
    if binary is None:
        raise FaultError("nft not found on PATH nor in /usr/sbin (apt install nftables)")
    return subprocess.run(
        [binary, *args],
        input=script,
        capture_output=True,
        text=True,
        timeout=_NFT_TIMEOUT_S,
        check=False,
    )


def nft_usable() -> tuple[bool, str]:
    """Whether we can create and delete an nftables table here; the reason when not."""
    probe = f"{TABLE_PREFIX}probe"
    try:
        done = _nft(["-f", "-"], f"table inet {probe} {{\n}}\ndelete table inet {probe}\n")
    except (FaultError, OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if done.returncode != 0:
        return False, f"nft could not create a table: {done.stderr.strip()}"
    return True, ""


def apply(table_text: str) -> str:
    """Load one table (replacing any table of the same name, atomically); return its name."""
    match = _TABLE_LINE.search(table_text)
    if match is None or not match.group(1).startswith(TABLE_PREFIX):
        raise ValueError(f"expected one 'table inet {TABLE_PREFIX}...' block (see ruleset_text)")
    name = match.group(1)
    # add-then-delete first makes a re-apply replace the table instead of doubling its rules,
    # in the same transaction so the link never flaps open in between.
    script = f"table inet {name} {{\n}}\ndelete table inet {name}\n{table_text}"
    done = _nft(["-f", "-"], script)
    if done.returncode != 0:
        raise FaultError(f"nft refused table {name}: {done.stderr.strip()}")
    return name


def remove(table_name: str) -> None:
    """Delete one of our tables; a table that is already gone is fine."""
    if not table_name.startswith(TABLE_PREFIX):
        raise ValueError(f"refusing to delete {table_name!r}: not a {TABLE_PREFIX}* table")
    done = _nft(["delete", "table", "inet", table_name])
    if done.returncode != 0 and "No such file or directory" not in done.stderr:
        raise FaultError(f"nft could not delete table {table_name}: {done.stderr.strip()}")


def list_tables(prefix: str = "gameday") -> list[str]:
    """Names of the inet tables starting with `prefix` (to sweep leftovers after a crash)."""
    done = _nft(["list", "tables"])
    if done.returncode != 0:
        raise FaultError(f"nft could not list tables: {done.stderr.strip()}")
    names = []
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[:2] == ["table", "inet"] and parts[2].startswith(prefix):
            names.append(parts[2])
    return names


def connect_blocked(src_address: str, dst_address: str, port: int, timeout_s: float = 0.3) -> bool:
    """Whether a TCP connect from `src_address` to `dst_address`:`port` times out.

    A refusal or an accepted connection both prove packets flow both ways, so neither counts.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((src_address, 0))
        sock.settimeout(timeout_s)
        try:
            sock.connect((dst_address, port))
        except TimeoutError:
            return True
        except ConnectionRefusedError:
            return False
        except PermissionError:
            # netfilter dropping a locally sent packet can surface as EPERM on the send.
            return True
    return False
