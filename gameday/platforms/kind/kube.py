"""What the kind platform asks of one cluster's Kubernetes API (``KubeApi``), and the real
client behind it (``kube_for``, the ``kubernetes`` package on a kube context).

The platform and its faults see the cluster only through these few calls, so the tests run
them against a fake API server on loopback (tests/platforms/kind/fakekube.py): there is no
cluster on the machines this project's CI runs on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from gameday.errors import PlatformError
from gameday.platforms.kind.layout import LABEL_COMPONENT, LABEL_REGION, LABEL_STACK, NAMESPACE

__all__ = ["ClientKube", "HpaView", "KubeApi", "PodView", "WorkloadView", "kube_for"]

_T = TypeVar("_T")
# (connect, read) seconds: a stopped or paused cluster must read as unreachable within a fault's
# verification, not after urllib3's default of no timeout and three retries
_REQUEST_TIMEOUT_S = (2.0, 5.0)
_WORKLOAD_KINDS = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class PodView:
    name: str
    uid: str
    stack: str  # its gameday.dev/stack label
    component: str  # gameday.dev/component
    region: str  # gameday.dev/region
    phase: str  # Pending, Running, Succeeded, Failed, Unknown
    ready: bool  # its Ready condition
    deleting: bool  # has a deletionTimestamp
    node: str | None
    pod_ip: str | None


@dataclass(frozen=True)
class WorkloadView:
    kind: str  # Deployment or StatefulSet
    name: str
    stack: str
    component: str
    replicas: int  # spec
    ready_replicas: int


@dataclass(frozen=True)
class HpaView:
    name: str
    target: str  # the workload it scales
    min_replicas: int
    max_replicas: int
    current_replicas: int
    desired_replicas: int
    current_cpu_percent: int | None  # averageUtilization of its cpu metric; None: unknown
    target_cpu_percent: int | None = None  # its spec's cpu averageUtilization target


class KubeApi(Protocol):
    """One cluster, namespace ``layout.NAMESPACE``."""

    context: str

    def pods(self, *, stack: str | None = None, component: str | None = None) -> list[PodView]:
        ...

    def delete_pod(self, name: str, *, grace_period_s: int = 0) -> None: ...

    def workloads(self) -> list[WorkloadView]: ...

    def scale(self, kind: str, name: str, replicas: int) -> None:
        """Set a Deployment's or StatefulSet's replicas through its scale subresource."""
        ...

    def nodes_ready(self) -> dict[str, bool]:
        """Node name -> its Ready condition; raises PlatformError if the API is unreachable."""
        ...

    def hpas(self) -> list[HpaView]: ...

    def hpa_spec(self, name: str) -> dict[str, Any]:
        """The HPA's spec as the API serves it (camelCase JSON)."""
        ...

    def patch_hpa(self, name: str, operations: list[dict[str, Any]]) -> None:
        """A JSON Patch (RFC 6902) of the HPA."""
        ...


def kube_for(context: str, kubeconfig: Path | None = None) -> KubeApi:
    """The real client on ``context`` (of ``kubeconfig``, else $KUBECONFIG / ~/.kube/config).
    The caller has checked the context against the blast-radius guard."""
    return ClientKube(context, kubeconfig)


def _selector(stack: str | None, component: str | None) -> str | None:
    terms = [f"{LABEL_STACK}={stack}" if stack else "",
             f"{LABEL_COMPONENT}={component}" if component else ""]
    return ",".join(t for t in terms if t) or None


def _condition(conditions: list[Any] | None, kind: str) -> bool:
    return any(c.type == kind and c.status == "True" for c in conditions or [])


def _pod_view(pod: Any) -> PodView:
    labels = pod.metadata.labels or {}
    status = pod.status
    return PodView(name=pod.metadata.name, uid=pod.metadata.uid or "",
                   stack=labels.get(LABEL_STACK, ""), component=labels.get(LABEL_COMPONENT, ""),
                   region=labels.get(LABEL_REGION, ""),
                   phase=(status.phase if status else None) or "Unknown",
                   ready=_condition(status.conditions if status else None, "Ready"),
                   deleting=pod.metadata.deletion_timestamp is not None,
                   node=pod.spec.node_name if pod.spec else None,
                   pod_ip=status.pod_ip if status else None)


def _workload_view(kind: str, item: Any) -> WorkloadView:
    labels = item.metadata.labels or {}
    return WorkloadView(kind=kind, name=item.metadata.name, stack=labels.get(LABEL_STACK, ""),
                        component=labels.get(LABEL_COMPONENT, ""),
                        replicas=int(item.spec.replicas or 0),
                        ready_replicas=int((item.status and item.status.ready_replicas) or 0))


def _cpu_percent(status: Any) -> int | None:
    for metric in (status and status.current_metrics) or []:
        resource = metric.resource if metric.type == "Resource" else None
        if resource is not None and resource.name == "cpu" and resource.current is not None:
            utilization = resource.current.average_utilization
            return int(utilization) if utilization is not None else None
    return None


