"""A stand-in Kubernetes API server on 127.0.0.1: the one edge of the world these tests cannot
run (no cluster here). It speaks the REST subset ``ClientKube`` and chaostoolkit-kubernetes
use — pods (list by labelSelector, delete), Deployments and StatefulSets (get, list, patch,
``scale`` subresource), nodes, autoscaling/v2 HorizontalPodAutoscalers (list, get, JSON
Patch of the spec) — over real HTTP, so the real ``kubernetes`` client is what is under test.

Its "controllers" act as a real cluster's would, enough to verify a fault: a deleted pod of a
workload is replaced by one with a new uid; scaling changes the spec at once and the ready
count once the new pods' readiness delay has passed. ``reachable = False`` makes it drop every
connection unanswered, as a stopped node does.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gameday.platforms.kind.layout import LABEL_COMPONENT, LABEL_REGION, LABEL_STACK

__all__ = ["FakeCluster", "FakePod", "FakeWorkload", "start_cluster"]

_NS = r"/namespaces/(?P<ns>[^/]+)"


@dataclass
class FakePod:
    name: str
    labels: dict[str, str]
    owner: tuple[str, str] | None  # (kind, name) of its workload
    node: str
    ready_at_s: float
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    ip: str = "10.244.1.2"

    def as_json(self, namespace: str) -> dict[str, Any]:
        ready = time.monotonic() >= self.ready_at_s
        return {"kind": "Pod", "apiVersion": "v1",
                "metadata": {"name": self.name, "namespace": namespace, "uid": self.uid,
                             "labels": self.labels},
                "spec": {"nodeName": self.node, "containers": [{"name": "main",
                                                                "image": "fake"}]},
                "status": {"phase": "Running", "podIP": self.ip,
                           "conditions": [{"type": "Ready", "status": str(ready)}]}}


@dataclass
class FakeWorkload:
    kind: str  # Deployment or StatefulSet
    name: str
    labels: dict[str, str]
    replicas: int


class FakeCluster:
    """One cluster's state, which the tests seed and inspect (under ``lock``)."""

    def __init__(self, region: str, namespace: str, ready_delay_s: float = 0.2) -> None:
        self.region = region
        self.namespace = namespace
        self.ready_delay_s = ready_delay_s
        self.lock = threading.RLock()
        self.reachable = True
        self.nodes = {f"{region}-control-plane": True, f"{region}-worker": True}
        self.workloads: dict[tuple[str, str], FakeWorkload] = {}
        self.pods: dict[str, FakePod] = {}
        self.hpas: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, str]] = []  # method, path, content type
        self.url = ""

    # -- seeding and inspecting -----------------------------------------------------------------
    def add_workload(self, kind: str, stack: str, component: str, replicas: int) -> FakeWorkload:
        labels = {LABEL_STACK: stack, LABEL_COMPONENT: component, LABEL_REGION: self.region}
        workload = FakeWorkload(kind, f"{stack}-{component}", labels, replicas)
        with self.lock:
            self.workloads[(kind, workload.name)] = workload
            self._reconcile(workload, ready_delay_s=0.0)
        return workload

    def add_hpa(self, name: str, target: str, *, min_replicas: int, max_replicas: int,
                current: int, desired: int, cpu_percent: int | None,
                target_cpu_percent: int = 70) -> None:
        metrics = [] if cpu_percent is None else [{"type": "Resource", "resource": {
            "name": "cpu", "current": {"averageUtilization": cpu_percent}}}]
        self.hpas.append({
            "kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v2",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": target,
                                        "apiVersion": "apps/v1"},
                     "minReplicas": min_replicas, "maxReplicas": max_replicas,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization",
                                                   "averageUtilization": target_cpu_percent}}}]},
            "status": {"currentReplicas": current, "desiredReplicas": desired,
                       "currentMetrics": metrics}})

    def pods_of(self, workload: str) -> list[FakePod]:
        with self.lock:
            return sorted((p for p in self.pods.values() if p.owner and p.owner[1] == workload),
                          key=lambda p: p.name)

    # -- the controllers ------------------------------------------------------------------------
    def _reconcile(self, workload: FakeWorkload, ready_delay_s: float | None = None) -> None:
        delay_s = self.ready_delay_s if ready_delay_s is None else ready_delay_s
        owned = self.pods_of(workload.name)
        for extra in owned[workload.replicas:]:
            del self.pods[extra.name]
        names = {p.name for p in owned}
        for index in range(workload.replicas - len(owned)):
            name = f"{workload.name}-{uuid.uuid4().hex[:5]}" if workload.kind == "Deployment" \
                else next(f"{workload.name}-{i}" for i in range(99) if
                          f"{workload.name}-{i}" not in names)
            names.add(name)
            self.pods[name] = FakePod(name, dict(workload.labels),
                                      (workload.kind, workload.name),
                                      f"{self.region}-worker", time.monotonic() + delay_s,
                                      ip=f"10.244.1.{len(self.pods) + index + 2}")

    def ready_replicas(self, workload: FakeWorkload) -> int:
        now_s = time.monotonic()
        return sum(1 for p in self.pods_of(workload.name) if now_s >= p.ready_at_s)

    # -- the API --------------------------------------------------------------------------------
    def workload_json(self, workload: FakeWorkload) -> dict[str, Any]:
        selector = {"matchLabels": {k: v for k, v in workload.labels.items()
                                    if k != LABEL_REGION}}
        return {"kind": workload.kind, "apiVersion": "apps/v1",
                "metadata": {"name": workload.name, "namespace": self.namespace,
                             "labels": workload.labels},
                "spec": {"replicas": workload.replicas, "selector": selector,
                         "template": {"metadata": {"labels": workload.labels}}},
                "status": {"replicas": len(self.pods_of(workload.name)),
                           "readyReplicas": self.ready_replicas(workload)}}

    def scale_json(self, workload: FakeWorkload) -> dict[str, Any]:
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {"name": workload.name, "namespace": self.namespace},
                "spec": {"replicas": workload.replicas},
                "status": {"replicas": len(self.pods_of(workload.name))}}

    def set_replicas(self, workload: FakeWorkload, body: Any) -> None:
        if isinstance(body, list):  # a JSON patch
            replicas = next(op["value"] for op in body if op.get("path") == "/spec/replicas")
        else:
            replicas = body["spec"]["replicas"]
        workload.replicas = int(replicas)
        self._reconcile(workload)


