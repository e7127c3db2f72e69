"""A suite's autoscaling entry on the real HPA (gameday.platforms.kind.hpasettings and
gameday.hpawatch): patched through the Kubernetes client into a fake API server (no cluster
here), read back, and put back as it was, also by a later run after a harness that died."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gameday.autoscale.options import AutoscalingOptions
from gameday.errors import PlatformError
from gameday.hpawatch import HpaWatch
from gameday.measure.autoscaler_log import AUTOSCALER_FILE
from gameday.platforms.kind.faults import KindFaults
from gameday.platforms.kind.hpasettings import hpa_patch
from tests.platforms.kind.fakekube import FakeCluster

OPTIONS = AutoscalingOptions.model_validate({
    "stack": "tabular", "component": "api", "regions": ["region-a"], "min_replicas": 3,
    "max_replicas": 8, "target": 0.6,
    "behavior": {"scale_down": {"stabilization_window_s": 30,
                                "policies": [{"type": "Pods", "value": 1, "period_s": 20}]}}})


def _spec(cluster: FakeCluster) -> dict[str, Any]:
    with cluster.lock:
        spec = json.loads(json.dumps(cluster.hpas[0]["spec"]))
    assert isinstance(spec, dict)
    return spec


@pytest.fixture
def cluster(clusters: dict[str, FakeCluster]) -> FakeCluster:
    cluster = clusters["region-a"]
    cluster.add_hpa("tabular-api", "tabular-api", min_replicas=2, max_replicas=6, current=2,
                    desired=2, cpu_percent=40, target_cpu_percent=70)
    return cluster


def test_the_entry_is_patched_read_back_and_put_back_as_it_was(
        faults: KindFaults, cluster: FakeCluster) -> None:
    before = _spec(cluster)  # no behavior: the manifests' defaults
    line = faults.set_hpa("tabular", "api", "region-a", OPTIONS.to_kubernetes())
    assert line == "region-a HPA tabular-api: min 3 max 8, cpu 60 % (was min 2 max 6, cpu 70 %)"
    spec = _spec(cluster)
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 8)
    assert spec["metrics"][0]["resource"]["target"] == {"type": "Utilization",
                                                        "averageUtilization": 60}
    assert spec["behavior"]["scaleDown"] == {
        "stabilizationWindowSeconds": 30, "selectPolicy": "Max",
        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 20}]}
    assert spec["behavior"]["scaleUp"]["policies"][0] == {"type": "Pods", "value": 4,
                                                          "periodSeconds": 15}
    assert spec["scaleTargetRef"] == before["scaleTargetRef"]  # only the entry's fields
    patches = [r for r in cluster.requests if r[0] == "PATCH"]
    assert [content for _, _, content in patches] == ["application/json-patch+json"]

    assert faults.restore_hpa("tabular", "api", "region-a") == \
        "region-a HPA tabular-api: back to min 2 max 6, cpu 70 %"
    assert _spec(cluster) == before  # the behavior it did not have removed again
    assert json.loads((faults.env.home / "hpa-before.json").read_text()) == {}
    assert faults.restore_hpa("tabular", "api", "region-a") is None  # nothing left to undo


def test_a_harness_killed_before_its_restore_is_put_right_by_the_next_run(
        faults: KindFaults, cluster: FakeCluster) -> None:
    before = _spec(cluster)
    faults.set_hpa("tabular", "api", "region-a", OPTIONS.to_kubernetes())
    # killed here; the next run (a new platform object on the same home) sets other values
    later = KindFaults(faults.env)
    other = OPTIONS.model_copy(update={"max_replicas": 4}).to_kubernetes()
    assert later.set_hpa("tabular", "api", "region-a", other).endswith(
        "(was min 2 max 6, cpu 70 %)")  # what the manifests gave, not the dead run's
    later.restore_hpa("tabular", "api", "region-a")
    assert _spec(cluster) == before


def test_a_value_the_api_server_refuses_is_a_platform_error_and_nothing_changes(
        faults: KindFaults, cluster: FakeCluster) -> None:
    before = _spec(cluster)
    wrong = OPTIONS.to_kubernetes() | {"minReplicas": 9}  # above maxReplicas 8
    with pytest.raises(PlatformError, match="422"):
        faults.set_hpa("tabular", "api", "region-a", wrong)
    assert _spec(cluster) == before
    assert faults.restore_hpa("tabular", "api", "region-a") is None  # nothing to put back


def test_a_region_without_the_hpa_is_refused(faults: KindFaults) -> None:
    with pytest.raises(PlatformError, match=r"0 HorizontalPodAutoscalers scale tabular\.api"):
        faults.set_hpa("tabular", "api", "region-b", OPTIONS.to_kubernetes())


def test_the_watch_applies_the_entry_writes_it_down_and_puts_it_back(
        faults: KindFaults, cluster: FakeCluster, tmp_path: Path) -> None:
    before = _spec(cluster)
    watch = HpaWatch(OPTIONS, faults, tmp_path)
    assert watch.apply() == [
        "region-a HPA tabular-api: min 3 max 8, cpu 60 % (was min 2 max 6, cpu 70 %)"]
    [line] = [json.loads(text) for text in (tmp_path / AUTOSCALER_FILE).read_text().splitlines()]
    assert (line["kind"], line["region"], line["spec"]) == ("hpa_setting", "region-a",
                                                            OPTIONS.to_kubernetes())
    watch.poll_once()
    assert watch.restore_counts() == ["region-a HPA tabular-api: back to min 2 max 6, cpu 70 %"]
    assert _spec(cluster) == before
    assert watch.restore_counts() == []


def test_a_watch_that_cannot_set_every_region_takes_back_what_it_set(
        faults: KindFaults, cluster: FakeCluster, tmp_path: Path) -> None:
    before = _spec(cluster)
    both = OPTIONS.model_copy(update={"regions": ["region-a", "region-b"]})  # b has no HPA
    with pytest.raises(PlatformError, match="region-b"):
        HpaWatch(both, faults, tmp_path).apply()
    assert _spec(cluster) == before


def test_the_patch_adds_what_is_wanted_and_removes_what_only_the_cluster_has() -> None:
    current = {"minReplicas": 2, "maxReplicas": 6, "behavior": {"scaleUp": {}},
               "scaleTargetRef": {"name": "x"}}
    assert hpa_patch(current, {"minReplicas": 1, "maxReplicas": 3}) == [
        {"op": "add", "path": "/spec/minReplicas", "value": 1},
        {"op": "add", "path": "/spec/maxReplicas", "value": 3},
        {"op": "remove", "path": "/spec/behavior"}]
