"""Each cluster's Prometheus config, as its metrics overlay renders it: valid for promtool, the
local platform's target labels, and region-a federating region-b's series."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gameday.platforms.base import REGIONS
from gameday.platforms.kind import layout
from gameday.platforms.local.resources import LABELS
from tests.clusters.kustomize import MANIFESTS, Render, Renderer

_CONFIG_MAP = "metrics-prometheus-config"
_FEDERATED = {"region-a": "region-b"}  # the region the harness queries holds the other's


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    return Renderer(tmp_path_factory.mktemp("kustomize"))


def _rendered(renderer: Renderer, region: str) -> list[dict[str, Any]]:
    return renderer.objects(Render("metrics", region, MANIFESTS / "metrics" / "overlays" / region))


def _files(renderer: Renderer, region: str) -> dict[str, str]:
    """The ConfigMap's keys: prometheus.yml and the region's *.scrape.yml."""
    maps = [obj for obj in _rendered(renderer, region) if obj["kind"] == "ConfigMap"
            and obj["metadata"]["name"].startswith(f"{_CONFIG_MAP}-")]
    assert len(maps) == 1, f"{region}: expected one {_CONFIG_MAP}"
    files: dict[str, str] = maps[0]["data"]
    return files


def _jobs(renderer: Renderer, region: str) -> dict[str, dict[str, Any]]:
    """Every scrape job, with the ones from scrape_config_files (as Prometheus merges them)."""
    files = _files(renderer, region)
    jobs = yaml.safe_load(files["prometheus.yml"])["scrape_configs"]
    for name, text in files.items():
        if name.endswith(".scrape.yml"):
            jobs += yaml.safe_load(text)["scrape_configs"]
    return {job["job_name"]: job for job in jobs}


@pytest.mark.parametrize("region", REGIONS)
def test_config_passes_promtool(region: str, renderer: Renderer, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian's prometheus package)")
    config = yaml.safe_load(_files(renderer, region)["prometheus.yml"])
    # Debian's promtool (2.42) predates scrape_config_files (2.43): inline what they hold;
    # and its build leaves Kubernetes discovery out: a static target stands in, so the rest
    # (relabel rules and their regexes, intervals, timeouts) is still checked
    config.pop("scrape_config_files", None)
    config["scrape_configs"] = list(_jobs(renderer, region).values())
    for job in config["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["static_configs"] = [{"targets": ["127.0.0.1:9090"]}]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run([promtool, "check", "config", str(path)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("region", REGIONS)
def test_pods_get_the_local_platforms_target_labels(region: str, renderer: Renderer) -> None:
    members = _jobs(renderer, region)["members"]
    (discovery,) = members["kubernetes_sd_configs"]
    assert discovery["role"] == "pod"
    assert discovery["namespaces"]["names"] == [layout.NAMESPACE]
    targets = {rule.get("target_label") for rule in members["relabel_configs"]}
    assert set(LABELS) <= targets


@pytest.mark.parametrize("region", REGIONS)
def test_the_queried_region_federates_the_other(region: str, renderer: Renderer) -> None:
    federations = [job for job in _jobs(renderer, region).values()
                   if job.get("metrics_path") == "/federate"]
    if region not in _FEDERATED:
        assert federations == [], f"{region} federates: only {list(_FEDERATED)} should"
        return
    (job,) = federations
    other = _FEDERATED[region]
    node_port = layout.NODE_PORTS[("metrics", "prometheus", "http")]
    assert job["honor_labels"] is True  # the series keep their own region and replica
    assert job["static_configs"] == [
        {"targets": [f"{layout.node_containers(other)[0]}:{node_port}"]}]
    assert job["params"]["match[]"] == [f'{{region="{other}"}}']


@pytest.mark.parametrize("region", REGIONS)
def test_extra_scrape_files_are_where_the_config_looks(region: str, renderer: Renderer) -> None:
    config = yaml.safe_load(_files(renderer, region)["prometheus.yml"])
    (deployment,) = [obj for obj in _rendered(renderer, region) if obj["kind"] == "Deployment"
                     and obj["metadata"]["name"] == layout.workload_name("metrics", "prometheus")]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "config"]
    assert all(Path(glob).parent == Path(mount["mountPath"])
               for glob in config["scrape_config_files"])
    assert f"--config.file={mount['mountPath']}/prometheus.yml" in container["args"]
