"""What the kind platform asks of one cluster's Kubernetes API (``KubeApi``), and the real
client behind it (``kube_for``, the ``kubernetes`` package on a kube context).

The platform and its faults see the cluster only through these few calls, so the tests run
them against a fake API server on loopback (tests/platforms/kind/fakekube.py): there is no
cluster on the machines this project's CI runs on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["HpaView", "KubeApi", "PodView", "WorkloadView", "kube_for"]


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


def kube_for(context: str, kubeconfig: Path | None = None) -> KubeApi:
    """The real client on ``context`` (of ``kubeconfig``, else $KUBECONFIG / ~/.kube/config).
    The caller has checked the context against the blast-radius guard."""
    raise NotImplementedError  # the faults helper's part: gameday.platforms.kind.kube
