"""Fixtures for the local platform's edge and partition tests: real processes on loopback."""

from __future__ import annotations

import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

# A replica stand-in, run as its own process so SIGKILL drops its sockets like a real crash.
_REGION_SERVER_PY = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

address, port, region = sys.argv[1], int(sys.argv[2]), sys.argv[3]

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = ("ready" if self.path == "/ready" else f"{region} {self.path}").encode()
        self.send_response(200)
        self.send_header("X-Served-By-Region", region)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the edge's checks and resets end connections abruptly; that is expected

server = Server((address, port), Handler)
print("listening", flush=True)
server.serve_forever()
"""


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port that was free on `address` a moment ago."""
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


@dataclass
class RegionServer:
    """One replica stand-in process answering with X-Served-By-Region: <region>."""

    address: str
    region: str
    port: int = 0
    process: subprocess.Popen[str] | None = field(default=None, repr=False)

    def start(self) -> RegionServer:
        if not self.port:
            self.port = free_port(self.address)
        argv = [sys.executable, "-c", _REGION_SERVER_PY, self.address, str(self.port), self.region]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "listening":
            raise RuntimeError(f"region server {self.address}:{self.port} did not start")
        return self

    def kill(self) -> None:
        """SIGKILL: the kernel resets its connections and refuses new ones, like a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=5)


@pytest.fixture
def region_servers() -> Iterator[list[RegionServer]]:
    """A list to append started RegionServers to; every one is killed at the end."""
    started: list[RegionServer] = []
    yield started
    for server in started:
        server.kill()


class ResettingTcpProxy:
    """A TCP forwarder like the fault proxy: it accepts first, then resets the client when
    its upstream refuses or dies, so the edge sees a connection that opened then broke."""

    def __init__(self, upstream: tuple[str, int], address: str = "127.0.0.1") -> None:
        self.upstream = upstream
        self._listener = socket.create_server((address, 0))
        self.address, self.port = self._listener.getsockname()[:2]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        self._listener.settimeout(0.1)
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=1.0)
        except OSError:
            _reset(client)
            return
        with upstream:
            self._pump(client, upstream)
        _reset(client)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        while not self._stopping.is_set():
            readable, _, _ = select.select([client, upstream], [], [], 0.2)
            for source in readable:
                try:
                    data = source.recv(65536)
                    if data:
                        (upstream if source is client else client).sendall(data)
                except OSError:
                    data = b""
                if not data:
                    return

    def close(self) -> None:
        self._stopping.set()
        self._listener.close()
        self._thread.join(timeout=2)


def _reset(sock: socket.socket) -> None:
    # SO_LINGER with a zero timeout turns close() into an RST.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.fixture
def tcp_proxies() -> Iterator[list[ResettingTcpProxy]]:
    """A list to append ResettingTcpProxy objects to; every one is closed at the end."""
    opened: list[ResettingTcpProxy] = []
    yield opened
    for proxy in opened:
        proxy.close()


def wait_until(condition: object, timeout_s: float, interval_s: float = 0.02) -> bool:
    """Poll a zero-argument callable until it returns truthy or `timeout_s` passes."""
    assert callable(condition)
    deadline_s = time.monotonic() + timeout_s
    while time.monotonic() < deadline_s:
        if condition():
            return True
        time.sleep(interval_s)
    return bool(condition())

