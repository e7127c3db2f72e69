"""The rag stack's kind manifests (clusters/manifests/rag) and its etcd witness
(clusters/containers/etcd-witness.yaml), checked on what ``kubectl kustomize`` renders for each
region: one Patroni cluster across both kind clusters, bootstrapped by region-a, whose every
cross-region path goes through the fault proxy, over one three-member etcd."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gameday.platforms.kind import layout
from gameday.stack_options import DatabaseOptions, PatroniOptions

REGIONS = ("region-a", "region-b")
OTHER = {"region-a": "region-b", "region-b": "region-a"}
MANIFESTS = layout.CLUSTERS_DIR / "manifests" / "rag"
WITNESS_FILE = layout.CLUSTERS_DIR / "containers" / "etcd-witness.yaml"
PG_PORT = layout.NODE_PORTS[("rag", "db", "postgres")]
PATRONI_PORT = layout.NODE_PORTS[("rag", "db", "patroni")]
# raft and Patroni's DCS calls are not link-fault targets (partitions on kind are
# `docker network disconnect`): the only ports a pod may dial on another region's node directly
ETCD_PORTS = {layout.NODE_PORTS[("rag", "etcd", "client")],
              layout.NODE_PORTS[("rag", "etcd", "peer")]}
KUBECTL = shutil.which("kubectl")
VALIDATE = Path(sys.executable).with_name("kubernetes-validate")

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl (kustomize) not on PATH")


@dataclass(frozen=True)
class Rendered:
    region: str
    text: str
    objects: list[dict[str, Any]]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [o for o in self.objects if o["kind"] == kind
                 and o["metadata"]["name"].startswith(name)]
        assert len(found) == 1, f"{self.region}: expected one {kind} {name}, got {len(found)}"
        return found[0]

    def env(self, kind: str, name: str, container: str) -> dict[str, str]:
        spec = self.get(kind, name)["spec"]["template"]["spec"]
        [found] = [c for c in spec["containers"] + spec.get("initContainers", [])
                   if c["name"] == container]
        return {e["name"]: e.get("value", "") for e in found.get("env", [])}

    def patroni_config(self) -> dict[str, Any]:
        config: dict[str, Any] = yaml.safe_load(
            self.get("ConfigMap", "rag-db-patroni")["data"]["patroni.yml"])
        return config


@pytest.fixture(scope="module")
def rendered() -> dict[str, Rendered]:
    assert KUBECTL is not None
    out = {}
    for region in REGIONS:
        done = subprocess.run([KUBECTL, "kustomize", str(MANIFESTS / "overlays" / region)],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        out[region] = Rendered(region, done.stdout,
                               [o for o in yaml.safe_load_all(done.stdout) if o])
    return out


@pytest.fixture(scope="module")
def witness() -> dict[str, Any]:
    declared: dict[str, Any] = yaml.safe_load(WITNESS_FILE.read_text())
    return declared


def _flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def _strings(node: object) -> Iterator[str]:
    """Every string in a rendered object, config files inside ConfigMaps included."""
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _libpq_hosts(dsn: str) -> list[tuple[str, int]]:
    fields = dict(part.split("=", 1) for part in dsn.split())
    hosts, ports = fields["host"].split(","), fields["port"].split(",")
    assert len(hosts) == len(ports), dsn
    return [(host, int(port)) for host, port in zip(hosts, ports, strict=True)]


def test_only_region_a_may_bootstrap_the_patroni_cluster(rendered: dict[str, Rendered]) -> None:
    roles = {region: r.env("StatefulSet", "rag-db", "wait-for-leader")["GAMEDAY_BOOTSTRAP_ROLE"]
             for region, r in rendered.items()}
    assert roles == {"region-a": "primary", "region-b": "standby"}
    # the wait is what keeps region-b from racing for the initialize key: it runs before
    # Patroni and lets through only a primary, or a node that already has data
    script = rendered["region-b"].get("StatefulSet", "rag-db")["spec"]["template"]["spec"][
        "initContainers"][0]["command"][-1]
    assert '"$GAMEDAY_BOOTSTRAP_ROLE" = primary' in script and "PG_VERSION" in script
    assert '"Leader"' in script


def test_each_node_is_reached_at_its_own_links_of_the_fault_proxy(
        rendered: dict[str, Rendered]) -> None:
    for region, r in rendered.items():
        env = r.env("StatefulSet", "rag-db", "patroni")
        assert env["PATRONI_NAME"] == f"rag-db-{region}"
        assert env["GAMEDAY_REGION"] == region
        assert env["PATRONI_POSTGRESQL_CONNECT_ADDRESS"] == \
            f"{layout.TOXIPROXY_CONTAINER}:{layout.link_port(region, PG_PORT)}"
        assert env["PATRONI_RESTAPI_CONNECT_ADDRESS"] == \
            f"{layout.TOXIPROXY_CONTAINER}:{layout.link_port(region, PATRONI_PORT)}"


def test_the_service_reads_its_own_node_first_and_the_far_one_through_the_proxy(
        rendered: dict[str, Rendered]) -> None:
    for region, r in rendered.items():
        env = r.env("Deployment", "rag-api", "api")
        far = (layout.TOXIPROXY_CONTAINER, layout.link_port(OTHER[region], PG_PORT))
        own = (layout.workload_name("rag", "db"), PG_PORT)
        for name, attrs in (("RAG_READ_DSN", "any"), ("RAG_WRITE_DSN", "read-write")):
            assert _libpq_hosts(env[name]) == [own, far], (region, name)
            assert f"target_session_attrs={attrs}" in env[name].split()
        assert env["RAG_EMBEDDER_URL"] == \
            f"http://rag-embedder:{layout.NODE_PORTS[('rag', 'embedder', 'http')]}"


def test_no_cross_region_address_bypasses_the_fault_proxy(rendered: dict[str, Rendered]) -> None:
    for region, r in rendered.items():
        other = OTHER[region]
        allowed_links = {layout.link_port(region, PG_PORT), layout.link_port(region, PATRONI_PORT),
                         layout.link_port(other, PG_PORT)}
        for text in _strings(r.objects):
            for port in re.findall(rf"\b{other}-control-plane:(\d+)", text):
                assert int(port) in ETCD_PORTS, f"{region} dials {other} directly: {text!r}"
            for port in re.findall(rf"\b{layout.TOXIPROXY_CONTAINER}:(\d+)", text):
                assert int(port) in allowed_links, f"{region}: unexpected link in {text!r}"


def test_etcd_has_the_same_three_members_in_both_regions_and_the_witness(
        rendered: dict[str, Rendered], witness: dict[str, Any]) -> None:
    args = witness["args"]
    clusters = {region: r.env("StatefulSet", "rag-etcd", "etcd")["ETCD_INITIAL_CLUSTER"]
                for region, r in rendered.items()}
    clusters["witness"] = _flag(args, "--initial-cluster")
    assert len(set(clusters.values())) == 1, clusters
    members = dict(m.split("=", 1) for m in clusters["witness"].split(","))
    own = {}
    for region, r in rendered.items():
        env = r.env("StatefulSet", "rag-etcd", "etcd")
        own[env["ETCD_NAME"]] = env["ETCD_INITIAL_ADVERTISE_PEER_URLS"]
        assert env["ETCD_INITIAL_ADVERTISE_PEER_URLS"] == \
            f"http://{region}-control-plane:{layout.NODE_PORTS[('rag', 'etcd', 'peer')]}"
        assert env["ETCD_ADVERTISE_CLIENT_URLS"] == \
            f"http://{region}-control-plane:{layout.NODE_PORTS[('rag', 'etcd', 'client')]}"
    own[_flag(args, "--name")] = _flag(args, "--initial-advertise-peer-urls")
    assert members == own
    assert len(members) == 3


def test_the_witness_declaration_matches_the_layout(witness: dict[str, Any],
                                                    rendered: dict[str, Rendered]) -> None:
    assert set(witness) == {"name", "image", "stacks", "args", "env", "publish"}
    assert witness["name"] == layout.WITNESS_CONTAINER == _flag(witness["args"], "--name")
    assert witness["image"] == layout.IMAGES["etcd"]
    assert witness["stacks"] == ["rag"]
    assert all(isinstance(a, str) for a in witness["args"])
    assert _flag(witness["args"], "--advertise-client-urls") == \
        f"http://{layout.WITNESS_CONTAINER}:2379"
    hosts = rendered["region-a"].patroni_config()["etcd3"]["hosts"]
    assert f"{layout.WITNESS_CONTAINER}:2379" in hosts
    for r in rendered.values():
        [etcd] = r.get("StatefulSet", "rag-etcd")["spec"]["template"]["spec"]["containers"]
        assert etcd["image"] == layout.IMAGES["etcd"]


def test_patroni_runs_as_the_local_platform_configures_it(rendered: dict[str, Rendered]) -> None:
    configs = [r.patroni_config() for r in rendered.values()]
    assert configs[0] == configs[1]  # one cluster: what differs per region comes from env
    dcs = configs[0]["bootstrap"]["dcs"]
    local, database = PatroniOptions(), DatabaseOptions()
    assert dcs["ttl"] >= 20  # Patroni 4 silently raises a lower one (FACTS.md)
    assert dcs["loop_wait"] + 2 * dcs["retry_timeout"] <= dcs["ttl"]
    assert (dcs["ttl"], dcs["loop_wait"], dcs["retry_timeout"]) == \
        (local.ttl, local.loop_wait, local.retry_timeout)
    assert dcs["maximum_lag_on_failover"] == local.maximum_lag_on_failover
    assert dcs["failsafe_mode"] is local.failsafe_mode
    assert dcs["synchronous_mode"] is (database.replication == "sync")
    assert dcs["postgresql"]["use_pg_rewind"] is True
    assert dcs["postgresql"]["parameters"]["wal_log_hints"] == "on"
    assert configs[0]["scope"] == "rag"


def test_patroni_probes_are_its_own_health_endpoints(rendered: dict[str, Rendered]) -> None:
    for r in rendered.values():
        [patroni] = r.get("StatefulSet", "rag-db")["spec"]["template"]["spec"]["containers"]
        assert patroni["readinessProbe"]["httpGet"]["path"] in {"/readiness", "/health"}
        assert patroni["livenessProbe"]["httpGet"]["path"] == "/liveness"
        assert patroni["image"] == layout.IMAGES["postgres"]
        claim = r.get("StatefulSet", "rag-db")["spec"]["volumeClaimTemplates"][0]["spec"]
        assert claim["storageClassName"] == "standard"


def test_services_are_the_layouts_node_ports(rendered: dict[str, Rendered]) -> None:
    for r in rendered.values():
        for component in ("api", "embedder", "db", "etcd"):
            service = r.get("Service", layout.workload_name("rag", component))
            assert service["spec"]["type"] == "NodePort"
            ports = {p["name"]: p["nodePort"] for p in service["spec"]["ports"]}
            assert ports == {name: port for (stack, comp, name), port in layout.NODE_PORTS.items()
                             if (stack, comp) == ("rag", component)}


def test_every_object_is_labelled_with_its_region_in_the_gameday_namespace(
        rendered: dict[str, Rendered]) -> None:
    for region, r in rendered.items():
        assert "set-by-overlay" not in r.text
        for obj in r.objects:
            assert obj["kind"] != "Namespace"  # the metrics overlay creates it
            assert obj["metadata"]["namespace"] == layout.NAMESPACE
            assert obj["metadata"]["labels"][layout.LABEL_REGION] == region
            template = obj.get("spec", {}).get("template")
            if template is not None:
                labels = template["metadata"]["labels"]
                assert labels[layout.LABEL_REGION] == region
                assert labels[layout.LABEL_STACK] == "rag"
                assert labels[layout.LABEL_COMPONENT] in {"api", "embedder", "db", "etcd"}


@pytest.mark.skipif(not VALIDATE.exists(), reason="kubernetes-validate not installed")
def test_both_overlays_pass_kubernetes_validate_strict(rendered: dict[str, Rendered],
                                                       tmp_path: Path) -> None:
    for region, r in rendered.items():
        path = tmp_path / f"{region}.yaml"
        path.write_text(r.text)
        done = subprocess.run([str(VALIDATE), "--strict", "-k", "1.30.0", "--quiet", str(path)],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
