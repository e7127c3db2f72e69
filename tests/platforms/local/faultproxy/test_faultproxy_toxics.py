"""Each toxic observably does its thing on real sockets, driven by toxiproxy-python."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import pytest
import requests
from toxiproxy import Toxiproxy

from gameday.platforms.local.faultproxy import ServerThread

if TYPE_CHECKING:
    from conftest import EchoLink


def test_latency_toxic_adds_its_delay_to_a_round_trip(echo_link: EchoLink) -> None:
    with echo_link.connect() as sock:
        baseline_s = echo_link.median_round_trip_s(sock)
        echo_link.proxy.add_toxic(type="latency", attributes={"latency": 100})
        with_latency_s = echo_link.median_round_trip_s(sock)
    assert 0.100 <= with_latency_s - baseline_s <= 0.130


def test_latency_on_the_upstream_stream_delays_requests(echo_link: EchoLink) -> None:
    echo_link.proxy.add_toxic(type="latency", stream="upstream", attributes={"latency": 100})
    with echo_link.connect() as sock:
        assert echo_link.median_round_trip_s(sock, count=3) >= 0.100


def test_latency_added_then_removed_on_a_live_connection_applies_to_its_next_data(
        echo_link: EchoLink) -> None:
    with echo_link.connect() as sock:
        assert echo_link.round_trip_s(sock) < 0.100
        echo_link.proxy.add_toxic(type="latency", attributes={"latency": 200})
        assert echo_link.round_trip_s(sock) >= 0.200
        echo_link.proxy.destroy_toxic("latency_downstream")
        assert echo_link.median_round_trip_s(sock, count=3) < 0.100


def test_updating_a_toxic_changes_live_connections(echo_link: EchoLink,
                                                   faultproxy: ServerThread) -> None:
    echo_link.proxy.add_toxic(name="slow", type="latency", attributes={"latency": 50})
    with echo_link.connect() as sock:
        assert echo_link.round_trip_s(sock) >= 0.050
        reply = requests.post(f"{faultproxy.url}/proxies/echo/toxics/slow",
                              json={"attributes": {"latency": 250}}, timeout=5)
        assert reply.status_code == 200
        assert reply.json()["attributes"] == {"latency": 250, "jitter": 0}
        assert echo_link.round_trip_s(sock) >= 0.250


def test_toxicity_zero_has_no_effect(echo_link: EchoLink) -> None:
    echo_link.proxy.add_toxic(type="latency", toxicity=0.0, attributes={"latency": 1000})
    with echo_link.connect() as sock:
        assert echo_link.median_round_trip_s(sock, count=3) < 0.500


def test_timeout_toxic_blocks_data_and_reset_restores_the_link(
        echo_link: EchoLink, toxiproxy: Toxiproxy) -> None:
    echo_link.proxy.add_toxic(type="timeout", attributes={"timeout": 0})
    with echo_link.connect(timeout_s=0.5) as held:
        held.sendall(b"ping")
        with pytest.raises(TimeoutError):
            held.recv(16)
        toxiproxy.reset()
        held.settimeout(5.0)
        # The held connection dropped data, so removing the toxic closes it (as Toxiproxy).
        assert held.recv(16) == b""
    with echo_link.connect() as fresh:
        assert echo_link.round_trip_s(fresh) < 1.0


def test_timeout_toxic_closes_the_connection_after_its_timeout(echo_link: EchoLink) -> None:
    echo_link.proxy.add_toxic(type="timeout", attributes={"timeout": 200})
    with echo_link.connect() as sock:
        started = time.perf_counter()
        sock.sendall(b"ping")
        assert echo_link.recv_until_eof(sock) == b""
        assert time.perf_counter() - started >= 0.200


def test_timeout_added_to_a_live_connection_stops_its_data(echo_link: EchoLink) -> None:
    with echo_link.connect(timeout_s=0.5) as sock:
        echo_link.round_trip_s(sock)
        echo_link.proxy.add_toxic(type="timeout", stream="upstream", attributes={"timeout": 0})
        sock.sendall(b"ping")
        with pytest.raises(TimeoutError):
            sock.recv(16)


def test_bandwidth_toxic_paces_the_link_to_its_rate(echo_link: EchoLink) -> None:
    payload = bytes(range(256)) * 200  # 51.2 KB at 100 KB/s: at least ~0.5 s
    echo_link.proxy.add_toxic(type="bandwidth", attributes={"rate": 100})
    with echo_link.connect() as sock:
        started = time.perf_counter()
        sock.sendall(payload)
        assert echo_link.recv_exactly(sock, len(payload)) == payload
        assert time.perf_counter() - started >= 0.45


def test_slicer_toxic_delivers_data_in_small_delayed_pieces(echo_link: EchoLink) -> None:
    payload = b"x" * 1000
    echo_link.proxy.add_toxic(type="slicer", attributes={
        "average_size": 100, "size_variation": 20, "delay": 20_000})
    with echo_link.connect() as sock:
        started = time.perf_counter()
        sock.sendall(payload)
        pieces = []
        while sum(map(len, pieces)) < len(payload):
            pieces.append(sock.recv(65536))
        assert b"".join(pieces) == payload
        assert len(pieces) >= 5
        assert time.perf_counter() - started >= 0.1


def test_limit_data_toxic_closes_after_its_byte_count(echo_link: EchoLink) -> None:
    echo_link.proxy.add_toxic(type="limit_data", attributes={"bytes": 1000})
    with echo_link.connect() as sock:
        sock.sendall(b"y" * 5000)
        assert echo_link.recv_until_eof(sock) == b"y" * 1000


def test_reset_peer_toxic_resets_the_connection(echo_link: EchoLink) -> None:
    echo_link.proxy.add_toxic(type="reset_peer", stream="upstream",
                              attributes={"timeout": 100})
    with echo_link.connect() as sock:
        started = time.perf_counter()
        sock.sendall(b"ping")
        with pytest.raises(ConnectionResetError):
            sock.recv(16)
        assert time.perf_counter() - started >= 0.100


def test_slow_close_toxic_holds_the_close_back(echo_link: EchoLink) -> None:
    echo_link.proxy.add_toxic(type="slow_close", attributes={"delay": 300})
    with echo_link.connect() as sock:
        assert echo_link.round_trip_s(sock) < 0.300  # data itself is not delayed
        started = time.perf_counter()
        sock.shutdown(socket.SHUT_WR)  # the echo server then closes; its FIN is held back
        assert echo_link.recv_until_eof(sock) == b""
        assert time.perf_counter() - started >= 0.300
