"""A real HTTP server answering like the tabular /predict, with scripted stalls and failures."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gameday.load import LoadPlan, LoadProcess
from gameday.records import Event, RequestRecord, read_events, read_requests

FEATURES = {"amount", "hour", "merchant_risk", "distance_km", "card_age_days", "foreign",
            "tx_last_24h"}


class FakeTabular:
    """Answers POST <prefix>/predict like the tabular service; windows of stall or 503."""

    def __init__(self, region: str = "region-a") -> None:
        self.region = region
        self.paths: list[str] = []
        self._windows: list[tuple[float, float, str]] = []  # (start, end, "stall" | "fail")
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stall(self, start_s: float, end_s: float) -> None:
        """Hold every request that arrives in [start_s, end_s) until end_s."""
        with self._lock:
            self._windows.append((start_s, end_s, "stall"))

    def fail(self, start_s: float, end_s: float) -> None:
        """Answer 503 to every request that arrives in [start_s, end_s)."""
        with self._lock:
            self._windows.append((start_s, end_s, "fail"))

    def behaviour(self, now_s: float) -> tuple[str, float]:
        with self._lock:
            for start_s, end_s, kind in self._windows:
                if start_s <= now_s < end_s:
                    return kind, end_s
        return "answer", now_s

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeTabular

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that timed out and hung up is part of the tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # one write per answer, or Nagle + delayed ACK add 40 ms
    server: _Server

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake.paths.append(self.path)
        kind, until_s = fake.behaviour(time.time())
        if kind == "stall":
            time.sleep(max(0.0, until_s - time.time()))
        if kind == "fail":
            self._answer(503, {"detail": "unavailable"})
        # the real service takes an optional card_id beside the seven features (its store's)
        elif not self.path.endswith("/predict") or set(json.loads(raw)) - {"card_id"} != FEATURES:
            self._answer(422, {"detail": "bad request"})
        else:
            self._answer(200, {"fraud_score": 0.12, "is_fraud": False, "model_version": "1",
                               "region": fake.region})

    def _answer(self, status: int, answer: dict[str, object]) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By-Region", self.server.fake.region)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def start_fake_tabular() -> Iterator[Callable[[], FakeTabular]]:
    """Start fake tabular servers (any scope may use them); all stop at the end."""
    servers: list[FakeTabular] = []

    def start() -> FakeTabular:
        servers.append(FakeTabular())
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def fake_tabular(start_fake_tabular: Callable[[], FakeTabular]) -> FakeTabular:
    return start_fake_tabular()


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _quick_plan(base_url: str, **overrides: object) -> LoadPlan:
    settings: dict[str, object] = {"arrival": "constant", "rate_per_s": 20.0, "duration_s": 0.5,
                                   "warmup_s": 0.0, "timeout_s": 1.0, "concurrency": 20}
    settings.update(overrides)
    return LoadPlan(base_url=base_url, **settings)  # type: ignore[arg-type]


@pytest.fixture
def quick_plan() -> Callable[..., LoadPlan]:
    """A short constant-rate plan for tests: ``quick_plan(url, rate_per_s=...)``."""
    return _quick_plan


@pytest.fixture
def run_generator() -> Callable[[LoadPlan, Path], tuple[list[RequestRecord], list[Event]]]:
    """Run one plan in a generator child to its end; its records and events."""

    def run(plan: LoadPlan, run_dir: Path) -> tuple[list[RequestRecord], list[Event]]:
        with LoadProcess.start(plan, run_dir) as generator:
            code = generator.wait(timeout_s=plan.total_s + 2 * plan.timeout_s + 30)
            assert code == 0, generator.log_tail()
        return read_requests(run_dir), read_events(run_dir)

    return run
