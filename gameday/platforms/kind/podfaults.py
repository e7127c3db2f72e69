"""Member faults on kind, where a member is a pod and its controller recreates whatever is
killed:

- held down (``WorkloadHold``): only a whole workload can be held down on Kubernetes, by
  scaling it to zero; the undo scales it back to the replicas it had. Holding some pods of a
  workload is refused (a deleted pod is replaced at once; ``kill_member`` is that fault).
- frozen (``PodFreeze``): the pod's cgroup frozen through cgroup v2's ``cgroup.freeze`` on its
  node (``docker exec``), the SIGSTOP of every process of the pod; verified by the kernel's
  own ``frozen 1`` in ``cgroup.events``. Its port still accepts connections (the node's
  kernel answers), nothing is answered: a hung member, as ``docker pause`` is a hung node.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gameday.errors import FaultError
from gameday.platforms.base import MemberState
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.faultbase import HeldMember, KindFault, wait_until

__all__ = ["PodFreeze", "PodRef", "WorkloadHold", "WorkloadRef", "pod_cgroup"]

_EXEC_TIMEOUT_S = 30.0


class _Ref(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkloadRef(_Ref):
    region: str
    kind: str  # Deployment or StatefulSet
    name: str
    stack: str
    component: str
    replicas: int  # before the hold
    members: tuple[str, ...]  # its pods' member names before the hold


class WorkloadHold(KindFault):
    kind: Literal["workload_hold"] = "workload_hold"
    workloads: tuple[WorkloadRef, ...]
    gone_timeout_s: float = 60.0
    ready_timeout_s: float = 300.0

    def target(self) -> str:
        return ", ".join(f"{w.region} {w.kind} {w.name} (held at 0 of {w.replicas})"
                         for w in self.workloads)

    def held(self) -> tuple[HeldMember, ...]:
        return tuple(HeldMember(name=name, region=w.region, stack=w.stack,
                                component=w.component, state=MemberState.HELD_DOWN)
                     for w in self.workloads for name in w.members)

    def inject(self, env: KindEnv) -> dict[str, Any]:
        for w in self.workloads:
            env.kube(w.region).scale(w.kind, w.name, 0)
        return {"scaled_to_zero": [f"{w.region}/{w.name}" for w in self.workloads]}

    def _left(self, env: KindEnv) -> list[str]:
        return [f"{w.region}/{pod.name}" for w in self.workloads
                for pod in env.kube(w.region).pods(stack=w.stack, component=w.component)]

    def verify(self, env: KindEnv) -> dict[str, Any]:
        if not wait_until(lambda: not self._left(env), self.gone_timeout_s):
            raise FaultError(f"hold {self.target()}: pods still there "
                             f"{self.gone_timeout_s:g} s on: {self._left(env)}")
        return {"pods_left": 0}

    def _unready(self, env: KindEnv) -> list[str]:
        views = {(w.region, w.kind, w.name): w for w in self.workloads}
        return [f"{region}/{v.name} {v.ready_replicas}/{views[(region, v.kind, v.name)].replicas}"
                for region in {w.region for w in self.workloads}
                for v in env.kube(region).workloads() if (region, v.kind, v.name) in views
                and v.ready_replicas < views[(region, v.kind, v.name)].replicas]

    def undo(self, env: KindEnv) -> str:
        for w in self.workloads:
            env.kube(w.region).scale(w.kind, w.name, w.replicas)
        if not wait_until(lambda: not self._unready(env), self.ready_timeout_s, 0.5):
            raise FaultError(f"release {self.target()}: scaled back, not ready "
                             f"{self.ready_timeout_s:g} s on: {self._unready(env)}")
        return "scaled back " + ", ".join(f"{w.region}/{w.name} to {w.replicas}"
                                          for w in self.workloads)


class PodRef(_Ref):
    member: str
    region: str
    stack: str
    component: str
    name: str
    uid: str
    node: str  # the Kubernetes node, which kind names after its container


def pod_cgroup(env: KindEnv, pod: PodRef) -> str | None:
    """The pod's cgroup directory on its node: ``…pod<uid with _>.slice`` under the systemd
    driver kind uses, ``pod<uid>`` under cgroupfs; None once the pod is gone."""
    found = env.runner.run(
        ["docker", "exec", pod.node, "find", "/sys/fs/cgroup", "-maxdepth", "6", "-type", "d",
         "(", "-name", f"*pod{pod.uid.replace('-', '_')}.slice", "-o", "-name",
         f"pod{pod.uid}", ")"], timeout_s=_EXEC_TIMEOUT_S).stdout.split()
    return min(found, key=len) if found else None


def _frozen(env: KindEnv, pod: PodRef, cgroup: str) -> bool:
    events = env.runner.run(["docker", "exec", pod.node, "cat", f"{cgroup}/cgroup.events"],
                            timeout_s=_EXEC_TIMEOUT_S).stdout
    return "frozen 1" in events.splitlines()


def _write_freeze(env: KindEnv, pod: PodRef, cgroup: str, value: int) -> None:
    env.runner.run(["docker", "exec", pod.node, "sh", "-c",
                    f"echo {value} > {cgroup}/cgroup.freeze"], timeout_s=_EXEC_TIMEOUT_S)


class PodFreeze(KindFault):
    kind: Literal["pod_freeze"] = "pod_freeze"
    pods: tuple[PodRef, ...]
    frozen_timeout_s: float = 10.0

    def target(self) -> str:
        return f"{', '.join(p.member for p in self.pods)} (frozen)"

    def held(self) -> tuple[HeldMember, ...]:
        return tuple(HeldMember(name=p.member, region=p.region, stack=p.stack,
                                component=p.component, state=MemberState.FROZEN)
                     for p in self.pods)

    def inject(self, env: KindEnv) -> dict[str, Any]:
        cgroups = {}
        for pod in self.pods:
            cgroup = pod_cgroup(env, pod)
            if cgroup is None:
                raise FaultError(f"freeze {pod.member}: no cgroup of pod uid {pod.uid} on "
                                 f"{pod.node}")
            _write_freeze(env, pod, cgroup, 1)
            cgroups[pod.member] = cgroup
        return {"cgroups": cgroups}

    def verify(self, env: KindEnv) -> dict[str, Any]:
        def all_frozen() -> bool:
            return all((cgroup := pod_cgroup(env, p)) is not None and _frozen(env, p, cgroup)
                       for p in self.pods)

        if not wait_until(all_frozen, self.frozen_timeout_s):
            raise FaultError(f"freeze {self.target()}: the kernel does not report every pod's "
                             f"cgroup frozen {self.frozen_timeout_s:g} s on")
        return {"frozen": [p.member for p in self.pods]}

    def undo(self, env: KindEnv) -> str:
        thawed = []
        for pod in self.pods:
            cgroup = pod_cgroup(env, pod)
            if cgroup is None:
                continue  # the pod is gone: nothing left frozen
            _write_freeze(env, pod, cgroup, 0)
            if _frozen(env, pod, cgroup):
                raise FaultError(f"thaw {pod.member}: {cgroup} still frozen")
            thawed.append(pod.member)
        return f"thawed {', '.join(thawed) or 'nothing (the pods are gone)'}"
