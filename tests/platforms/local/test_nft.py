"""nftables partitions on loopback: real tables, real sockets, healed by every test.

The blocks are /24s inside the region ranges (127.10.254.0/24, 127.20.254.0/24) rather than
the whole /16s, so a test run never cuts processes other people run on this machine.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from gameday.platforms.local.nft import (
    PartitionRule,
    apply,
    connect_blocked,
    cut_peers,
    isolate,
    list_tables,
    nft_usable,
    partition,
    remove,
    ruleset_text,
)

BLOCK_A, HOST_A = "127.10.254.0/24", "127.10.254.5"
BLOCK_B, HOST_B = "127.20.254.0/24", "127.20.254.5"
OUTSIDE = "127.0.0.1"
TABLE = f"gameday_test{os.getpid()}"
F = TypeVar("F", bound=Callable[..., Any])

_USABLE, _REASON = nft_usable()


def needs_nft(test: F) -> F:
    """Mark a test as needing nftables, and skip it with nft's own reason when unusable."""
    marked = pytest.mark.skipif(not _USABLE, reason=f"nftables not usable: {_REASON}")(test)
    return pytest.mark.nft(marked)


@pytest.fixture
def tables() -> Iterator[None]:
    """Removes every table this test process created, whatever the test did."""
    yield
    if _USABLE:
        for name in list_tables(prefix=TABLE):
            if name == TABLE or name.startswith(f"{TABLE}_"):
                remove(name)


@pytest.fixture
def ports() -> Iterator[dict[str, int]]:
    """A listening TCP socket on each test address; connects complete in the kernel."""
    sockets = {host: socket.create_server((host, 0)) for host in (HOST_A, HOST_B, OUTSIDE)}
    yield {host: sock.getsockname()[1] for host, sock in sockets.items()}
    for sock in sockets.values():
        sock.close()


def _blocked(src: str, dst: str, ports: dict[str, int]) -> bool:
    return connect_blocked(src, dst, ports[dst], timeout_s=0.3)


