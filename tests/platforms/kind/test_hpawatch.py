"""Autoscaling figures on kind (gameday.hpawatch): the real HPA's status, read through the
Kubernetes client from a fake API server (no cluster here), becomes the autoscaler log the
local platform's figures are computed from."""

from __future__ import annotations

from pathlib import Path

from gameday.autoscale.options import AutoscalingOptions
from gameday.hpawatch import HpaWatch
from gameday.measure.autoscaler_log import read_autoscaler_log
from gameday.platforms.base import HpaState
from gameday.platforms.kind.faults import KindFaults
from tests.platforms.kind.fakekube import FakeCluster


def _status(cluster: FakeCluster, current: int, desired: int, cpu_percent: int) -> None:
    with cluster.lock:
        status = cluster.hpas[0]["status"]
        status.update(currentReplicas=current, desiredReplicas=desired)
        status["currentMetrics"][0]["resource"]["current"]["averageUtilization"] = cpu_percent


def test_the_hpas_status_becomes_decisions_and_a_scaled_line_once_the_pods_are_ready(
        faults: KindFaults, clusters: dict[str, FakeCluster], tmp_path: Path) -> None:
    cluster = clusters["region-a"]
    cluster.add_hpa("tabular-api", "tabular-api", min_replicas=2, max_replicas=6, current=2,
                    desired=2, cpu_percent=40, target_cpu_percent=70)
    assert faults.hpa_states("region-a") == [HpaState(
        stack="tabular", component="api", region="region-a", current_replicas=2,
        desired_replicas=2, ready_replicas=2, current_cpu_percent=40, target_cpu_percent=70)]
    options = AutoscalingOptions(stack="tabular", component="api", regions=["region-a"],
                                 min_replicas=2, max_replicas=6)
    watch = HpaWatch(options, faults, tmp_path)  # type: ignore[arg-type]  # its hpa_states alone
    watch.poll_once()
    _status(cluster, current=2, desired=3, cpu_percent=120)  # the HPA asks for a third pod
    watch.poll_once()
    workload = cluster.workloads[("Deployment", "tabular-api")]
    cluster.ready_delay_s = 3600.0  # the third pod starts, not ready
    cluster.set_replicas(workload, {"spec": {"replicas": 3}})
    _status(cluster, current=3, desired=3, cpu_percent=80)
    watch.poll_once()  # 3 current, 2 ready: not scaled yet
    with cluster.lock:
        for pod in cluster.pods_of(workload.name):
            pod.ready_at_s = 0.0
    watch.poll_once()
    log = read_autoscaler_log(tmp_path)
    assert log is not None and not log.problems
    assert [(d.current, d.desired, d.metric, d.target) for d in log.decisions][:3] == [
        (2, 2, 0.4, 0.7), (2, 3, 1.2, 0.7), (3, 3, 0.8, 0.7)]
    [scaled] = log.scaled
    assert (scaled.region, scaled.from_replicas, scaled.to_replicas) == ("region-a", 2, 3)
    assert scaled.started_s == log.decisions[1].t_s < scaled.t_s


def test_a_region_without_the_hpa_is_a_problem_written_once_never_raised(
        faults: KindFaults, tmp_path: Path) -> None:
    options = AutoscalingOptions(stack="tabular", component="api", min_replicas=2,
                                 max_replicas=6)
    watch = HpaWatch(options, faults, tmp_path)  # type: ignore[arg-type]  # its hpa_states alone
    watch.poll_once()
    watch.poll_once()
    log = read_autoscaler_log(tmp_path)
    assert log is not None and not log.decisions
    assert log.problems == ("tabular: region-a: no HPA scales tabular.api",
                            "tabular: region-b: no HPA scales tabular.api")
