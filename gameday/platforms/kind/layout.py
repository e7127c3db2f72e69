"""The kind platform's fixed names, labels and ports: what ``clusters/`` (the kind configs and
kustomize manifests) and the platform's code agree on. A test holds the two together.

Ports: a component's Service is a NodePort (``NODE_PORTS``, 30000–32767, the same in both
clusters); each cluster's control-plane node publishes it on the host at 127.0.0.1, shifted by
the region (``host_port``). Cross-region links go through one Toxiproxy container on the kind
network: link ``<stack>-<component>-<region>`` listens on ``link_port`` and forwards to that
region's node port, so a toxic on it hits exactly one region's side of the link.
"""

from __future__ import annotations

from pathlib import Path

from gameday.platforms.base import check_region

__all__ = [
    "API_SERVER_PORTS",
    "CLUSTERS_DIR",
    "DOCKER_NETWORK",
    "EDGE_CONTAINERS",
    "IMAGES",
    "LABEL_COMPONENT",
    "LABEL_REGION",
    "LABEL_STACK",
    "NAMESPACE",
    "NODE_PORTS",
    "TOXIPROXY_API_PORT",
    "TOXIPROXY_CONTAINER",
    "WITNESS_CONTAINER",
    "cluster_name",
    "context_name",
    "host_port",
    "link_name",
    "link_port",
    "node_containers",
    "workload_name",
]

CLUSTERS_DIR = Path(__file__).resolve().parents[3] / "clusters"
NAMESPACE = "gameday"
DOCKER_NETWORK = "kind"  # kind's own network: every node and the edge's containers join it

LABEL_STACK = "gameday.dev/stack"
LABEL_COMPONENT = "gameday.dev/component"
LABEL_REGION = "gameday.dev/region"

# each cluster's API server, on the host (kind's apiServerAddress 127.0.0.1)
API_SERVER_PORTS = {"region-a": 46443, "region-b": 46444}

# (stack, component, port name) -> the NodePort of the component's Service, in both clusters
NODE_PORTS: dict[tuple[str, str, str], int] = {
    ("tabular", "api", "http"): 30100,
    ("tabular", "features", "http"): 30150,
    ("tabular", "materializer", "http"): 30160,
    ("triton", "server", "http"): 30200,
    ("triton", "server", "grpc"): 30201,
    ("triton", "server", "metrics"): 30202,
    ("rag", "api", "http"): 30300,
    ("rag", "embedder", "http"): 30310,
    ("rag", "db", "postgres"): 30432,
    ("rag", "db", "patroni"): 30808,
    ("rag", "etcd", "client"): 30379,
    ("rag", "etcd", "peer"): 30380,
    ("metrics", "prometheus", "http"): 30900,
}
_HOST_SHIFT = {"region-a": 11000, "region-b": 12000}  # 30100 -> 127.0.0.1:41100 / 42100
_LINK_SHIFT = {"region-a": -10000, "region-b": -9000}  # 30100 -> toxiproxy :20100 / :21100

# the containers beside the clusters, on the kind network
TOXIPROXY_CONTAINER = "gameday-toxiproxy"
TOXIPROXY_API_PORT = 8474  # published at 127.0.0.1:8474
WITNESS_CONTAINER = "gameday-etcd-witness"  # the rag stack's third etcd member
EDGE_CONTAINERS = ("gameday-edge-haproxy", "gameday-edge-nginx")

# images the platform builds (docker build, then kind load) or pulls
IMAGES = {
    "tabular": "gameday/tabular:dev",
    "rag": "gameday/rag:dev",
    "embedder": "gameday/embedder:dev",
    "postgres": "gameday/postgres-patroni:dev",
    "triton-models": "gameday/triton-models:dev",  # the model repository an initContainer copies
    "tabular-features": "gameday/tabular-features:dev",  # Feast's server and the materializer
    "triton": "nvcr.io/nvidia/tritonserver:24.08-py3",
    "toxiproxy": "ghcr.io/shopify/toxiproxy:2.9.0",
    "haproxy": "haproxy:2.8",
    "nginx": "owasp/modsecurity-crs:4.7.0-nginx-202410090410",
    "etcd": "quay.io/coreos/etcd:v3.5.15",
    "prometheus": "quay.io/prometheus/prometheus:v2.53.2",
}


def cluster_name(region: str) -> str:
    check_region(region)
    return region


def context_name(region: str) -> str:
    """kind names a cluster's kube context ``kind-<cluster>``."""
    return f"kind-{cluster_name(region)}"


def node_containers(region: str) -> tuple[str, ...]:
    """The Docker containers that are the region's nodes (kind names them so)."""
    name = cluster_name(region)
    return (f"{name}-control-plane", f"{name}-worker")


def workload_name(stack: str, component: str) -> str:
    """The Deployment / StatefulSet and Service of a component: ``tabular-api``."""
    return f"{stack}-{component}"


def host_port(region: str, node_port: int) -> int:
    check_region(region)
    return node_port + _HOST_SHIFT[region]


def link_name(stack: str, component: str, region: str, port: str | None = None) -> str:
    """The component's first port's link is ``<stack>-<component>-<region>``; another port's
    (the db's Patroni API beside its postgres port) is ``<stack>-<component>-<port>-<region>``."""
    check_region(region)
    return f"{stack}-{component}-{region}" if port is None \
        else f"{stack}-{component}-{port}-{region}"


def link_port(region: str, node_port: int) -> int:
    check_region(region)
    return node_port + _LINK_SHIFT[region]

