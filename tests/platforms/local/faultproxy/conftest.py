"""Fixtures for the fault proxy: the server in a thread, real upstreams, the real client."""

from __future__ import annotations

import socket
import socketserver
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from toxiproxy import Toxiproxy
from toxiproxy.proxy import Proxy

from gameday.platforms.local.faultproxy import ServerThread, run_in_thread

IO_TIMEOUT_S = 5.0


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            while data := self.request.recv(65536):
                self.request.sendall(data)
        except OSError:
            pass  # a reset from the proxy under test is often the point


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def echo_upstream() -> Iterator[str]:
    """A TCP echo server; closes its side once the client half-closes. Yields host:port."""
    server = _Server(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(IO_TIMEOUT_S)


@pytest.fixture
def faultproxy() -> Iterator[ServerThread]:
    with run_in_thread("127.0.0.1", 0) as handle:
        yield handle


@pytest.fixture
def toxiproxy(faultproxy: ServerThread) -> Toxiproxy:
    """The real toxiproxy-python client, pointed at the server under test."""
    client = Toxiproxy()
    client.update_api_consumer(faultproxy.host, faultproxy.port)
    return client


@dataclass
class EchoLink:
    """A proxy in front of the echo server, with the socket helpers the tests share."""

    proxy: Proxy

    def connect(self, timeout_s: float = IO_TIMEOUT_S) -> socket.socket:
        host, port = self.proxy.listen.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)), timeout=timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    @staticmethod
    def round_trip_s(sock: socket.socket, payload: bytes = b"ping") -> float:
        started = time.perf_counter()
        sock.sendall(payload)
        EchoLink.recv_exactly(sock, len(payload))
        return time.perf_counter() - started

    @staticmethod
    def median_round_trip_s(sock: socket.socket, count: int = 10) -> float:
        return statistics.median(EchoLink.round_trip_s(sock) for _ in range(count))

    @staticmethod
    def recv_exactly(sock: socket.socket, size: int) -> bytes:
        data = bytearray()
        while len(data) < size:
            piece = sock.recv(size - len(data))
            if not piece:
                raise ConnectionError(f"EOF after {len(data)} of {size} bytes")
            data += piece
        return bytes(data)

    @staticmethod
    def recv_until_eof(sock: socket.socket) -> bytes:
        data = bytearray()
        while piece := sock.recv(65536):
            data += piece
        return bytes(data)


@pytest.fixture
def echo_link(toxiproxy: Toxiproxy, echo_upstream: str) -> EchoLink:
    return EchoLink(toxiproxy.create(upstream=echo_upstream, name="echo"))