def _matches(labels: dict[str, str], selector: str | None) -> bool:
    for term in filter(None, (selector or "").split(",")):
        key, _, value = term.replace("==", "=").partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


def _list(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": f"{kind}List", "apiVersion": "v1", "metadata": {}, "items": items}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def handle(self) -> None:
        if not self.server.cluster.reachable:
            return  # dropped unanswered: what a client sees of a stopped node's API server
        super().handle()

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        cluster = self.server.cluster
        cluster.requests.append((method, parts.path, self.headers.get("Content-Type", "")))
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with cluster.lock:
            for verb, pattern, route in _ROUTES:
                found = re.fullmatch(pattern, parts.path)
                if verb == method and found:
                    status, answer = route(cluster, found.groupdict(), query, body)
                    return self._answer(status, answer)
        self._answer(404, {"kind": "Status", "status": "Failure", "reason": "NotFound",
                           "code": 404, "message": f"no route {method} {parts.path}"})

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")


Route = Any


def _not_found(what: str) -> tuple[int, dict[str, Any]]:
    return 404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404,
                 "message": f"{what} not found"}


def _list_pods(c: FakeCluster, p: dict[str, str], q: dict[str, str], b: Any) -> Route:
    return 200, _list("Pod", [pod.as_json(c.namespace) for pod in sorted(
        c.pods.values(), key=lambda pod: pod.name) if _matches(pod.labels,
                                                               q.get("labelSelector"))])


def _delete_pod(c: FakeCluster, p: dict[str, str], q: dict[str, str], b: Any) -> Route:
    pod = c.pods.pop(p["name"], None)
    if pod is None:
        return _not_found(f'pods "{p["name"]}"')
    if pod.owner is not None:
        c._reconcile(c.workloads[pod.owner])
    return 200, pod.as_json(c.namespace)


def _workload(kind: str) -> tuple[Route, Route, Route, Route, Route]:
    def lookup(c: FakeCluster, name: str) -> FakeWorkload | None:
        return c.workloads.get((kind, name))

    def listed(c: FakeCluster, p: dict[str, str], q: dict[str, str], b: Any) -> Route:
        return 200, _list(kind, [c.workload_json(w) for w in c.workloads.values()
                                 if w.kind == kind])

    def get(c: FakeCluster, p: dict[str, str], q: dict[str, str], b: Any) -> Route:
        w = lookup(c, p["name"])
        return (200, c.workload_json(w)) if w else _not_found(p["name"])

    def patch(c: FakeCluster, p: dict[str, str], q: dict[str, str], b: Any) -> Route:
        w = lookup(c, p["name"])
        if w is None:
            return _not_found(p["name"])
        c.set_replicas(w, b)
        return 200, c.workload_json(w)

    def get_scale(c: FakeCluster, p: dict[str, str], q: dict[str, str], b: Any) -> Route:
        w = lookup(c, p["name"])
        return (200, c.scale_json(w)) if w else _not_found(p["name"])

    def patch_scale(c: FakeCluster, p: dict[str, str], q: dict[str, str], b: Any) -> Route:
        w = lookup(c, p["name"])
        if w is None:
            return _not_found(p["name"])
        c.set_replicas(w, b)
        return 200, c.scale_json(w)

    return listed, get, patch, get_scale, patch_scale


