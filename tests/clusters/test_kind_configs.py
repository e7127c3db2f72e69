"""The kind cluster configs (clusters/kind/<region>.yaml) against the platform's layout: every
node port published on the host at its shifted port, only ever on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

import pytest
import yaml

from gameday.platforms.base import REGIONS
from gameday.platforms.kind import layout

_LOOPBACK = "127.0.0.1"


def _config(region: str) -> dict[str, Any]:
    path = layout.CLUSTERS_DIR / "kind" / f"{region}.yaml"
    config = yaml.safe_load(path.read_text())
    assert isinstance(config, dict), f"{path}: not a mapping"
    return config


def _node(config: dict[str, Any], role: str) -> dict[str, Any]:
    nodes = [node for node in config["nodes"] if node["role"] == role]
    assert len(nodes) == 1, f"expected one {role} node, got {len(nodes)}"
    return nodes[0]


@pytest.mark.parametrize("region", REGIONS)
def test_config_is_a_kind_cluster_of_one_control_plane_and_one_worker(region: str) -> None:
    config = _config(region)
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config.get("name", region) == layout.cluster_name(region)
    assert [node["role"] for node in config["nodes"]] == ["control-plane", "worker"]
    # kind names the node containers <cluster>-<role>: what region faults stop and pause
    assert tuple(f"{region}-{node['role']}" for node in config["nodes"]) == \
        layout.node_containers(region)


@pytest.mark.parametrize("region", REGIONS)
def test_api_server_listens_on_loopback_at_the_layout_port(region: str) -> None:
    networking = _config(region)["networking"]
    assert networking["apiServerAddress"] == _LOOPBACK
    assert networking["apiServerPort"] == layout.API_SERVER_PORTS[region]


@pytest.mark.parametrize("region", REGIONS)
def test_every_node_port_is_published_at_its_host_port(region: str) -> None:
    mappings = _node(_config(region), "control-plane").get("extraPortMappings", [])
    published = {(m["containerPort"], m["hostPort"]) for m in mappings}
    expected = {(port, layout.host_port(region, port)) for port in layout.NODE_PORTS.values()}
    assert published == expected
    assert len(mappings) == len(expected), "a node port is mapped twice"


@pytest.mark.parametrize("region", REGIONS)
def test_nothing_is_published_off_loopback(region: str) -> None:
    for node in _config(region)["nodes"]:
        for mapping in node.get("extraPortMappings", []):
            # kind's default listenAddress is 0.0.0.0: it must always be written out
            assert mapping.get("listenAddress") == _LOOPBACK, (node["role"], mapping)
            assert mapping.get("protocol", "TCP") == "TCP"


def test_host_ports_of_the_two_clusters_never_collide() -> None:
    ports = [m["hostPort"] for region in REGIONS
             for m in _node(_config(region), "control-plane")["extraPortMappings"]]
    ports += [_config(region)["networking"]["apiServerPort"] for region in REGIONS]
    assert len(ports) == len(set(ports))


def test_pod_and_service_subnets_are_disjoint_across_both_clusters() -> None:
    subnets = {f"{region} {kind}": ipaddress.ip_network(_config(region)["networking"][kind])
               for region in REGIONS for kind in ("podSubnet", "serviceSubnet")}
    for (name_a, net_a), (name_b, net_b) in itertools.combinations(subnets.items(), 2):
        assert not net_a.overlaps(net_b), f"{name_a} {net_a} overlaps {name_b} {net_b}"
