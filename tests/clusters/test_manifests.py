"""The kustomize manifests (clusters/manifests/<stack>/overlays/<region>), each rendered offline
as `kubectl apply -k` would, alone and with each of its stack's kustomize Components: valid for
Kubernetes, and holding to the platform's layout and to the stack declarations."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gameday.config import load_suite
from gameday.platforms.kind import layout
from tests.clusters.kustomize import Render, Renderer, binary, pod_templates, renders, selects

TARGETS = layout.CLUSTERS_DIR.parent / "targets"
OLDEST_KUBERNETES = "1.30.0"
_SCALABLE_KINDS = {"Deployment", "StatefulSet"}
_CLUSTER_SCOPED_KINDS = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "APIService", "PriorityClass",
    "StorageClass", "CustomResourceDefinition", "PersistentVolume", "IngressClass",
    "RuntimeClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}
_SYSTEM_NAMESPACE = "kube-system"  # metrics-server's; nothing else leaves gameday


RENDERS = renders()
# the stacks, every one of which has a manifests folder whose components are checked
STACKS = sorted({render.stack for render in RENDERS})


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    return Renderer(tmp_path_factory.mktemp("kustomize"))


def _autoscaled(objects: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(kind, name) of every workload an HPA scales."""
    return {(obj["spec"]["scaleTargetRef"]["kind"], obj["spec"]["scaleTargetRef"]["name"])
            for obj in objects if obj["kind"] == "HorizontalPodAutoscaler"}


def _replicated(workload: dict[str, Any], autoscaled: set[tuple[str, str]]) -> bool:
    """More than one replica, now or once its HPA scales it."""
    key = (workload["kind"], workload["metadata"]["name"])
    return workload["kind"] in _SCALABLE_KINDS and (
        key in autoscaled or workload["spec"].get("replicas", 1) > 1)


