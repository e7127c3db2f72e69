"""Fixtures for the kind platform's tests: a fake Kubernetes API server per region (the one
stand-in, there is no cluster here), a kubeconfig naming them as kind does, and the
project's own fault proxy as the Toxiproxy the cross-region links run through."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gameday.platforms.base import REGIONS
from gameday.platforms.kind.commands import CommandResult, RecordingRunner
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.faults import KindFaults
from gameday.platforms.kind.kube import KubeApi, kube_for
from gameday.platforms.kind.layout import DOCKER_NETWORK, NAMESPACE, context_name, node_containers
from tests.platforms.kind.fakekube import FakeCluster, start_cluster


@pytest.fixture
def clusters() -> Iterator[dict[str, FakeCluster]]:
    """region -> its fake cluster, served on 127.0.0.1."""
    started = {region: FakeCluster(region, NAMESPACE) for region in REGIONS}
    servers = [start_cluster(cluster) for cluster in started.values()]
    yield started
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(5)


def write_kubeconfig(path: Path, servers: dict[str, str]) -> Path:
    """A kubeconfig with one context ``kind-<region>`` per server, as ``kind`` writes them."""
    document = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "current-context": context_name(REGIONS[0]),
        "clusters": [{"name": context_name(r), "cluster": {"server": url}}
                     for r, url in servers.items()],
        "users": [{"name": context_name(r), "user": {"token": f"token-{r}"}} for r in servers],
        "contexts": [{"name": context_name(r), "context": {
            "cluster": context_name(r), "user": context_name(r), "namespace": NAMESPACE}}
            for r in servers]}
    path.write_text(json.dumps(document, indent=2))  # JSON is YAML
    return path


@pytest.fixture
def kubeconfig(tmp_path: Path, clusters: dict[str, FakeCluster]) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig",
                            {region: c.url for region, c in clusters.items()})


@pytest.fixture
def faultproxy_url() -> Iterator[str]:
    """The project's fault proxy (the Toxiproxy HTTP API) as its own process on loopback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gameday.platforms.local.faultproxy", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()  # "faultproxy listening on 127.0.0.1:PORT"
    if not line.startswith("faultproxy listening on "):
        process.kill()
        pytest.fail(f"the fault proxy did not start: {line!r} {process.communicate()[1]}")
    yield f"http://{line.split()[-1]}"
    process.terminate()
    process.wait(10)


class DockerState:
    """What ``docker`` would answer about the node containers, as RecordingRunner replies:
    stop/start/pause/unpause change a node's status (and its cluster's API goes away while a
    node is down, unless ``api_follows`` is off: a verification that must fail), network
    disconnect/connect change its attachments. The stand-in for a Docker daemon."""

    def __init__(self, runner: RecordingRunner, clusters: dict[str, FakeCluster]) -> None:
        self.clusters = clusters
        self.status = {node: "running" for r in REGIONS for node in node_containers(r)}
        self.networks = {node: {DOCKER_NETWORK: {"IPAddress": f"172.18.0.{i + 2}",
                                                 "GlobalIPv6Address": f"fc00:f853::{i + 2}"}}
                         for i, node in enumerate(self.status)}
        self.api_follows = True
        self.ignore: set[str] = set()  # verbs that "succeed" and change nothing
        for verb, status in (("stop", "exited"), ("start", "running"), ("pause", "paused"),
                             ("unpause", "running")):
            runner.replies[("docker", verb)] = self._set_status(status)
        runner.replies[("docker", "inspect", "-f", "{{.State.Status}}")] = self._statuses
        runner.replies[("docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}")] = \
            self._inspect_networks
        runner.replies[("docker", "network", "disconnect")] = self._disconnect
        runner.replies[("docker", "network", "connect")] = self._connect

    def _set_status(self, status: str) -> Callable[[tuple[str, ...]], CommandResult]:
        def reply(argv: tuple[str, ...]) -> CommandResult:
            if argv[1] in self.ignore:
                return CommandResult(argv, 0, "\n".join(argv[2:]))
            for node in argv[2:]:
                self.status[node] = status
            if self.api_follows:
                for region, cluster in self.clusters.items():
                    cluster.reachable = all(self.status[n] == "running"
                                            for n in node_containers(region))
            return CommandResult(argv, 0, "\n".join(argv[2:]))
        return reply

    def _statuses(self, argv: tuple[str, ...]) -> CommandResult:
        return CommandResult(argv, 0, "".join(f"{self.status[n]}\n" for n in argv[4:]))

    def _inspect_networks(self, argv: tuple[str, ...]) -> CommandResult:
        return CommandResult(argv, 0, json.dumps(self.networks[argv[4]]) + "\n")

    def _disconnect(self, argv: tuple[str, ...]) -> CommandResult:
        network, node = argv[3], argv[4]
        if "disconnect" not in self.ignore:
            del self.networks[node][network]
        return CommandResult(argv, 0)

    def _connect(self, argv: tuple[str, ...]) -> CommandResult:
        flags = dict(zip(argv[3:-2:2], argv[4:-2:2], strict=True))
        network, node = argv[-2], argv[-1]
        self.networks[node][network] = {
            "IPAddress": flags.get("--ip", "172.18.0.99"),
            "GlobalIPv6Address": flags.get("--ip6", "")}
        return CommandResult(argv, 0)


@pytest.fixture
def runner() -> RecordingRunner:
    return RecordingRunner()


@pytest.fixture
def docker(runner: RecordingRunner, clusters: dict[str, FakeCluster]) -> DockerState:
    return DockerState(runner, clusters)


@pytest.fixture
def env(tmp_path: Path, runner: RecordingRunner, kubeconfig: Path,
        docker: DockerState, clusters: dict[str, FakeCluster]) -> KindEnv:
    for cluster in clusters.values():
        cluster.add_workload("Deployment", "tabular", "api", 2)
        cluster.add_workload("StatefulSet", "rag", "db", 1)
    kubes: dict[str, KubeApi] = {}

    def kube(region: str) -> KubeApi:
        return kubes.setdefault(region, kube_for(context_name(region), kubeconfig))

    return KindEnv(home=tmp_path / "home", runner=runner, kube=kube)


def short_waits(faults: KindFaults) -> KindFaults:
    """The waits that verify or undo a fault, cut to what the fakes need."""
    faults.ready_timeout_s, faults.gone_timeout_s = 3.0, 2.0
    faults.unreachable_timeout_s, faults.frozen_timeout_s = 1.0, 0.5
    return faults


@pytest.fixture
def faults(env: KindEnv) -> KindFaults:
    return short_waits(KindFaults(env))