def _target_cpu_percent(spec: Any) -> int | None:
    for metric in spec.metrics or []:
        resource = metric.resource if metric.type == "Resource" else None
        if resource is not None and resource.name == "cpu" and resource.target is not None:
            utilization = resource.target.average_utilization
            return int(utilization) if utilization is not None else None
    return None


def _hpa_view(item: Any) -> HpaView:
    spec, status = item.spec, item.status
    return HpaView(name=item.metadata.name, target=spec.scale_target_ref.name,
                   min_replicas=int(spec.min_replicas or 1), max_replicas=int(spec.max_replicas),
                   current_replicas=int((status and status.current_replicas) or 0),
                   desired_replicas=int((status and status.desired_replicas) or 0),
                   current_cpu_percent=_cpu_percent(status),
                   target_cpu_percent=_target_cpu_percent(spec))


class ClientKube:
    """``KubeApi`` over the ``kubernetes`` package: one context, namespace ``NAMESPACE``, short
    timeouts and no retries; any API error or unreachable API is a PlatformError naming the
    context."""

    def __init__(self, context: str, kubeconfig: Path | None = None) -> None:
        self.context = context
        configuration = client.Configuration()
        try:
            config.load_kube_config(config_file=str(kubeconfig) if kubeconfig else None,
                                    context=context, client_configuration=configuration,
                                    persist_config=False)
        except (ConfigException, OSError) as exc:
            where = kubeconfig or "$KUBECONFIG or ~/.kube/config"
            raise PlatformError(f"kube context {context!r} ({where}): {exc}") from None
        configuration.retries = False
        api = client.ApiClient(configuration)
        self._api = api
        self._core = client.CoreV1Api(api)
        self._apps = client.AppsV1Api(api)
        self._autoscaling = client.AutoscalingV2Api(api)

    def _call(self, what: str, method: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        try:
            return method(*args, _request_timeout=_REQUEST_TIMEOUT_S, **kwargs)
        except ApiException as exc:
            raise PlatformError(f"kube context {self.context!r}: {what}: API answered "
                                f"{exc.status} {exc.reason}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise PlatformError(f"kube context {self.context!r}: {what}: API unreachable "
                                f"({type(exc).__name__}: {exc})") from None

    def pods(self, *, stack: str | None = None, component: str | None = None) -> list[PodView]:
        selector = _selector(stack, component)
        listed = self._call("list pods", self._core.list_namespaced_pod, NAMESPACE,
                            **({"label_selector": selector} if selector else {}))
        return [_pod_view(pod) for pod in listed.items]

    def delete_pod(self, name: str, *, grace_period_s: int = 0) -> None:
        self._call(f"delete pod {name}", self._core.delete_namespaced_pod, name, NAMESPACE,
                   body=client.V1DeleteOptions(grace_period_seconds=grace_period_s))

    def workloads(self) -> list[WorkloadView]:
        deployments = self._call("list deployments", self._apps.list_namespaced_deployment,
                                 NAMESPACE)
        statefulsets = self._call("list statefulsets", self._apps.list_namespaced_stateful_set,
                                  NAMESPACE)
        return [_workload_view("Deployment", d) for d in deployments.items] + \
            [_workload_view("StatefulSet", s) for s in statefulsets.items]

    def scale(self, kind: str, name: str, replicas: int) -> None:
        if kind not in _WORKLOAD_KINDS:
            raise PlatformError(f"cannot scale a {kind}; only {', '.join(_WORKLOAD_KINDS)}")
        method = self._apps.patch_namespaced_deployment_scale if kind == "Deployment" \
            else self._apps.patch_namespaced_stateful_set_scale
        self._call(f"scale {kind} {name} to {replicas}", method, name, NAMESPACE,
                   {"spec": {"replicas": replicas}},
                   _content_type="application/merge-patch+json")

    def nodes_ready(self) -> dict[str, bool]:
        listed = self._call("list nodes", self._core.list_node)
        return {node.metadata.name: _condition(node.status and node.status.conditions, "Ready")
                for node in listed.items}

    def hpas(self) -> list[HpaView]:
        listed = self._call("list horizontal pod autoscalers",
                            self._autoscaling.list_namespaced_horizontal_pod_autoscaler,
                            NAMESPACE)
        return [_hpa_view(item) for item in listed.items]

    def hpa_spec(self, name: str) -> dict[str, Any]:
        item = self._call(f"read horizontal pod autoscaler {name}",
                          self._autoscaling.read_namespaced_horizontal_pod_autoscaler, name,
                          NAMESPACE)
        return dict(self._api.sanitize_for_serialization(item.spec))

    def patch_hpa(self, name: str, operations: list[dict[str, Any]]) -> None:
        self._call(f"patch horizontal pod autoscaler {name}",
                   self._autoscaling.patch_namespaced_horizontal_pod_autoscaler, name,
                   NAMESPACE, operations, _content_type="application/json-patch+json")
