"""ClientKube, the real ``kubernetes`` client, against the fake API server on loopback."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import chaosk8s.pod.actions
import pytest
from kubernetes.config import kube_config

from gameday.errors import PlatformError
from gameday.platforms.kind.kube import ClientKube, kube_for
from gameday.platforms.kind.layout import NAMESPACE, context_name
from tests.platforms.kind.conftest import write_kubeconfig
from tests.platforms.kind.fakekube import FakeCluster


def _kube(kubeconfig: Path, region: str = "region-a") -> ClientKube:
    kube = kube_for(context_name(region), kubeconfig)
    assert isinstance(kube, ClientKube)
    return kube


def test_pods_with_gameday_labels_map_to_pod_views(clusters: dict[str, FakeCluster],
                                                    kubeconfig: Path) -> None:
    clusters["region-a"].add_workload("Deployment", "tabular", "api", 2)
    clusters["region-a"].add_workload("StatefulSet", "rag", "db", 1)
    pods = _kube(kubeconfig).pods(stack="tabular")
    assert len(pods) == 2
    assert {(p.stack, p.component, p.region) for p in pods} == {("tabular", "api", "region-a")}
    assert all(p.phase == "Running" and p.ready and not p.deleting for p in pods)
    assert all(p.node == "region-a-worker" and p.pod_ip for p in pods)
    assert {p.uid for p in pods} == {p.uid for p in clusters["region-a"].pods_of("tabular-api")}
    [db] = _kube(kubeconfig).pods(stack="rag", component="db")
    assert db.name == "rag-db-0"


def test_each_context_reaches_its_own_cluster(clusters: dict[str, FakeCluster],
                                              kubeconfig: Path) -> None:
    clusters["region-b"].add_workload("Deployment", "tabular", "api", 3)
    assert _kube(kubeconfig, "region-a").pods() == []
    assert len(_kube(kubeconfig, "region-b").pods()) == 3


def test_deleted_pod_is_replaced_under_a_new_uid(clusters: dict[str, FakeCluster],
                                                 kubeconfig: Path) -> None:
    clusters["region-a"].add_workload("Deployment", "tabular", "api", 2)
    kube = _kube(kubeconfig)
    before = kube.pods()
    kube.delete_pod(before[0].name, grace_period_s=0)
    after = kube.pods()
    assert before[0].uid not in {p.uid for p in after}
    assert len(after) == 2


def test_deleting_a_missing_pod_names_the_context_and_the_status(
        clusters: dict[str, FakeCluster], kubeconfig: Path) -> None:
    with pytest.raises(PlatformError, match=r"kind-region-a.*delete pod nope.*404"):
        _kube(kubeconfig).delete_pod("nope")


def test_scale_patches_the_scale_subresource_and_ready_follows(
        clusters: dict[str, FakeCluster], kubeconfig: Path) -> None:
    cluster = clusters["region-a"]
    cluster.add_workload("Deployment", "tabular", "api", 1)
    cluster.add_workload("StatefulSet", "rag", "db", 1)
    kube = _kube(kubeconfig)
    kube.scale("Deployment", "tabular-api", 3)
    kube.scale("StatefulSet", "rag-db", 0)
    views = {w.name: w for w in kube.workloads()}
    assert (views["tabular-api"].replicas, views["tabular-api"].ready_replicas) == (3, 1)
    assert (views["rag-db"].kind, views["rag-db"].replicas) == ("StatefulSet", 0)
    time.sleep(cluster.ready_delay_s + 0.05)
    assert {w.name: w.ready_replicas for w in kube.workloads()} == {"tabular-api": 3,
                                                                    "rag-db": 0}
    patches = [(path, kind) for method, path, kind in cluster.requests if method == "PATCH"]
    assert patches[0] == (f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/tabular-api/scale",
                          "application/merge-patch+json")


def test_scaling_anything_but_a_workload_is_refused(kubeconfig: Path) -> None:
    with pytest.raises(PlatformError, match="cannot scale a DaemonSet"):
        _kube(kubeconfig).scale("DaemonSet", "x", 1)


def test_nodes_ready_reads_each_nodes_ready_condition(clusters: dict[str, FakeCluster],
                                                      kubeconfig: Path) -> None:
    clusters["region-b"].nodes["region-b-worker"] = False
    assert _kube(kubeconfig, "region-b").nodes_ready() == {"region-b-control-plane": True,
                                                           "region-b-worker": False}


def test_hpas_carry_the_real_status_and_cpu_utilisation(clusters: dict[str, FakeCluster],
                                                        kubeconfig: Path) -> None:
    cluster = clusters["region-a"]
    cluster.add_hpa("tabular-api", "tabular-api", min_replicas=2, max_replicas=6, current=2,
                    desired=4, cpu_percent=130)
    cluster.add_hpa("rag-api", "rag-api", min_replicas=1, max_replicas=3, current=1,
                    desired=1, cpu_percent=None)
    views = {h.name: h for h in _kube(kubeconfig).hpas()}
    tabular = views["tabular-api"]
    assert (tabular.target, tabular.min_replicas, tabular.max_replicas) == ("tabular-api", 2, 6)
    assert (tabular.current_replicas, tabular.desired_replicas) == (2, 4)
    assert tabular.current_cpu_percent == 130
    assert views["rag-api"].current_cpu_percent is None


def test_a_dropped_connection_is_a_platform_error_naming_the_context(
        clusters: dict[str, FakeCluster], kubeconfig: Path) -> None:
    clusters["region-b"].reachable = False
    with pytest.raises(PlatformError, match=r"kind-region-b.*list nodes.*unreachable"):
        _kube(kubeconfig, "region-b").nodes_ready()


def test_a_closed_port_is_a_platform_error_naming_the_context(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_kubeconfig(tmp_path / "kubeconfig", {"region-a": f"http://127.0.0.1:{port}"})
    started_s = time.monotonic()
    with pytest.raises(PlatformError, match=r"kind-region-a.*list pods.*unreachable"):
        _kube(config).pods()
    assert time.monotonic() - started_s < 3  # no retries, short connect timeout


def test_an_unknown_context_is_a_platform_error_naming_it(kubeconfig: Path) -> None:
    with pytest.raises(PlatformError, match="kind-region-z"):
        ClientKube("kind-region-z", kubeconfig)


def test_chaostoolkit_kubernetes_terminate_pods_runs_against_the_fake_api(
        clusters: dict[str, FakeCluster], kubeconfig: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = clusters["region-a"]
    cluster.add_workload("Deployment", "tabular", "api", 2)
    before = {p.uid for p in cluster.pods_of("tabular-api")}
    # chaosk8s finds a kubeconfig only through $KUBECONFIG, which the kubernetes package reads
    # once, at import: why the platform's own faults go through ClientKube instead
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    deleted = chaosk8s.pod.actions.terminate_pods(
        label_selector="gameday.dev/stack=tabular", ns=NAMESPACE, grace_period=0,
        secrets={"KUBERNETES_CONTEXT": context_name("region-a")})
    assert len(deleted) == 1
    after = {p.uid for p in cluster.pods_of("tabular-api")}
    assert len(after) == 2 and len(before & after) == 1