def _datagram_arrives(src: str, dst: str) -> bool:
    """One UDP datagram, one direction only: shows which way packets are dropped."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver,
    ):
        receiver.bind((dst, 0))
        receiver.settimeout(0.3)
        sender.bind((src, 0))
        try:
            sender.sendto(b"ping", receiver.getsockname())
            return receiver.recv(16) == b"ping"
        except (PermissionError, TimeoutError):  # dropped on output: EPERM, or never arrives
            return False


@needs_nft
def test_isolating_a_block_both_ways_blocks_connects_into_and_out_of_it(
    tables: None, ports: dict[str, int]
) -> None:
    apply(isolate(BLOCK_A, "both", table=TABLE))

    assert _blocked(OUTSIDE, HOST_A, ports)
    assert _blocked(HOST_A, OUTSIDE, ports)
    assert _blocked(HOST_B, HOST_A, ports)
    assert not _blocked(HOST_B, OUTSIDE, ports)
    assert not _blocked(OUTSIDE, HOST_B, ports)


@needs_nft
def test_ingress_isolation_drops_only_packets_entering_the_block(
    tables: None, ports: dict[str, int]
) -> None:
    apply(isolate(BLOCK_A, "ingress", table=TABLE))

    assert not _datagram_arrives(OUTSIDE, HOST_A)
    assert _datagram_arrives(HOST_A, OUTSIDE)
    # TCP needs both ways: inbound the SYN is dropped; outbound the SYN leaves but the
    # SYN-ACK coming back into the block is dropped. Either way the connect times out.
    assert _blocked(OUTSIDE, HOST_A, ports)
    assert _blocked(HOST_A, OUTSIDE, ports)


@needs_nft
def test_egress_isolation_drops_only_packets_leaving_the_block(
    tables: None, ports: dict[str, int]
) -> None:
    apply(isolate(BLOCK_A, "egress", table=TABLE))

    assert _datagram_arrives(OUTSIDE, HOST_A)
    assert not _datagram_arrives(HOST_A, OUTSIDE)
    # Inbound the SYN arrives but the block's SYN-ACK cannot leave; outbound the SYN is dropped.
    assert _blocked(OUTSIDE, HOST_A, ports)
    assert _blocked(HOST_A, OUTSIDE, ports)


@needs_nft
def test_partition_cuts_only_the_link_between_the_two_blocks(
    tables: None, ports: dict[str, int]
) -> None:
    apply(partition(BLOCK_A, BLOCK_B, "both", table=TABLE))

    assert _blocked(HOST_A, HOST_B, ports)
    assert _blocked(HOST_B, HOST_A, ports)
    assert not _blocked(HOST_A, OUTSIDE, ports)
    assert not _blocked(HOST_B, OUTSIDE, ports)
    assert not _blocked(OUTSIDE, HOST_A, ports)


@needs_nft
def test_one_way_partition_drops_datagrams_in_that_direction_only(tables: None) -> None:
    apply(partition(BLOCK_A, BLOCK_B, "a_to_b", table=TABLE))

    assert not _datagram_arrives(HOST_A, HOST_B)
    assert _datagram_arrives(HOST_B, HOST_A)


@needs_nft
def test_removing_the_table_heals_the_partition_at_once(
    tables: None, ports: dict[str, int]
) -> None:
    name = apply(isolate(BLOCK_A, "both", table=TABLE))
    assert _blocked(OUTSIDE, HOST_A, ports)

    remove(name)

    assert not _blocked(OUTSIDE, HOST_A, ports)
    assert not _blocked(HOST_A, OUTSIDE, ports)


@needs_nft
def test_applying_a_table_again_replaces_its_rules(tables: None) -> None:
    text = partition(BLOCK_A, BLOCK_B, "both", table=TABLE)
    name = apply(text)
    apply(text)

    listed = subprocess.run(
        ["nft", "list", "table", "inet", name], capture_output=True, text=True, check=True
    )
    assert listed.stdout.count(" drop") == 2


@needs_nft
def test_list_tables_finds_leftovers_and_remove_sweeps_them(tables: None) -> None:
    prefix = f"{TABLE}_"
    created = {apply(isolate(BLOCK_A, "ingress", table=f"{prefix}{n}")) for n in (1, 2)}

    assert set(list_tables(prefix=prefix)) == created
    for name in list_tables(prefix=prefix):
        remove(name)
        remove(name)  # already gone: fine

    assert list_tables(prefix=prefix) == []


@needs_nft
def test_connect_to_a_closed_port_is_not_blocked(tables: None) -> None:
    with socket.socket() as unused:
        unused.bind((HOST_A, 0))
        closed_port = unused.getsockname()[1]

    assert not connect_blocked(OUTSIDE, HOST_A, closed_port)


@pytest.mark.parametrize("block", ["10.0.0.0/8", "192.168.1.0/24", "0.0.0.0/0", "126.0.0.0/7"])
def test_blocks_outside_loopback_are_refused(block: str) -> None:
    with pytest.raises(ValueError, match=r"outside 127\.0\.0\.0/8"):
        isolate(block, "both")
    with pytest.raises(ValueError, match=r"outside 127\.0\.0\.0/8"):
        partition(BLOCK_A, block, "both")
    with pytest.raises(ValueError, match=r"outside 127\.0\.0\.0/8"):
        PartitionRule(block, BLOCK_A)


def test_ruleset_text_drops_by_source_and_destination_in_an_output_hook() -> None:
    text = isolate("127.10.0.0/16", "both", table="gameday_region_a")

    assert text.startswith("table inet gameday_region_a {")
    assert "type filter hook output priority filter; policy accept;" in text
    assert "ip saddr != 127.10.0.0/16 ip daddr 127.10.0.0/16 drop" in text
    assert "ip saddr 127.10.0.0/16 ip daddr != 127.10.0.0/16 drop" in text


def test_partition_of_overlapping_blocks_is_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        partition("127.10.0.0/16", "127.10.5.0/24", "both")


def test_only_gameday_tables_can_be_written_or_removed() -> None:
    with pytest.raises(ValueError, match="gameday_"):
        remove("filter")
    with pytest.raises(ValueError, match="gameday_"):
        isolate(BLOCK_A, "both", table="filter")
    with pytest.raises(ValueError, match="gameday_"):
        apply("table inet filter {\n}\n")


def test_rules_can_be_combined_into_one_table() -> None:
    rules = [PartitionRule(BLOCK_A, BLOCK_B), PartitionRule(BLOCK_B, "127.0.0.1/32")]

    text = ruleset_text("gameday_custom", rules)

    assert "ip saddr 127.10.254.0/24 ip daddr 127.20.254.0/24 drop" in text
    assert "ip saddr 127.20.254.0/24 ip daddr 127.0.0.1/32 drop" in text


REGION_USER = "gameday-db-a"  # made by make setup: region-a's database members run as it
_CONNECT_AS = ("import socket, sys\n"
               "s = socket.socket(); s.settimeout(0.3)\n"
               "try:\n    s.connect((sys.argv[1], int(sys.argv[2]))); s.sendall(b'x')\n"
               "except TimeoutError:\n    sys.exit(3)\n")


def _blocked_as(user: str, dst: str, ports: dict[str, int]) -> bool:
    """A connect by ``user`` that binds no address (so it sends from 127.0.0.1, as every
    member's client socket does), run in Debian's Python as that user."""
    done = subprocess.run(["/usr/bin/python3", "-c", _CONNECT_AS, dst, str(ports[dst])],
                          user=user, capture_output=True, timeout=10)
    return done.returncode == 3


def _uid(user: str) -> int:
    import pwd

    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        pytest.skip(f"no user {user}: run make setup")


@needs_nft
def test_an_isolated_region_keeps_its_own_traffic_told_by_its_members_user(
    tables: None, ports: dict[str, int]
) -> None:
    uid = _uid(REGION_USER)
    apply(isolate(BLOCK_A, "both", table=TABLE, region_uids=(uid,)))

    assert not _blocked_as(REGION_USER, HOST_A, ports)  # a member to its neighbour
    assert _blocked_as(REGION_USER, OUTSIDE, ports)  # out of the region
    assert _blocked_as(REGION_USER, HOST_B, ports)
    assert _blocked(OUTSIDE, HOST_A, ports)  # into it, from anyone else
    assert not _blocked(OUTSIDE, HOST_B, ports)  # the rest of the world is untouched


@needs_nft
def test_a_peer_cut_isolates_one_members_endpoints_and_nothing_else(
    tables: None, ports: dict[str, int]
) -> None:
    uid = _uid(REGION_USER)
    apply(cut_peers(TABLE, (uid,), own=[(HOST_A, ports[HOST_A])],
                    peers=[(HOST_B, ports[HOST_B])]))

    assert _blocked_as(REGION_USER, HOST_B, ports)  # the member cannot reach its peer
    assert _blocked(OUTSIDE, HOST_A, ports)  # nor its peers (anyone else) reach it
    assert not _blocked_as(REGION_USER, OUTSIDE, ports)  # everything else still flows
    assert not _blocked(OUTSIDE, HOST_B, ports)
