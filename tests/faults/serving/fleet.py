"""A fleet of tiny inference servers on real loopback sockets, two regions and an edge, behind a
platform that knows where they are; and a Chaos Toolkit action that breaks a region of it.

Each server answers ``POST …/predict`` like the tabular stack (a ``fraud_score`` in [0, 1]) or,
when told, the way a broken one does (500, a score out of range, no JSON, too slow), so a test
knows exactly which members fail and how.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from gameday.platforms.base import Member, MemberState, StackRequest

PLATFORM_NAME = "serving-fleet"
MODES = ("ok", "broken", "bad-score", "not-json")


class InferenceServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, region: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.region = region
        self.mode = "ok"
        self.delay_s = 0.0
        self.slow_next = 0  # how many of the next requests take an extra 0.3 s
        self.requests = 0

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: InferenceServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests += 1
        time.sleep(self.server.delay_s + (0.3 if self.server.slow_next > 0 else 0.0))
        self.server.slow_next -= 1
        if not self.path.endswith("/predict"):
            self._answer(404, b'{"detail": "not found"}')
        elif "amount" not in json.loads(body or b"{}"):
            self._answer(422, b'{"detail": "not a transaction"}')
        else:
            self._answer(*{
                "ok": (200, b'{"fraud_score": 0.03, "model_version": "1"}'),
                "broken": (500, b'{"detail": "model input signature mismatch"}'),
                "bad-score": (200, b'{"fraud_score": 7.0}'),
                "not-json": (200, b"<html>maintenance</html>"),
            }[self.server.mode])

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By-Region", self.server.region)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


def _member(name: str, server: InferenceServer) -> Member:
    return Member(name=name, region=server.region, stack="tabular", component="api",
                  address="127.0.0.1", port=server.port, pid=None, state=MemberState.HEALTHY,
                  ports={"http": server.port})


@dataclass
class Fleet:
    """Two replicas per region and an edge; ``servers`` by member name."""

    servers: dict[str, InferenceServer] = field(default_factory=dict)
    edge: InferenceServer | None = None
    current: ClassVar[Fleet | None] = None  # the fleet the chaos action below acts on

    def members(self, region: str | None = None) -> list[Member]:
        return [_member(name, s) for name, s in self.servers.items()
                if region is None or s.region == region]

    def region(self, region: str) -> list[InferenceServer]:
        return [s for s in self.servers.values() if s.region == region]


class FleetPlatform:
    """The Platform interface over a fleet that is already up: it only says where things are."""

    name = PLATFORM_NAME

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def members(self, *, region: str | None = None, stack: str | None = None,
                **_: Any) -> list[Member]:
        return [m for m in self.fleet.members(region) if stack is None or m.stack == stack]

    def edge_url(self, stack: str) -> str:
        assert self.fleet.edge is not None
        return f"http://127.0.0.1:{self.fleet.edge.port}/{stack}"

    def is_up(self) -> bool:
        return True

    def up(self, request: StackRequest, **_: Any) -> None:
        return None

    def down(self, **_: Any) -> list[str]:
        return []

    def reset_faults(self) -> list[str]:
        return []

    def check_prerequisites(self) -> None:
        return None

    def experiment_configuration(self) -> dict[str, str]:
        return {"gameday_platform": self.name}


@contextmanager
def running_fleet() -> Iterator[Fleet]:
    fleet = Fleet(servers={f"tabular-{r[-1]}{i}": InferenceServer(r)
                           for r in ("region-a", "region-b") for i in (1, 2)},
                  edge=InferenceServer("region-a"))
    every = [*fleet.servers.values(), fleet.edge]
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05},
                                daemon=True) for s in every if s is not None]
    for thread in threads:
        thread.start()
    Fleet.current = fleet
    try:
        yield fleet
    finally:
        Fleet.current = None
        for server in every:
            if server is not None:
                server.shutdown()
                server.server_close()


def break_region(region: str, mode: str = "broken", how_many: int | None = None,
                 configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Chaos Toolkit action: ``how_many`` (default every) servers of ``region`` answer
    inference the broken way ``mode``."""
    assert Fleet.current is not None and mode in MODES
    servers = Fleet.current.region(region)[:how_many]
    for server in servers:
        server.mode = mode
    return {"region": region, "mode": mode, "broken": len(servers)}
