"""Member faults on kind, where a member is a pod: the kill (a delete, a new uid), the hold
of a whole workload (scaled to zero and back) and the freeze of a pod's cgroup."""

from __future__ import annotations

import pytest

from gameday.errors import FaultError
from gameday.platforms.base import MemberState
from gameday.platforms.kind.commands import CommandResult, RecordingRunner
from gameday.platforms.kind.faults import KindFaults
from tests.platforms.kind.fakekube import FakeCluster


# -- kill and hold -------------------------------------------------------------------------
def test_kill_member_deletes_the_pod_and_sees_a_new_uid_replace_it(
        faults: KindFaults, clusters: dict[str, FakeCluster]) -> None:
    cluster = clusters["region-a"]
    victim = cluster.pods_of("tabular-api")[0]
    killed = faults.kill_member(f"{victim.name}.region-a")
    assert killed.state == MemberState.EXITED and killed.region == "region-a"
    uids = {p.uid for p in cluster.pods_of("tabular-api")}
    assert victim.uid not in uids and len(uids) == 2
    assert ("DELETE", f"/api/v1/namespaces/gameday/pods/{victim.name}") in \
        [(m, p) for m, p, _ in cluster.requests]
    assert {p.uid for p in clusters["region-b"].pods_of("tabular-api")} != uids


def test_a_pod_name_both_regions_have_must_name_its_region(faults: KindFaults) -> None:
    with pytest.raises(FaultError, match="'rag-db-0': 2 pods match"):
        faults.kill_member("rag-db-0")


def test_holding_one_pod_of_a_deployment_is_refused(faults: KindFaults,
                                                    clusters: dict[str, FakeCluster]) -> None:
    one = clusters["region-a"].pods_of("tabular-api")[0]
    with pytest.raises(FaultError, match="a pod cannot be held down alone: its Deployment "
                                         "tabular-api recreates it"):
        faults.stop_members([f"{one.name}.region-a"], freeze=False)
    assert faults.faults_in_force() == []


def test_holding_a_database_node_scales_its_statefulset_to_zero_and_back(
        faults: KindFaults, clusters: dict[str, FakeCluster]) -> None:
    cluster = clusters["region-a"]
    held = faults.stop_members(["rag-db-0.region-a"], freeze=False)
    assert [(m.name, m.state) for m in held] == [("rag-db-0.region-a", MemberState.HELD_DOWN)]
    assert cluster.pods_of("rag-db") == [] and cluster.workloads[("StatefulSet",
                                                                  "rag-db")].replicas == 0
    assert faults.faults_in_force()[0].startswith(
        "workload_hold: region-a StatefulSet rag-db (held at 0 of 1)")
    # no pod is left: the member is listed from the ledger, held down, as restore_database
    # and restore_component find what to restore
    listed = faults.members(region="region-a", stack="rag", component="db")
    assert [(m.name, m.state) for m in listed] == [("rag-db-0.region-a", MemberState.HELD_DOWN)]
    assert faults.members(region="region-a", stack="tabular", component="api") != []
    restored = faults.restore_members([m.name for m in listed])
    assert [m.name for m in restored] == ["rag-db-0.region-a"]
    assert restored[0].state == MemberState.HEALTHY and faults.faults_in_force() == []


def _cgroup_replies(runner: RecordingRunner, node: str) -> dict[str, str]:
    """``find``, ``cat cgroup.events`` and ``echo N > cgroup.freeze`` on ``node``, answered
    as its kernel would; the returned dict is the pod cgroup's state."""
    cgroup = {"frozen": "0",
              "path": "/sys/fs/cgroup/kubelet.slice/kubelet-kubepods.slice/"
                      "kubelet-kubepods-pod1.slice"}

    def events(argv: tuple[str, ...]) -> CommandResult:
        return CommandResult(argv, 0, f"populated 1\nfrozen {cgroup['frozen']}\n")

    def write(argv: tuple[str, ...]) -> CommandResult:
        cgroup["frozen"] = argv[-1].split()[1]
        return CommandResult(argv, 0)

    runner.reply(("docker", "exec", node, "find"), f"{cgroup['path']}\n")
    runner.replies[("docker", "exec", node, "cat")] = events
    runner.replies[("docker", "exec", node, "sh")] = write
    return cgroup


def test_freezing_a_member_freezes_its_pod_cgroup_until_restored(
        faults: KindFaults, runner: RecordingRunner, clusters: dict[str, FakeCluster]) -> None:
    cgroup = _cgroup_replies(runner, "region-b-worker")
    pod = clusters["region-b"].pods_of("rag-db")[0]
    faults.stop_members(["rag-db-0.region-b"], freeze=True)
    freeze = ("docker", "exec", "region-b-worker", "sh", "-c",
              f"echo 1 > {cgroup['path']}/cgroup.freeze")
    assert freeze in runner.commands and cgroup["frozen"] == "1"
    find = next(c for c in runner.commands if c[3] == "find")
    assert f"*pod{pod.uid.replace('-', '_')}.slice" in find
    states = {m.name: m.state for m in faults.members(region="region-b", stack="rag")}
    assert states == {"rag-db-0.region-b": MemberState.FROZEN}
    faults.restore_members(["rag-db-0.region-b"])
    assert cgroup["frozen"] == "0" and faults.faults_in_force() == []


def test_a_freeze_the_kernel_does_not_report_is_undone_and_raised(
        faults: KindFaults, runner: RecordingRunner) -> None:
    cgroup = _cgroup_replies(runner, "region-b-worker")
    runner.reply(("docker", "exec", "region-b-worker", "cat"), "populated 1\nfrozen 0\n")
    with pytest.raises(FaultError, match="does not report every pod's cgroup frozen"):
        faults.stop_members(["rag-db-0.region-b"], freeze=True)
    assert cgroup["frozen"] == "0" and faults.faults_in_force() == []