def _name(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def _newest_kubernetes() -> str:
    try:
        from kubernetes_validate.utils import latest_version
    except ImportError:
        pytest.skip("kubernetes-validate is not installed")
    return str(latest_version())


@pytest.mark.parametrize("render", RENDERS, ids=lambda render: render.id)
def test_overlay_renders_offline(render: Render, renderer: Renderer) -> None:
    assert renderer.objects(render), f"{render.id} renders nothing"


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, "newest"])
def test_every_render_passes_strict_schema_validation(version: str, renderer: Renderer,
                                                      tmp_path: Path) -> None:
    tool = binary("kubernetes-validate")
    version = _newest_kubernetes() if version == "newest" else version
    files = []
    for render in RENDERS:
        files.append(tmp_path / f"{render.id}.yaml")
        files[-1].write_text(renderer.text(render))
    done = subprocess.run([tool, "--strict", "--quiet", "-k", version, *map(str, files)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"Kubernetes {version}:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("render", RENDERS, ids=lambda render: render.id)
def test_every_container_has_probes_and_bounded_resources(render: Render,
                                                          renderer: Renderer) -> None:
    for workload, template in pod_templates(renderer.objects(render)):
        spec = template["spec"]
        for container in spec["containers"]:
            where = f"{_name(workload)} container {container['name']}"
            assert "readinessProbe" in container, f"{where}: no readiness probe"
            assert "livenessProbe" in container, f"{where}: no liveness probe"
        for container in spec["containers"] + spec.get("initContainers", []):
            where = f"{_name(workload)} container {container['name']}"
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(bound, {})), \
                    f"{where}: resources.{bound} must give cpu and memory"


@pytest.mark.parametrize("render", RENDERS, ids=lambda render: render.id)
def test_every_container_runs_unprivileged(render: Render, renderer: Renderer) -> None:
    for workload, template in pod_templates(renderer.objects(render)):
        spec = template["spec"]
        pod_non_root = spec.get("securityContext", {}).get("runAsNonRoot")
        for container in spec["containers"] + spec.get("initContainers", []):
            context = container.get("securityContext", {})
            where = f"{_name(workload)} container {container['name']}"
            assert context.get("runAsNonRoot", pod_non_root) is True, f"{where}: may run as root"
            assert context.get("allowPrivilegeEscalation") is False, \
                f"{where}: allowPrivilegeEscalation must be false"


@pytest.mark.parametrize("render", RENDERS, ids=lambda render: render.id)
def test_replicated_workloads_spread_across_nodes(render: Render, renderer: Renderer) -> None:
    objects = renderer.objects(render)
    autoscaled = _autoscaled(objects)
    for workload, template in pod_templates(objects):
        if _replicated(workload, autoscaled):
            spec = template["spec"]
            spread = any(c["topologyKey"] == "kubernetes.io/hostname"
                         for c in spec.get("topologySpreadConstraints", []))
            assert spread or "podAntiAffinity" in spec.get("affinity", {}), \
                f"{_name(workload)}: replicas may all land on one node"


@pytest.mark.parametrize("render", RENDERS, ids=lambda render: render.id)
def test_every_hpa_is_autoscaling_v2_with_a_behavior(render: Render, renderer: Renderer) -> None:
    for obj in renderer.objects(render):
        if obj["kind"] == "HorizontalPodAutoscaler":
            assert obj["apiVersion"] == "autoscaling/v2", _name(obj)
            behavior = obj["spec"].get("behavior", {})
            assert {"scaleUp", "scaleDown"} <= set(behavior), \
                f"{_name(obj)}: behavior needs scaleUp and scaleDown"
            assert obj["spec"].get("metrics"), f"{_name(obj)}: no metric to scale on"


@pytest.mark.parametrize("render", RENDERS, ids=lambda render: render.id)
def test_every_replicated_workload_has_a_disruption_budget(render: Render,
                                                           renderer: Renderer) -> None:
    objects = renderer.objects(render)
    autoscaled = _autoscaled(objects)
    budgets = [obj for obj in objects if obj["kind"] == "PodDisruptionBudget"]
    for workload, template in pod_templates(objects):
        if not _replicated(workload, autoscaled):
            continue
        namespace = workload["metadata"].get("namespace")
        assert any(budget["metadata"].get("namespace") == namespace
                   and selects(budget["spec"]["selector"], template["metadata"]["labels"])
                   for budget in budgets), f"{_name(workload)}: no PodDisruptionBudget selects it"


@pytest.mark.parametrize("render", RENDERS, ids=lambda render: render.id)
def test_every_object_and_pod_carries_its_region(render: Render, renderer: Renderer) -> None:
    for obj in renderer.objects(render):
        labels = obj["metadata"].get("labels", {})
        assert labels.get(layout.LABEL_REGION) == render.region, _name(obj)
    for workload, template in pod_templates(renderer.objects(render)):
        assert template["metadata"]["labels"].get(layout.LABEL_REGION) == render.region, \
            f"{_name(workload)}: pod template"
        for container in template["spec"]["containers"]:
            for env in container.get("env", []):
                if env["name"] == "GAMEDAY_REGION":
                    # the value itself, or the pod's own region label (just checked)
                    field = env.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
                    assert env.get("value") == render.region or \
                        field == f"metadata.labels['{layout.LABEL_REGION}']", \
                        f"{_name(workload)} {container['name']}: GAMEDAY_REGION {env}"


@pytest.mark.parametrize("render", RENDERS, ids=lambda render: render.id)
def test_objects_live_in_the_gameday_namespace(render: Render, renderer: Renderer) -> None:
    for obj in renderer.objects(render):
        namespace = obj["metadata"].get("namespace")
        if obj["kind"] in _CLUSTER_SCOPED_KINDS:
            assert namespace is None, f"{_name(obj)} is cluster-scoped"
        else:
            assert namespace in {layout.NAMESPACE, _SYSTEM_NAMESPACE}, \
                f"{_name(obj)} in namespace {namespace!r}"


@pytest.mark.parametrize("region", sorted({render.region for render in RENDERS}))
def test_each_cluster_gets_the_namespace_object_once(region: str, renderer: Renderer) -> None:
    namespaces = [render.id for render in RENDERS
                  if render.region == region and render.component is None
                  for obj in renderer.objects(render)
                  if obj["kind"] == "Namespace" and obj["metadata"]["name"] == layout.NAMESPACE]
    assert namespaces == [f"metrics-{region}"], "the metrics overlay (applied first) owns it"


@pytest.mark.parametrize("render", RENDERS, ids=lambda render: render.id)
def test_workloads_are_named_and_labelled_by_stack_and_component(render: Render,
                                                                 renderer: Renderer) -> None:
    for workload, template in pod_templates(renderer.objects(render)):
        if workload["metadata"].get("namespace") != layout.NAMESPACE:
            continue
        labels = template["metadata"]["labels"]
        stack, component = labels.get(layout.LABEL_STACK), labels.get(layout.LABEL_COMPONENT)
        assert stack == render.stack and component, f"{_name(workload)}: pod labels {labels}"
        name = layout.workload_name(stack, component)
        assert workload["metadata"]["name"] == name
        assert labels.get("app.kubernetes.io/name") == name
        annotations = template["metadata"].get("annotations", {})
        if annotations.get("prometheus.io/scrape") == "true":
            assert {"prometheus.io/port", "prometheus.io/path"} <= set(annotations), \
                f"{_name(workload)}: scrape annotations without port and path"


@pytest.mark.parametrize("render", RENDERS, ids=lambda render: render.id)
def test_node_port_services_use_the_layout_ports(render: Render, renderer: Renderer) -> None:
    for obj in renderer.objects(render):
        if obj["kind"] != "Service" or obj["spec"].get("type") != "NodePort":
            continue
        labels = obj["metadata"]["labels"]
        stack, component = labels[layout.LABEL_STACK], labels[layout.LABEL_COMPONENT]
        assert obj["metadata"]["name"] == layout.workload_name(stack, component)
        published = {port["name"]: port.get("nodePort") for port in obj["spec"]["ports"]}
        expected = {name: node_port for (s, c, name), node_port in layout.NODE_PORTS.items()
                    if (s, c) == (stack, component)}
        assert published == expected, f"{_name(obj)}"


def _stack_components(stack: str) -> dict[str, dict[str, Any]]:
    path = TARGETS / stack / "stack.yaml"
    if not path.is_file():
        return {}  # the platform's own part (metrics): no stack declaration
    components: dict[str, dict[str, Any]] = yaml.safe_load(path.read_text())["components"]
    return components


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_component_has_its_workload(stack: str, renderer: Renderer) -> None:
    for region in sorted({render.region for render in RENDERS if render.stack == stack}):
        plain: set[str] = set()
        with_components: set[str] = set()
        for render in RENDERS:
            if (render.stack, render.region) == (stack, region):
                names = {obj["metadata"]["name"] for obj in renderer.objects(render)
                         if obj["kind"] in _SCALABLE_KINDS}
                (with_components if render.component else plain).update(names)
        for component, declared in _stack_components(stack).items():
            name = layout.workload_name(stack, component)
            # a component behind `when:` may come with a kustomize Component
            found = plain | with_components if "when" in declared else plain
            assert name in found, f"{stack} in {region}: no workload {name} for {component}"


def test_the_nightly_suites_autoscaling_entry_is_tabular_apis_hpa_as_rendered(
        renderer: Renderer) -> None:
    """The nightly run sets the HPA as its manifests have it: the run measures the HPA the
    clusters deploy, and putting it back after the run changes nothing."""
    [entry] = load_suite(layout.CLUSTERS_DIR.parent / "suites" / "nightly.yaml").autoscaling
    for render in (r for r in RENDERS if r.stack == "tabular" and r.component is None):
        [hpa] = [obj for obj in renderer.objects(render)
                 if obj["kind"] == "HorizontalPodAutoscaler"
                 and obj["spec"]["scaleTargetRef"]["name"] == "tabular-api"]
        assert {key: hpa["spec"][key] for key in entry.to_kubernetes()} == \
            entry.to_kubernetes(), render.id
