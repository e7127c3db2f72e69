"""Fixtures for the local platform's edge and partition tests: real processes on loopback."""

from __future__ import annotations

import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gameday.platforms.local.edge import (
    EdgeBackend,
    EdgeConfig,
    HaproxyAdmin,
    haproxy_argv,
    render_haproxy_config,
)

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
        body = ("ready" if self.path == "/ready" else f"{region} {address} {self.path}").encode()
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

    def restart(self) -> RegionServer:
        """Come back on the same address and port, as a restarted replica would."""
        self.kill()
        return self.start()

    def kill(self) -> None:
        """SIGKILL: the kernel resets its connections and refuses new ones, like a crash."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=5)
            if self.process.stdout is not None:
                self.process.stdout.close()


@pytest.fixture
def region_server() -> Iterator[Callable[[str, str], RegionServer]]:
    """Start a replica stand-in on (address, region); every one is killed at the end."""
    started: list[RegionServer] = []

    def start(address: str, region: str) -> RegionServer:
        server = RegionServer(address, region)
        started.append(server)
        return server.start()

    yield start
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
def resetting_proxy() -> Iterator[Callable[[RegionServer], ResettingTcpProxy]]:
    """Put a ResettingTcpProxy on 127.0.0.1 in front of a server; all closed at the end."""
    opened: list[ResettingTcpProxy] = []

    def open_proxy(server: RegionServer) -> ResettingTcpProxy:
        proxy = ResettingTcpProxy((server.address, server.port))
        opened.append(proxy)
        return proxy

    yield open_proxy
    for proxy in opened:
        proxy.close()


@dataclass
class RunningEdge:
    """A haproxy process started from a rendered EdgeConfig."""

    config: EdgeConfig
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def admin(self) -> HaproxyAdmin:
        return HaproxyAdmin(self.config.admin_socket)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def all_checks_pass(self) -> bool:
        try:
            states = [s for b in self.config.backends for s in self.admin.server_states(b.stack)]
        except Exception:  # socket not there yet
            return False
        return all(state.check_status == "L7OK" for state in states)


@pytest.fixture
def start_edge(tmp_path: Path) -> Iterator[Callable[..., RunningEdge]]:
    """Start haproxy on free 127.0.0.1 ports for `backends` (EdgeConfig overrides as keywords);
    returns once every server passed a health check. Every haproxy is killed at the end."""
    # sun_path is 108 bytes: pytest's tmp_path can be longer than that, so a short dir.
    socket_dir = Path(tempfile.mkdtemp(prefix="gd-edge-"))
    started: list[RunningEdge] = []

    def start(backends: tuple[EdgeBackend, ...], **overrides: Any) -> RunningEdge:
        n = len(started)
        config = EdgeConfig(
            backends,
            socket_dir / f"admin{n}.sock",
            **{"port": free_port(), "stats_port": free_port(), **overrides},
        )
        config_path = tmp_path / f"haproxy{n}.cfg"
        config_path.write_text(render_haproxy_config(config))
        log_path = tmp_path / f"haproxy{n}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(haproxy_argv(config_path), stdout=log, stderr=log)
        edge = RunningEdge(config, process, log_path)
        started.append(edge)
        deadline_s = time.monotonic() + 10
        while not edge.all_checks_pass():
            if process.poll() is not None or time.monotonic() > deadline_s:
                raise RuntimeError(f"haproxy did not come up:\n{edge.log()}")
            time.sleep(0.05)
        return edge

    yield start
    for edge in started:
        edge.process.kill()
        edge.process.wait(timeout=5)
    shutil.rmtree(socket_dir, ignore_errors=True)
