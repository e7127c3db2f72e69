"""KindFaults' region faults, isolation, scaling and ledger: each fault's exact Docker commands
(a RecordingRunner answering as Docker would), its effect verified through the real
Kubernetes client against the fake API server, its record in the ledger, and its undo."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from gameday.errors import FaultError
from gameday.platforms.base import MemberState
from gameday.platforms.kind.commands import RecordingRunner
from gameday.platforms.kind.faults import KindFaults
from gameday.platforms.kind.ledger import FaultRecord
from gameday.platforms.kind.regionfaults import NodeStop
from gameday.platforms.local.owner import Owner
from tests.platforms.kind.conftest import DockerState
from tests.platforms.kind.fakekube import FakeCluster

STOP_A = ("docker", "stop", "region-a-control-plane", "region-a-worker")
START_A = ("docker", "start", "region-a-control-plane", "region-a-worker")


# -- region outage --------------------------------------------------------------------------
def test_region_outage_is_one_docker_stop_of_both_nodes_verified_and_in_force(
        faults: KindFaults, runner: RecordingRunner, clusters: dict[str, FakeCluster]) -> None:
    stopped = faults.stop_region("region-a", freeze=False)
    assert runner.commands.count(STOP_A) == 1
    assert ("docker", "inspect", "-f", "{{.State.Status}}", *STOP_A[2:]) in runner.commands
    assert not clusters["region-a"].reachable and clusters["region-b"].reachable
    assert {m.name for m in stopped} == {f"{p.name}.region-a" for p in clusters["region-a"]
                                         .pods.values()}
    assert {m.state for m in stopped} == {MemberState.HELD_DOWN}
    [line] = KindFaults(faults.env).faults_in_force()  # from the ledger file, not memory
    assert line.startswith("node_stop: region-a nodes region-a-control-plane, region-a-worker "
                           "(stopped)") and "pid" in line
    # its API is down: its members are listed from the ledger, held down
    assert {(m.name, m.state) for m in faults.members(region="region-a")} == \
        {(m.name, m.state) for m in stopped}
    assert len(faults.members(region="region-b")) == 3


def test_reset_faults_starts_the_stopped_nodes_and_waits_until_the_region_is_ready(
        faults: KindFaults, runner: RecordingRunner, clusters: dict[str, FakeCluster]) -> None:
    faults.stop_region("region-a", freeze=False)
    [undone] = faults.reset_faults()
    assert runner.commands.index(START_A) > runner.commands.index(STOP_A)
    assert undone.startswith("restored region-a (unpaused none; started "
                             "region-a-control-plane, region-a-worker")
    assert clusters["region-a"].reachable and faults.faults_in_force() == []
    assert all(m.state == MemberState.HEALTHY for m in faults.members(region="region-a"))


def test_region_freeze_pauses_the_nodes_and_restore_unpauses_them(
        faults: KindFaults, runner: RecordingRunner, docker: DockerState) -> None:
    frozen = faults.stop_region("region-b", freeze=True)
    assert ("docker", "pause", "region-b-control-plane", "region-b-worker") in runner.commands
    assert {m.state for m in frozen} == {MemberState.FROZEN}
    assert docker.status["region-b-worker"] == "paused"
    restored = faults.restore_region("region-b")
    assert ("docker", "unpause", "region-b-control-plane", "region-b-worker") \
        in runner.commands
    assert not any(c[:2] == ("docker", "start") for c in runner.commands)
    assert len(restored) == 3 and faults.faults_in_force() == []


def test_an_outage_whose_api_still_answers_is_undone_and_raised(
        faults: KindFaults, runner: RecordingRunner, docker: DockerState) -> None:
    docker.api_follows = False  # the nodes read exited, yet the API answers
    with pytest.raises(FaultError, match=r"nodes exited but the API of kind-region-a still "
                                         r"answers"):
        faults.stop_region("region-a", freeze=False)
    assert START_A in runner.commands and faults.faults_in_force() == []


def test_an_outage_that_left_a_node_running_is_undone_and_raised(
        faults: KindFaults, runner: RecordingRunner, docker: DockerState) -> None:
    docker.ignore.add("stop")
    with pytest.raises(FaultError, match=r"not all exited: .*'region-a-worker': 'running'"):
        faults.stop_region("region-a", freeze=False)
    assert faults.faults_in_force() == []
    assert not any(c[:2] == ("docker", "start") for c in runner.commands)  # nothing was down


def test_an_outage_that_cannot_be_undone_either_stays_in_the_ledger(
        faults: KindFaults, runner: RecordingRunner, docker: DockerState) -> None:
    docker.api_follows = False
    runner.reply(("docker", "start"), returncode=1, stderr="Cannot start container")
    with pytest.raises(FaultError, match="undoing it failed too, so it stays in the ledger"):
        faults.stop_region("region-a", freeze=False)
    [line] = faults.faults_in_force()
    assert line.startswith("node_stop: region-a")


def test_a_dead_owners_outage_is_rolled_back_by_the_next_process(
        faults: KindFaults, runner: RecordingRunner, docker: DockerState) -> None:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = Owner(pid=int(done.stdout), create_time=time.time() - 1)
    runner.run(STOP_A)
    with faults.ledger._locked() as records:  # as the killed run left it
        records.append(FaultRecord(fault=NodeStop(region="region-a", nodes=STOP_A[2:],
                                                  ready_timeout_s=3.0), owner=dead))
    assert "ended" in faults.faults_in_force()[0]
    assert faults.roll_back_orphans()[0].startswith("restored region-a")
    assert START_A in runner.commands and faults.faults_in_force() == []


def test_restore_region_starts_nodes_that_are_down_without_a_record(
        faults: KindFaults, runner: RecordingRunner, docker: DockerState) -> None:
    docker.status["region-a-worker"] = "exited"  # stopped by hand
    faults.restore_region("region-a")
    assert ("docker", "start", "region-a-worker") in runner.commands


# -- isolation ------------------------------------------------------------------------------
def test_isolation_disconnects_each_node_and_heal_reconnects_it_at_its_recorded_address(
        faults: KindFaults, runner: RecordingRunner, docker: DockerState) -> None:
    before = {n: dict(docker.networks[n]["kind"]) for n in ("region-a-control-plane",
                                                            "region-a-worker")}
    done = faults.isolate_region("region-a", "both")
    assert ("docker", "network", "disconnect", "kind", "region-a-control-plane") \
        in runner.commands
    assert ("docker", "network", "disconnect", "kind", "region-a-worker") in runner.commands
    assert done["direction"] == "both" and docker.networks["region-a-worker"] == {}
    assert faults.faults_in_force()[0].startswith("network_cut: region-a off Docker network")
    faults.heal_region("region-a")
    for node, address in before.items():
        assert ("docker", "network", "connect", "--ip", address["IPAddress"], "--ip6",
                address["GlobalIPv6Address"], "kind", node) in runner.commands
        assert docker.networks[node]["kind"] == address
    assert faults.faults_in_force() == []


def test_an_isolation_docker_did_not_apply_is_undone_and_raised(
        faults: KindFaults, docker: DockerState) -> None:
    docker.ignore.add("disconnect")
    with pytest.raises(FaultError, match="still attached: region-a-control-plane"):
        faults.isolate_region("region-a", "both")
    assert faults.faults_in_force() == []


def test_isolation_is_unavailable_without_kinds_docker_network(
        faults: KindFaults, runner: RecordingRunner) -> None:
    assert faults.isolation_available()[0]
    runner.reply(("docker", "network", "inspect"), returncode=1,
                 stderr="Error: No such network: kind")
    assert faults.isolation_available() == (False, "no Docker network 'kind': Error: No such "
                                                   "network: kind")


def test_a_one_way_isolation_is_refused_as_a_docker_cut_is_both_ways(
        faults: KindFaults, runner: RecordingRunner) -> None:
    with pytest.raises(FaultError, match="Docker network disconnect, which is both ways"):
        faults.isolate_region("region-a", "ingress")
    assert runner.commands == []


def test_cutting_one_quorum_member_from_its_peers_is_refused(faults: KindFaults) -> None:
    with pytest.raises(FaultError, match="not on kind"):
        faults.cut_from_peers("rag", "etcd", "region-a")
    assert faults.heal_peers("rag", "etcd")["undone"] == []


# -- scaling and the HPAs -------------------------------------------------------------------
def test_scale_returns_once_the_new_replicas_are_ready(
        faults: KindFaults, clusters: dict[str, FakeCluster]) -> None:
    cluster = clusters["region-b"]
    started_s = time.monotonic()
    members = faults.scale("tabular", "api", "region-b", 4)
    assert time.monotonic() - started_s >= cluster.ready_delay_s
    assert len(members) == 4 and {m.state for m in members} == {MemberState.HEALTHY}
    assert cluster.workloads[("Deployment", "tabular-api")].replicas == 4
    assert faults.faults_in_force() == []  # a scale is a change, not a fault to undo


def test_a_scale_that_never_gets_ready_is_scaled_back_and_raised(
        faults: KindFaults, clusters: dict[str, FakeCluster]) -> None:
    cluster = clusters["region-a"]
    cluster.ready_delay_s = 60.0
    faults.ready_timeout_s = 0.5
    with pytest.raises(FaultError, match=r"2 ready of 3 after 0\.5 s; scaled back to 2"):
        faults.scale("tabular", "api", "region-a", 3)
    assert cluster.workloads[("Deployment", "tabular-api")].replicas == 2


def test_scaling_a_workload_its_hpa_scales_is_refused(
        faults: KindFaults, clusters: dict[str, FakeCluster]) -> None:
    clusters["region-a"].add_hpa("tabular-api", "tabular-api", min_replicas=2, max_replicas=5,
                                 current=2, desired=3, cpu_percent=95)
    with pytest.raises(FaultError, match="HorizontalPodAutoscaler tabular-api"):
        faults.scale("tabular", "api", "region-a", 3)
    [hpa] = faults.hpa_states("region-a")
    assert (hpa.current_replicas, hpa.desired_replicas, hpa.current_cpu_percent) == (2, 3, 95)
    assert faults.hpa_states("region-b") == []


