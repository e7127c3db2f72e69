"""Toxics on the kind platform's cross-region links, against the project's own fault proxy
(the Toxiproxy HTTP API) running as a real process on loopback."""

from __future__ import annotations

import dataclasses
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from gameday.errors import FaultError
from gameday.platforms.base import ToxicSpec
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.faults import KindFaults
from tests.platforms.kind.conftest import short_waits


# -- link toxics -------------------------------------------------------------------------
class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def links(env: KindEnv, faultproxy_url: str) -> Iterator[tuple[KindFaults, dict[str, str]]]:
    """KindFaults on the fault proxy, with the links of both regions (and a stranger's
    proxy) in front of a TCP echo server; yields it with each proxy's listen address."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    upstream = f"127.0.0.1:{server.server_address[1]}"
    listen = {}
    for name in ("tabular-api-region-a", "rag-api-region-a", "rag-db-region-a",
                 "rag-db-patroni-region-a", "tabular-api-region-b", "someone-else"):
        created = httpx.post(f"{faultproxy_url}/proxies", json={
            "name": name, "listen": "127.0.0.1:0", "upstream": upstream}, timeout=5)
        assert created.status_code == 201, created.text
        listen[name] = created.json()["listen"]
    faults = KindFaults(dataclasses.replace(env, toxiproxy_url=faultproxy_url))
    yield short_waits(faults), listen
    server.shutdown()
    server.server_close()


def _round_trip_s(listen: str) -> float:
    host, port = listen.rsplit(":", 1)
    started_s = time.perf_counter()
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(b"ping")
        assert conn.recv(4) == b"ping"
    return time.perf_counter() - started_s


def _toxics(faults: KindFaults, proxy: str) -> list[str]:
    listed = httpx.get(f"{faults.proxy_api_url()}/proxies/{proxy}/toxics", timeout=5).json()
    return [t["name"] for t in listed]


def test_link_proxies_are_the_regions_links_the_api_has(
        links: tuple[KindFaults, dict[str, str]]) -> None:
    faults, _ = links
    assert faults.link_proxies("region-a") == ["rag-api-region-a", "rag-db-patroni-region-a",
                                               "rag-db-region-a", "tabular-api-region-a"]
    assert faults.link_proxies("region-b", "tabular") == ["tabular-api-region-b"]


def test_a_latency_toxic_goes_on_every_link_into_the_region_and_takes_effect(
        links: tuple[KindFaults, dict[str, str]]) -> None:
    faults, listen = links
    toxic = ToxicSpec(name="gameday_latency", type="latency", attributes={"latency": 300,
                                                                          "jitter": 0})
    done = faults.add_link_toxic("region-a", toxic, stack="tabular")
    assert done["links"] == ["tabular-api-region-a"] and done["read_back_on"] == done["links"]
    assert _toxics(faults, "tabular-api-region-a") == ["gameday_latency"]
    assert _toxics(faults, "tabular-api-region-b") == [] == _toxics(faults, "rag-api-region-a")
    assert _round_trip_s(listen["tabular-api-region-a"]) >= 0.28  # ground truth: the proxy
    assert _round_trip_s(listen["tabular-api-region-b"]) < 0.2  # delays what it should
    assert faults.faults_in_force()[0].startswith("link_toxic: toxic gameday_latency (latency)")
    assert faults.remove_link_toxic("region-a", "gameday_latency") == 1
    assert _toxics(faults, "tabular-api-region-a") == [] and faults.faults_in_force() == []


def test_the_replication_link_is_the_database_link_only(
        links: tuple[KindFaults, dict[str, str]]) -> None:
    faults, _ = links
    toxic = ToxicSpec(name="gameday_db", type="timeout", attributes={"timeout": 0})
    assert faults.add_link_toxic("region-a", toxic, stack="rag", link="replication")[
        "links"] == ["rag-db-region-a"]
    assert _toxics(faults, "rag-db-patroni-region-a") == [] == _toxics(faults, "rag-api-region-a")
    with pytest.raises(FaultError, match="declares no link 'gossip'"):
        faults.add_link_toxic("region-a", toxic, stack="rag", link="gossip")


def test_a_toxic_the_proxy_refuses_leaves_nothing_behind(
        links: tuple[KindFaults, dict[str, str]]) -> None:
    faults, _ = links
    with pytest.raises(FaultError, match="Toxiproxy refused toxic bad on"):
        faults.add_link_toxic("region-a", ToxicSpec(name="bad", type="no-such-toxic"))
    assert faults.faults_in_force() == []
    assert all(_toxics(faults, p) == [] for p in faults.link_proxies("region-a"))


def test_reset_faults_removes_recorded_and_stray_toxics(
        links: tuple[KindFaults, dict[str, str]]) -> None:
    faults, _ = links
    faults.add_link_toxic("region-b", ToxicSpec(name="gameday_latency", type="latency",
                                                attributes={"latency": 50}))
    for proxy in ("rag-db-region-a", "someone-else"):
        httpx.post(f"{faults.proxy_api_url()}/proxies/{proxy}/toxics", timeout=5,
                   json={"name": "left_over", "type": "latency", "attributes": {"latency": 9}})
    undone = faults.reset_faults()
    assert undone == ["removed stray toxic left_over from rag-db-region-a",
                      "removed toxic gameday_latency from tabular-api-region-b"]
    assert _toxics(faults, "someone-else") == ["left_over"]  # not one of our links
    assert faults.faults_in_force() == []
