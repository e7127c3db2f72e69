"""The shifted client population's side process (gameday.platforms.local.population) against a
real HTTP server on loopback: it sends the bodies it was given, open loop, ends at its own
deadline or on SIGTERM saying which, drops rather than piles up when the server stalls, and
refuses a target outside 127.0.0.0/8."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import pick_free_port as free_port


class _Server:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.stall = threading.Event()  # set: requests wait for ``release``
        self.release = threading.Event()


def _handler(server: _Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            server.bodies.append(json.loads(body))
            if server.stall.is_set():
                server.release.wait(30)
            answer = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            return None

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[_Server, int]]:
    state = _Server()
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state, port
    state.release.set()
    httpd.shutdown()
    httpd.server_close()


def _start(tmp_path: Path, targets: list[str], *options: str) -> subprocess.Popen[bytes]:
    bodies = tmp_path / "bodies.json"
    bodies.write_text(json.dumps({"bodies": [{"n": 1}, {"n": 2}]}))
    return subprocess.Popen(
        [sys.executable, "-m", "gameday.platforms.local.population", "--pidfile",
         str(tmp_path / "p.pid"), "--status", str(tmp_path / "status.json"), "--path",
         "/predict", "--body-file", str(bodies), *options, *targets],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _status(tmp_path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((tmp_path / "status.json").read_text())
    return document


def test_it_sends_the_bodies_in_turn_and_ends_at_its_own_deadline(
        server: tuple[_Server, int], tmp_path: Path) -> None:
    state, port = server
    process = _start(tmp_path, [f"127.0.0.1:{port}"], "--rate-per-s", "40",
                     "--max-duration-s", "1.5")
    assert process.wait(timeout=30) == 0
    status = _status(tmp_path)
    figures = status["targets"][f"127.0.0.1:{port}"]
    assert status["state"] == "deadline"
    # the deadline may cut off what each connection had in flight, nothing more
    assert figures["sent"] > 0 and figures["answered"]["200"] >= figures["sent"] - 16
    assert set(figures["answered"]) == {"200"} and not figures["errors"]
    assert {body["n"] for body in state.bodies} == {1, 2}
    assert state.bodies[:2] == [{"n": 1}, {"n": 2}]


def test_sigterm_stops_it_and_its_last_word_says_so(server: tuple[_Server, int],
                                                    tmp_path: Path) -> None:
    state, port = server
    process = _start(tmp_path, [f"127.0.0.1:{port}"], "--max-duration-s", "60")
    try:
        _until(lambda: (tmp_path / "status.json").exists() and bool(state.bodies))
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0 and _status(tmp_path)["state"] == "stopped"


def test_a_stalled_server_makes_it_drop_requests_instead_of_piling_them_up(
        server: tuple[_Server, int], tmp_path: Path) -> None:
    state, port = server
    state.stall.set()
    process = _start(tmp_path, [f"127.0.0.1:{port}"], "--rate-per-s", "200",
                     "--connections", "2", "--max-duration-s", "2")
    assert process.wait(timeout=30) == 0
    figures = _status(tmp_path)["targets"][f"127.0.0.1:{port}"]
    # two connections, each holding one unanswered request, and a queue of two: the rest
    # that came due were dropped
    assert figures["sent"] <= 2 and figures["dropped"] > 0
    assert not figures["answered"]


def test_a_target_outside_the_loopback_block_is_refused(tmp_path: Path) -> None:
    process = _start(tmp_path, ["10.1.2.3:80"], "--max-duration-s", "1")
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert b"10.1.2.3:80: only loopback targets" in output


def _until(condition: Any, timeout_s: float = 20.0) -> None:
    deadline_s = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline_s:
            raise AssertionError("the population never started sending")
        time.sleep(0.05)
