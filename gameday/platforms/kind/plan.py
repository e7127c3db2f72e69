"""The kind platform's stand-up and tear-down as data: each step an exact command (or a call
to the Toxiproxy API published at 127.0.0.1) and a one-line why, so ``gameday up --dry-run``
prints them and the tests pin them.

Up: the two clusters (those ``kind get clusters`` does not list yet), the images the stacks
need (built, or pulled) loaded into both, Toxiproxy with one proxy per cross-region link, the
declared side containers, the edge (HAProxy, nginx + ModSecurity), then ``kubectl apply -k``
of each region's metrics and stacks. Readiness is waited for through the KubeApi afterwards
(code, not a step). Paths are relative to ``root``: the checkout, ``.`` when run inside it.
A stack with kustomize Components switched on is applied from a kustomization the platform
writes into its home (``write_component_overlays``): the region's overlay plus them.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.platforms.base import REGIONS
from gameday.platforms.kind.containers import SideContainer, run_argv
from gameday.platforms.kind.layout import (
    DOCKER_NETWORK,
    EDGE_CONTAINERS,
    IMAGES,
    NODE_PORTS,
    TOXIPROXY_API_PORT,
    TOXIPROXY_CONTAINER,
    cluster_name,
    context_name,
    link_name,
    link_port,
)
from gameday.stacks import load_stack

__all__ = [
    "Command",
    "KindRequest",
    "ProxyCall",
    "ProxyLink",
    "Step",
    "component_overlay",
    "components_for",
    "down_plan",
    "images_for",
    "links_for",
    "up_plan",
    "write_component_overlays",
]

_WAIT = "180s"  # kind's own wait for the control plane
_TRITON_MODELS = IMAGES["triton-models"]
_FEATURES = IMAGES["tabular-features"]
# image -> its Dockerfile under clusters/docker/ (built, then kind-loaded); the others pulled
_BUILDS = {IMAGES["tabular"]: "tabular", IMAGES["rag"]: "rag", IMAGES["embedder"]: "embedder",
           IMAGES["postgres"]: "postgres-patroni", _TRITON_MODELS: "triton-models",
           _FEATURES: "tabular-features"}
_STACK_IMAGES = {"tabular": (IMAGES["tabular"],),
                 "rag": (IMAGES["rag"], IMAGES["embedder"], IMAGES["postgres"]),
                 "triton": (IMAGES["triton"], _TRITON_MODELS)}
_COMPONENT_IMAGES = {("tabular", "feature-store"): (_FEATURES,)}


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    why: str

    @property
    def line(self) -> str:
        return shlex.join(self.argv)


@dataclass(frozen=True)
class ProxyLink:
    """One cross-region link: Toxiproxy listens on ``listen_port`` on the kind network and
    forwards to the region's node port (``upstream``)."""

    name: str
    stack: str
    component: str
    port: str  # the Service's port name (layout.NODE_PORTS)
    region: str
    listen_port: int
    node_port: int

    @property
    def upstream(self) -> str:
        return f"{cluster_name(self.region)}-control-plane:{self.node_port}"

    @property
    def listen(self) -> str:
        # the container's own name on the kind network: never reachable from outside it
        return f"{TOXIPROXY_CONTAINER}:{self.listen_port}"

    def body(self) -> dict[str, Any]:
        return {"name": self.name, "listen": self.listen, "upstream": self.upstream,
                "enabled": True}


@dataclass(frozen=True)
class ProxyCall:
    """POST a proxy to Toxiproxy's API (done from Python, over 127.0.0.1)."""

    link: ProxyLink
    why: str
    url: str = f"http://127.0.0.1:{TOXIPROXY_API_PORT}/proxies"

    @property
    def line(self) -> str:
        return f"POST {self.url} {json.dumps(self.link.body(), separators=(',', ':'))}"


Step = Command | ProxyCall


@dataclass(frozen=True)
class KindRequest:
    """What the kind plan depends on: the stacks, and the kustomize Components switched on
    (stack -> component: triton's ``gpu``, tabular's ``feature-store``)."""

    stacks: tuple[str, ...]
    components: tuple[tuple[str, str], ...] = ()
    containers: tuple[SideContainer, ...] = ()  # every declared one; the stacks pick
    edge_runs: tuple[Command, ...] = field(default=())  # the edge's docker runs (edgefiles)


def images_for(stacks: Sequence[str],
               components: Sequence[tuple[str, str]] = ()) -> list[str]:
    """The images the stacks (and their switched-on Components) need, each once, in order."""
    wanted = [image for stack in stacks for image in _STACK_IMAGES.get(stack, ())]
    wanted += [image for part in components if part[0] in stacks
               for image in _COMPONENT_IMAGES.get(part, ())]
    return list(dict.fromkeys(wanted))


def links_for(stacks: Sequence[str]) -> list[ProxyLink]:
    """One link per (stack, linked port, region): each http route's component, and the
    database's ports (postgres, patroni). A component's first port names the link
    ``layout.link_name``; another port adds its name: ``rag-db-patroni-region-a``."""
    links = []
    for stack in stacks:
        for component, port in _linked_ports(stack):
            first = next(p for (s, c, p) in NODE_PORTS if (s, c) == (stack, component))
            named = component if port == first else f"{component}-{port}"
            node_port = NODE_PORTS[(stack, component, port)]
            links += [ProxyLink(link_name(stack, named, region), stack, component, port,
                                region, link_port(region, node_port), node_port)
                      for region in REGIONS]
    return links


