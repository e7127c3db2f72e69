"""KindPlatform over a RecordingRunner (no Docker, no kind here) and an in-memory KubeApi (the
edge of the world: there is no cluster): the guard, the prerequisites, up and down, members,
edge URLs and the edge files."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import pytest

from gameday.blast_radius import check_kube_context
from gameday.config import BlastRadius, Suite
from gameday.errors import ConfigError, PlatformError
from gameday.platforms.base import MemberState, StackRequest
from gameday.platforms.kind import platform as kind_platform
from gameday.platforms.kind.commands import RecordingRunner
from gameday.platforms.kind.edgefiles import render_edge
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.kube import PodView, WorkloadView
from gameday.platforms.kind.members import member_name
from gameday.platforms.kind.plan import ProxyCall, links_for, write_component_overlays
from gameday.platforms.kind.platform import KindPlatform
from gameday.platforms.kind.state import KindState


@dataclass
class MemoryKube:
    """One cluster as the KubeApi protocol sees it, in memory."""

    context: str
    pod_list: list[PodView] = field(default_factory=list)
    workload_list: list[WorkloadView] = field(default_factory=list)
    scaled: list[tuple[str, str, int]] = field(default_factory=list)

    def pods(self, *, stack: str | None = None, component: str | None = None) -> list[PodView]:
        return [p for p in self.pod_list if stack in (None, p.stack)
                and component in (None, p.component)]

    def delete_pod(self, name: str, *, grace_period_s: int = 0) -> None:
        self.pod_list = [p for p in self.pod_list if p.name != name]

    def workloads(self) -> list[WorkloadView]:
        return list(self.workload_list)

    def scale(self, kind: str, name: str, replicas: int) -> None:
        self.scaled.append((kind, name, replicas))
        self.workload_list = [replace(w, replicas=replicas, ready_replicas=replicas)
                              if w.name == name else w for w in self.workload_list]

    def nodes_ready(self) -> dict[str, bool]:
        return {}

    def hpas(self) -> list[object]:
        return []


def _pod(name: str, region: str, *, phase: str = "Running", ready: bool = True,
         deleting: bool = False, stack: str = "tabular", component: str = "api") -> PodView:
    return PodView(name=name, uid=f"uid-{name}", stack=stack, component=component,
                   region=region, phase=phase, ready=ready, deleting=deleting,
                   node=f"{region}-worker", pod_ip="10.244.1.7")


def _ready(stack: str = "tabular", component: str = "api", replicas: int = 2) -> WorkloadView:
    return WorkloadView(kind="Deployment", name=f"{stack}-{component}", stack=stack,
                        component=component, replicas=replicas, ready_replicas=replicas)


@pytest.fixture
def kubes() -> dict[str, MemoryKube]:
    return {region: MemoryKube(f"kind-{region}", workload_list=[_ready()])
            for region in ("region-a", "region-b")}


@pytest.fixture
def runner() -> RecordingRunner:
    recording = RecordingRunner()
    recording.reply(("kind", "get", "clusters"), stdout="region-a\n")
    recording.reply(("docker", "info"), stdout="27.3.1\n")
    return recording


@pytest.fixture
def proxies() -> list[ProxyCall]:
    return []


@pytest.fixture
def make(tmp_path: Path, runner: RecordingRunner, kubes: dict[str, MemoryKube],
         proxies: list[ProxyCall], monkeypatch: pytest.MonkeyPatch):
    # kind, docker and kubectl are the world's edge here: their commands are recorded
    monkeypatch.setattr(kind_platform, "require_binaries", lambda names: None)

    def build(**options: object) -> KindPlatform:
        env = KindEnv(home=tmp_path / "home", runner=runner, kube=lambda r: kubes[r])
        options.setdefault("post_proxy", proxies.append)
        return KindPlatform(env, root=Path("."), **options)  # type: ignore[arg-type]

    return build


def test_a_context_outside_the_guard_is_refused_before_any_command_runs(
        make, runner: RecordingRunner) -> None:
    platform = make(contexts={"region-a": "prod-eu", "region-b": "kind-region-b"})
    with pytest.raises(ConfigError, match="'prod-eu' is not the kind platform's own"):
        platform.up(StackRequest(stacks=("tabular",)))
    assert runner.commands == []
    assert not (platform.env.home / "kind-state.json").exists()


def test_a_context_the_suite_allow_lists_passes_the_guard(make) -> None:
    suite = Suite(name="s", allow_no_slos=True,
                  blast_radius=BlastRadius(kube_contexts=["staging"]))
    allowed = make(contexts={"region-a": "staging", "region-b": "kind-region-b"},
                   check_context=partial(check_kube_context, suite))
    allowed.check_contexts()
    refused = make(contexts={"region-a": "prod-eu", "region-b": "kind-region-b"},
                   check_context=partial(check_kube_context, suite))
    with pytest.raises(ConfigError, match=r"nor in blast_radius\.kube_contexts"):
        refused.check_contexts()


def test_a_kube_api_on_another_context_than_its_regions_is_refused(
        make, kubes: dict[str, MemoryKube]) -> None:
    platform = make()
    KindState(stacks=["tabular"], replicas=2, ready=True).save(platform.env.home)
    kubes["region-b"].context = "prod-eu"
    with pytest.raises(ConfigError, match="prod-eu"):
        platform.members(region="region-b")


def test_docker_without_a_daemon_is_refused_in_clear_words(make,
                                                           runner: RecordingRunner) -> None:
    runner.reply(("docker", "info"), returncode=1, stderr="Cannot connect to the Docker daemon "
                 "at unix:///var/run/docker.sock. Is the docker daemon running?\n")
    with pytest.raises(ConfigError, match="the Docker daemon is not running") as raised:
        make().up(StackRequest(stacks=("tabular",)))
    assert "Cannot connect to the Docker daemon" in str(raised.value)
    assert runner.lines() == ["docker info --format '{{.ServerVersion}}'"]


def test_up_runs_the_plan_skipping_an_existing_cluster_and_waits_until_ready(
        make, runner: RecordingRunner, proxies: list[ProxyCall],
        kubes: dict[str, MemoryKube]) -> None:
    platform = make()
    said: list[str] = []
    platform.up(StackRequest(stacks=("tabular",), replicas=3), progress=said.append)
    lines = runner.lines()
    assert lines[:2] == ["docker info --format '{{.ServerVersion}}'", "kind get clusters"]
    assert [line for line in lines if line.startswith("kind create")] == [
        "kind create cluster --name region-b --config clusters/kind/region-b.yaml --wait 180s"]
    assert lines[-1] == ("kubectl --context kind-region-b apply -k "
                         "clusters/manifests/tabular/overlays/region-b")
    assert [call.link.name for call in proxies] == ["tabular-api-region-a",
                                                    "tabular-api-region-b"]
    assert kubes["region-a"].scaled == [("Deployment", "tabular-api", 3)]
    assert said[-1] == "every workload is ready in both regions"
    assert platform.is_up()
    assert (platform.env.home / "edge" / "haproxy.cfg").exists()


def test_up_names_the_workloads_that_never_got_ready(make, kubes: dict[str, MemoryKube]) -> None:
    kubes["region-b"].workload_list = [replace(_ready(stack="tabular"), ready_replicas=1)]
    platform = make(ready_timeout_s=0.0)
    with pytest.raises(PlatformError, match=r"region-b/tabular-api 1/2"):
        platform.up(StackRequest(stacks=("tabular",)))
    assert not platform.is_up()


def test_members_map_each_regions_pods_to_members_at_their_host_ports(
        make, kubes: dict[str, MemoryKube]) -> None:
    kubes["region-a"].pod_list = [_pod("tabular-api-7d9-x1", "region-a"),
                                  _pod("tabular-api-7d9-x2", "region-a", ready=False)]
    kubes["region-b"].pod_list = [_pod("tabular-api-5c4-y1", "region-b", deleting=True),
                                  _pod("tabular-api-5c4-y2", "region-b", phase="Pending"),
                                  _pod("rag-db-0", "region-b", stack="rag", component="db")]
    platform = make()
    assert platform.members() == []  # not up: no state
    KindState(stacks=["tabular"], replicas=2, ready=True).save(platform.env.home)
    members = {m.name: m for m in platform.members()}
    first = members[member_name("region-a", "tabular-api-7d9-x1")]
    assert (first.region, first.stack, first.component, first.address, first.port, first.pid) \
        == ("region-a", "tabular", "api", "127.0.0.1", 41100, None)
    assert first.state == MemberState.HEALTHY
    assert members[member_name("region-b", "tabular-api-5c4-y1")].port == 42100
    assert members[member_name("region-b", "tabular-api-5c4-y1")].state == MemberState.DRAINING
    assert members[member_name("region-b", "tabular-api-5c4-y2")].state == MemberState.STARTING
    assert members[member_name("region-b", "rag-db-0")].ports == {"postgres": 42432,
                                                                  "patroni": 42808}
    assert [m.name for m in platform.members(region="region-b", stack="tabular")] == [
        member_name("region-b", "tabular-api-5c4-y1"),
        member_name("region-b", "tabular-api-5c4-y2")]


def test_edge_urls_have_the_local_platforms_shape(make) -> None:
    platform = make()
    with pytest.raises(PlatformError, match="not up on the kind platform"):
        platform.edge_url("tabular")
    KindState(stacks=["tabular"], replicas=2, ready=True,
              edge_urls={"tabular": "http://127.0.0.1:8080/tabular"}).save(platform.env.home)
    assert platform.edge_url("tabular") == "http://127.0.0.1:8080/tabular"
    assert platform.edge_url("tabular", "edge-no-waf") == "http://127.0.0.1:8082/tabular"
    assert platform.edge_url("tabular", "haproxy") == "http://127.0.0.1:8081/tabular"
    assert platform.prometheus_url() == "http://127.0.0.1:41900"
    assert platform.experiment_configuration() == {
        "gameday_platform": "kind", "gameday_home": str(platform.env.home)}


def test_the_edge_files_name_the_toxiproxy_links_as_servers(tmp_path: Path) -> None:
    files = render_edge(StackRequest(stacks=("tabular",)), tmp_path, links_for(["tabular"]))
    servers = [line.split()[:3] for line in files.haproxy_cfg.splitlines()
               if line.strip().startswith("server ")]
    assert servers == [["server", "tabular-api-region-a", "gameday-toxiproxy:20100"],
                       ["server", "tabular-api-region-b", "gameday-toxiproxy:21100"]]
    assert "backup" in next(line for line in files.haproxy_cfg.splitlines()
                            if "tabular-api-region-b" in line)
    assert "127.10." not in files.haproxy_cfg and "127.20." not in files.haproxy_cfg
    assert "server gameday-edge-haproxy:8081;" in files.nginx_conf
    assert files.regions_map == "tabular-api-region-a region-a\ntabular-api-region-b region-b\n"
    assert "/etc/gameday/logs/modsec-audit.log" in files.modsecurity_conf


def test_down_removes_the_containers_and_clusters_and_forgets_the_state(
        make, runner: RecordingRunner) -> None:
    platform = make()
    KindState(stacks=["tabular"], replicas=2, ready=True).save(platform.env.home)
    platform.down()
    assert runner.lines()[0].startswith("docker rm -f gameday-edge-nginx gameday-edge-haproxy")
    assert runner.lines()[-2:] == ["kind delete cluster --name region-a",
                                   "kind delete cluster --name region-b"]
    assert not platform.is_up() and KindState.load(platform.env.home) is None


def test_the_gpu_component_is_applied_only_when_the_suite_asks_for_a_gpu(make) -> None:
    platform = make()

    def triton_applies(device: str) -> list[str]:
        request = StackRequest(stacks=("triton",), settings={"triton": {"device": device}})
        return [step.line.rsplit(" ", 1)[1] for step in platform.plan(request)
                if step.line.startswith("kubectl") and "triton" in step.line]

    assert triton_applies("auto") == triton_applies("cpu") == [
        "clusters/manifests/triton/overlays/region-a",
        "clusters/manifests/triton/overlays/region-b"]
    assert triton_applies("gpu") == [str(platform.env.home / "kustomize" / f"triton-{r}")
                                     for r in ("region-a", "region-b")]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl (kustomize)")
def test_the_written_gpu_overlay_builds_with_the_gpu_component(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[3]
    write_component_overlays(tmp_path, repo, (("triton", "gpu"),))
    built = subprocess.run(["kubectl", "kustomize", str(tmp_path / "kustomize" /
                                                        "triton-region-b")],
                           capture_output=True, text=True, timeout=60, check=True).stdout
    assert "nvidia.com/gpu" in built and "gameday.dev/region: region-b" in built