def _nodes(c: FakeCluster, p: dict[str, str], q: dict[str, str], b: Any) -> Route:
    return 200, _list("Node", [{"metadata": {"name": name}, "status": {"conditions": [
        {"type": "Ready", "status": str(ready)}]}} for name, ready in c.nodes.items()])


def _hpas(c: FakeCluster, p: dict[str, str], q: dict[str, str], b: Any) -> Route:
    return 200, _list("HorizontalPodAutoscaler", list(c.hpas))


def _hpa(c: FakeCluster, p: dict[str, str], q: dict[str, str], b: Any) -> Route:
    found = [hpa for hpa in c.hpas if hpa["metadata"]["name"] == p["name"]]
    return (200, found[0]) if found else _not_found(f'horizontalpodautoscalers "{p["name"]}"')


def _invalid(message: str) -> tuple[int, dict[str, Any]]:
    return 422, {"kind": "Status", "status": "Failure", "reason": "Invalid", "code": 422,
                 "message": message}


def _patch_hpa(c: FakeCluster, p: dict[str, str], q: dict[str, str], b: Any) -> Route:
    """A JSON Patch (RFC 6902) of top-level spec fields, ``add`` and ``remove`` only, checked
    as the API server checks an HPA (min <= max); nothing changes if any of it fails."""
    status, found = _hpa(c, p, q, b)
    if status != 200:
        return status, found
    if c.requests[-1][2] != "application/json-patch+json" or not isinstance(b, list):
        return 415, {"kind": "Status", "code": 415, "message": "a JSON Patch was expected"}
    spec = json.loads(json.dumps(found["spec"]))
    for operation in b:
        name = operation["path"].removeprefix("/spec/")
        if operation["op"] == "add" and "/" not in name:
            spec[name] = operation["value"]
        elif operation["op"] == "remove" and name in spec:
            del spec[name]
        else:
            return _invalid(f"the server rejected our request: {operation}")
    if spec.get("minReplicas", 1) > spec["maxReplicas"]:
        return _invalid("spec.minReplicas: must be less than or equal to maxReplicas")
    found["spec"] = spec
    return 200, found


def _routes() -> list[tuple[str, str, Route]]:
    routes: list[tuple[str, str, Route]] = [
        ("GET", rf"/api/v1{_NS}/pods", _list_pods),
        ("DELETE", rf"/api/v1{_NS}/pods/(?P<name>[^/]+)", _delete_pod),
        ("GET", r"/api/v1/nodes", _nodes),
        ("GET", rf"/apis/autoscaling/v2{_NS}/horizontalpodautoscalers", _hpas),
        ("GET", rf"/apis/autoscaling/v2{_NS}/horizontalpodautoscalers/(?P<name>[^/]+)", _hpa),
        ("PATCH", rf"/apis/autoscaling/v2{_NS}/horizontalpodautoscalers/(?P<name>[^/]+)",
         _patch_hpa)]
    for kind, plural in (("Deployment", "deployments"), ("StatefulSet", "statefulsets")):
        listed, get, patch, get_scale, patch_scale = _workload(kind)
        base = rf"/apis/apps/v1{_NS}/{plural}"
        routes += [("GET", base, listed), ("GET", rf"{base}/(?P<name>[^/]+)", get),
                   ("PATCH", rf"{base}/(?P<name>[^/]+)", patch),
                   ("GET", rf"{base}/(?P<name>[^/]+)/scale", get_scale),
                   ("PATCH", rf"{base}/(?P<name>[^/]+)/scale", patch_scale)]
    return routes


_ROUTES = _routes()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, cluster: FakeCluster) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.cluster = cluster


def start_cluster(cluster: FakeCluster) -> tuple[_Server, threading.Thread]:
    """Serve ``cluster`` on 127.0.0.1 (a free port, in ``cluster.url``) from a thread."""
    server = _Server(cluster)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    cluster.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server, thread
