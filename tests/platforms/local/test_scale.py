"""Scaling a component while open load runs through the edge (the ScaleControl capability).

Members added at run time take traffic once healthy, members removed are drained first, no
request fails because of the change, and a link fault in force reaches the new members.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from gameday.platforms.base import ToxicSpec
from gameday.platforms.local.platform import LocalPlatform
from gameday.platforms.local.topology import Topology
from tests.faults.edge_client import SAMPLE


@dataclass
class _Load:
    """Requests at a fixed rate through the edge, each answer's status and serving member."""

    url: str
    rate_per_s: float = 40.0
    max_requests: int = 4000
    answers: list[tuple[float, int, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=5) as client:
            next_s = time.monotonic()
            while not self.stop.is_set() and len(self.answers) < self.max_requests:
                try:
                    answer = client.post(self.url, json=SAMPLE)
                    self.answers.append((time.time(), answer.status_code,
                                         answer.headers.get("x-served-by-server", "")))
                except httpx.HTTPError as exc:
                    self.answers.append((time.time(), 0, type(exc).__name__))
                next_s += 1 / self.rate_per_s
                time.sleep(max(0.0, next_s - time.monotonic()))

    def since(self, t_s: float) -> list[tuple[float, int, str]]:
        return [a for a in self.answers if a[0] >= t_s]


@contextmanager
def _open_load(platform: LocalPlatform) -> Iterator[_Load]:
    load = _Load(platform.edge_url("tabular") + "/predict")
    thread = threading.Thread(target=load.run, daemon=True)
    thread.start()
    try:
        yield load
    finally:
        load.stop.set()
        thread.join(timeout=10)


def _toxics_on(platform: LocalPlatform, proxy: str) -> list[str]:
    answer = httpx.get(f"{platform.proxy_api_url()}/proxies/{proxy}/toxics", timeout=5)
    return [t["name"] for t in answer.json()]


def test_scaling_from_two_to_four_and_back_under_load_fails_no_request(
        local_platform: LocalPlatform) -> None:
    platform = local_platform
    with _open_load(platform) as load:
        time.sleep(1)
        started_s = time.time()
        platform.add_link_toxic("region-a", ToxicSpec(name="slow", type="latency",
                                                      attributes={"latency": 5}))
        grown = platform.scale("tabular", "api", "region-a", 4)
        assert sorted(m.name for m in grown) == [f"tabular-api-a{i}" for i in range(1, 5)]
        time.sleep(3)
        served = Counter(server for _, status, server in load.since(started_s)
                         if status == 200)
        assert served["tabular-api-a3"] > 0 and served["tabular-api-a4"] > 0, served
        topology = Topology.load(platform.home)
        assert topology is not None
        assert {"tabular-api-a3", "tabular-api-a4"} <= {link.member for link in topology.links}
        assert _toxics_on(platform, "tabular-api-a4") == ["slow"]  # the fault reaches it

        shrink_s = time.time()
        shrunk = platform.scale("tabular", "api", "region-a", 2)
        assert sorted(m.name for m in shrunk) == ["tabular-api-a1", "tabular-api-a2"]
        platform.remove_link_toxic("region-a", "slow")
        time.sleep(2)
    after = load.since(shrink_s + 0.5)
    failed = [a for a in load.since(started_s) if a[1] != 200]
    assert not failed, failed[:5]
    assert after and {server for _, _, server in after} <= {"tabular-api-a1", "tabular-api-a2"}
    assert [m.name for m in platform.members(component="api", region="region-a")] == [
        "tabular-api-a1", "tabular-api-a2"]
    assert platform.faults_in_force() == []
    print(f"{len(load.answers)} requests, none failed; served {dict(served)}")