def _linked_ports(stack: str) -> list[tuple[str, str]]:
    declared = load_stack(stack)
    wanted = [(route.component, "http") for route in declared.routes if route.mode == "http"]
    if declared.database is not None:
        wanted += [(c, p) for (s, c, p) in NODE_PORTS
                   if s == stack and c == declared.database.component]
    return [pair for pair in dict.fromkeys(wanted) if (stack, *pair) in NODE_PORTS]


def component_overlay(home: Path, stack: str, region: str) -> Path:
    """The kustomization the platform writes for a stack with Components switched on: the
    region's overlay plus clusters/manifests/<stack>/components/<component>."""
    return home / "kustomize" / f"{stack}-{region}"


def components_for(stacks: Sequence[str],
                   settings: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The kustomize Components the suite's settings switch on: triton's ``gpu`` only when a
    GPU is asked for (``triton.device: gpu``; ``auto`` is CPU here, as nothing tells what the
    nodes have), tabular's ``feature-store`` with ``tabular.feature_store``."""
    wanted = [("triton", "gpu")] if (settings.get("triton") or {}).get("device") == "gpu" \
        else []
    if (settings.get("tabular") or {}).get("feature_store"):
        wanted.append(("tabular", "feature-store"))
    return tuple(part for part in wanted if part[0] in stacks)


def write_component_overlays(home: Path, root: Path,
                              components: tuple[tuple[str, str], ...]) -> None:
    """Each region's overlay with the Components, by relative paths (kustomize refuses an
    absolute root)."""
    for stack in dict.fromkeys(stack for stack, _ in components):
        manifests = (root / "clusters" / "manifests" / stack).resolve()
        for region in REGIONS:
            folder = component_overlay(home, stack, region).resolve()
            folder.mkdir(parents=True, exist_ok=True)
            parts = "".join(f"  - {os.path.relpath(manifests / 'components' / part, folder)}\n"
                            for name, part in components if name == stack)
            (folder / "kustomization.yaml").write_text(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                f"resources:\n  - {os.path.relpath(manifests / 'overlays' / region, folder)}\n"
                f"components:\n{parts}")


def up_plan(request: KindRequest, *, root: Path, home: Path,
            existing: Sequence[str] = ()) -> list[Step]:
    return [*_cluster_steps(root, existing),
            *_image_steps(images_for(request.stacks, request.components), root),
            *_proxy_steps(request.stacks),
            *(Command(run_argv(c), f"side container for {', '.join(c.stacks)}")
              for c in request.containers if c.wanted(request.stacks)),
            *request.edge_runs,
            *_apply_steps(request, root, home)]


def _cluster_steps(root: Path, existing: Sequence[str]) -> list[Command]:
    return [Command(("kind", "create", "cluster", "--name", cluster_name(region), "--config",
                     str(root / "clusters" / "kind" / f"{region}.yaml"), "--wait", _WAIT),
                    f"{region}'s cluster")
            for region in REGIONS if cluster_name(region) not in existing]


def _build_args(image: str, root: Path) -> tuple[str, ...]:
    """The tabular image keeps the checkout's path: the MLflow registry make setup wrote
    names its artefacts by absolute path (clusters/docker/tabular.Dockerfile)."""
    if image == IMAGES["tabular"]:
        return ("--build-arg", f"CHECKOUT={root.resolve()}")
    return ()


def _image_steps(images: Sequence[str], root: Path) -> list[Command]:
    steps = []
    for image in images:
        if image in _BUILDS:
            dockerfile = root / "clusters" / "docker" / f"{_BUILDS[image]}.Dockerfile"
            steps.append(Command(("docker", "build", "-t", image, "-f", str(dockerfile),
                                  *_build_args(image, root), str(root)), f"build {image}"))
        else:
            steps.append(Command(("docker", "pull", image), f"pull {image}"))
        steps += [Command(("kind", "load", "docker-image", image, "--name",
                           cluster_name(region)), f"{image} into {region}'s nodes")
                  for region in REGIONS]
    return steps


def _proxy_steps(stacks: Sequence[str]) -> list[Step]:
    toxiproxy: list[Step] = [Command(
        ("docker", "run", "-d", "--name", TOXIPROXY_CONTAINER, "--network", DOCKER_NETWORK,
         "-p", f"127.0.0.1:{TOXIPROXY_API_PORT}:{TOXIPROXY_API_PORT}", IMAGES["toxiproxy"]),
        "the fault proxy on every cross-region link; its API on 127.0.0.1")]
    return toxiproxy + [ProxyCall(link, f"link {link.stack}.{link.component} ({link.port}) "
                                        f"into {link.region}") for link in links_for(stacks)]


def _apply_steps(request: KindRequest, root: Path, home: Path) -> list[Command]:
    manifests = root / "clusters" / "manifests"
    steps = []
    for region in REGIONS:
        kubectl = ("kubectl", "--context", context_name(region), "apply", "-k")
        steps.append(Command((*kubectl, str(manifests / "metrics" / "overlays" / region)),
                             f"Prometheus and metrics-server in {region}"))
        for stack in request.stacks:
            overlay = component_overlay(home, stack, region) \
                if any(part[0] == stack for part in request.components) \
                else manifests / stack / "overlays" / region
            steps.append(Command((*kubectl, str(overlay)), f"the {stack} stack in {region}"))
    return steps


def down_plan(containers: Sequence[str]) -> list[Command]:
    """Every side container (the edge's first, Toxiproxy last), then both clusters."""
    names = (*EDGE_CONTAINERS[::-1], *containers, TOXIPROXY_CONTAINER)
    return [Command(("docker", "rm", "-f", *dict.fromkeys(names)),
                    "the containers beside the clusters"),
            *(Command(("kind", "delete", "cluster", "--name", cluster_name(region)),
                      f"{region}'s cluster") for region in REGIONS)]
