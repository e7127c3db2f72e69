"""A proxy link behaves like a wire when healthy and fails the way a network does when not."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from toxiproxy import Toxiproxy

if TYPE_CHECKING:
    from conftest import EchoLink


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


def test_disabled_proxy_refuses_connections_and_re_enabled_accepts(echo_link: EchoLink) -> None:
    live = echo_link.connect()
    with echo_link.proxy.down():
        with pytest.raises(ConnectionRefusedError):
            echo_link.connect()
        assert live.recv(16) == b""  # disabling dropped the live connection
    live.close()
    with echo_link.connect() as sock:
        assert echo_link.round_trip_s(sock) < 1.0


def test_deleting_a_proxy_closes_its_listener(echo_link: EchoLink) -> None:
    echo_link.proxy.destroy()
    with pytest.raises(ConnectionRefusedError):
        echo_link.connect()


def test_a_dead_upstream_makes_the_client_see_a_reset_quickly(toxiproxy: Toxiproxy) -> None:
    proxy = toxiproxy.create(upstream=f"127.0.0.1:{_dead_port()}", name="dead")
    host, port = proxy.listen.rsplit(":", 1)
    started = time.perf_counter()
    # The RST can beat connect()'s own completion check, so it may surface there already.
    with pytest.raises(ConnectionResetError), \
            socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        sock.recv(16)
    assert time.perf_counter() - started < 1.0


def test_a_half_close_is_passed_on_and_the_reply_still_arrives(echo_link: EchoLink) -> None:
    with echo_link.connect() as sock:
        sock.sendall(b"last words")
        sock.shutdown(socket.SHUT_WR)
        assert echo_link.recv_until_eof(sock) == b"last words"


@pytest.mark.parametrize("toxics", [
    [],
    [{"type": "latency", "attributes": {"latency": 5, "jitter": 2}},
     {"type": "slicer", "attributes": {"average_size": 4096, "size_variation": 1000}},
     {"type": "slow_close", "stream": "upstream", "attributes": {"delay": 1}}],
], ids=["fast-path", "toxic-chain"])
def test_a_large_transfer_arrives_intact(echo_link: EchoLink, toxics: list[dict]) -> None:
    for toxic in toxics:
        echo_link.proxy.add_toxic(**toxic)
    payload = os.urandom(8 << 20)
    with echo_link.connect(timeout_s=30) as sock:
        sender = threading.Thread(target=lambda: (sock.sendall(payload),
                                                  sock.shutdown(socket.SHUT_WR)))
        sender.start()
        received = echo_link.recv_until_eof(sock)
        sender.join()
    assert hashlib.sha256(received).digest() == hashlib.sha256(payload).digest()


def test_toxics_added_and_removed_under_traffic_lose_no_bytes(echo_link: EchoLink) -> None:
    payload = os.urandom(4 << 20)
    with echo_link.connect(timeout_s=30) as sock:
        sender = threading.Thread(target=lambda: (sock.sendall(payload),
                                                  sock.shutdown(socket.SHUT_WR)))
        sender.start()
        received = bytearray(sock.recv(65536))
        echo_link.proxy.add_toxic(type="latency", attributes={"latency": 20})
        echo_link.proxy.add_toxic(type="bandwidth", stream="upstream",
                                  attributes={"rate": 20_000})
        received += sock.recv(65536)
        echo_link.proxy.destroy_toxic("latency_downstream")
        echo_link.proxy.destroy_toxic("bandwidth_upstream")
        received += echo_link.recv_until_eof(sock)
        sender.join()
    assert hashlib.sha256(received).digest() == hashlib.sha256(payload).digest()


@pytest.fixture
def resetting_upstream() -> Iterator[str]:
    """Accepts one connection, reads once, then closes it with a TCP RST."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(16)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    thread.join(5)


def test_an_upstream_reset_reaches_the_client_as_a_reset(toxiproxy: Toxiproxy,
                                                         resetting_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=resetting_upstream, name="rst")
    host, port = proxy.listen.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"hello")
        with pytest.raises(ConnectionResetError):
            sock.recv(16)


def _start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gameday.platforms.local.faultproxy", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_command_line_serves_its_config_until_sigterm(tmp_path: Path,
                                                          echo_upstream: str) -> None:
    config = tmp_path / "proxies.json"
    config.write_text(f'[{{"name": "echo", "listen": "127.0.0.1:0", '
                      f'"upstream": "{echo_upstream}"}}]')
    process = _start_cli("--host", "127.0.0.1", "--port", "0", "--config", str(config))
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("faultproxy listening on 127.0.0.1:")
        client = Toxiproxy()
        client.update_api_consumer("127.0.0.1", int(line.rsplit(":", 1)[1]))
        assert client.get_proxy("echo").upstream == echo_upstream
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_the_command_line_refuses_a_non_loopback_host() -> None:
    process = _start_cli("--host", "0.0.0.0", "--port", "0")
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "loopback" in stderr
