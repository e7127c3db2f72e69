"""The kind platform's fault side (``KindFaults``, which ``KindPlatform`` extends): region
outages and freezes, member holds and kills, isolation, link toxics, scaling, the HPAs' view
and a suite's settings of them (``hpasettings``); every fault recorded in the ledger before
it is injected and verified after.

A member is a pod (``members``); see ``regionfaults``, ``podfaults`` and ``linkfaults`` for
how each fault is done on Docker and Kubernetes and how it is verified.
"""

from __future__ import annotations

from gameday.errors import FaultError, PlatformError
from gameday.platforms.base import EDGE, REGIONS, HpaState, Member, MemberState, check_region
from gameday.platforms.kind.docker import statuses
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.faultbase import HeldMember, wait_until
from gameday.platforms.kind.hpasettings import KindHpaSettings
from gameday.platforms.kind.kube import HpaView, KubeApi, PodView, WorkloadView
from gameday.platforms.kind.layout import node_containers
from gameday.platforms.kind.ledger import FaultRecord, KindLedger
from gameday.platforms.kind.members import held_member, pod_member, split_member_name
from gameday.platforms.kind.networkfaults import KindNetworkFaults
from gameday.platforms.kind.podfaults import PodFreeze, PodRef, WorkloadHold, WorkloadRef
from gameday.platforms.kind.regionfaults import NetworkCut, NodeStop

__all__ = ["KindFaults"]


class KindFaults(KindNetworkFaults, KindHpaSettings):
    # bounds of the waits that verify or undo a fault (a test makes them short)
    ready_timeout_s = 300.0  # a restored region's nodes and workloads, a scale
    gone_timeout_s = 60.0  # a held workload's pods, a killed pod
    unreachable_timeout_s = 15.0  # a stopped region's API (its read timeout is 5 s)
    frozen_timeout_s = 10.0  # the kernel's report of a frozen pod cgroup

    def __init__(self, env: KindEnv) -> None:
        self.env = env
        self.ledger = KindLedger(env)

    # -- members ------------------------------------------------------------------------------
    def members(self, *, region: str | None = None, stack: str | None = None,
                component: str | None = None) -> list[Member]:
        """Every pod of the stacks, as a member, and every member a fault holds (listed from
        the ledger: a held workload has no pods, a stopped region's API does not answer). A
        cut-off region's running pods cannot be seen: none are listed for it."""
        regions = [] if region == EDGE else [region] if region else list(REGIONS)
        records = self.ledger.records()
        frozen = {p.uid for r in records if isinstance(r.fault, PodFreeze) for p in r.fault.pods}
        down = {r.fault.region for r in records if isinstance(r.fault, NodeStop | NetworkCut)}
        found = []
        for name in regions:
            try:
                pods = self.env.kube(name).pods(stack=stack, component=component)
            except PlatformError:
                if name not in down:
                    raise
                pods = []
            found += [pod_member(name, pod, frozen=pod.uid in frozen) for pod in pods]
        listed = {m.name for m in found}
        return found + [held_member(h) for r in records for h in r.fault.held()
                        if h.region in regions and h.name not in listed
                        and stack in (None, h.stack) and component in (None, h.component)]

    def _pod(self, name: str) -> tuple[str, PodView]:
        """The region and pod of a member name (``<pod>.<region>``, or a pod name that only
        one region has)."""
        region, pod_name = split_member_name(name)
        found = [(r, pod) for r in ([region] if region else REGIONS)
                 for pod in self.env.kube(r).pods() if pod.name == pod_name]
        if len(found) != 1:
            raise FaultError(f"member {name!r}: {len(found)} pods match; members are "
                             f"{sorted(m.name for m in self.members())}")
        return found[0]

    # -- FaultView ----------------------------------------------------------------------------
    def faults_in_force(self) -> list[str]:
        return [record.describe() for record in self.ledger.records()]

    def reset_faults(self) -> list[str]:
        """Undo every fault in the ledger (each by its own undo), then any toxic left on the
        platform's links; the ledger is empty afterwards."""
        undone = self.ledger.undo(lambda record: True)
        return sorted(set(undone + self.sweep_link_toxics()))

    def roll_back_orphans(self) -> list[str]:
        return self.ledger.roll_back_orphans()

    # -- RegionControl ------------------------------------------------------------------------
    def stop_region(self, region: str, *, freeze: bool) -> list[Member]:
        check_region(region)
        state = MemberState.FROZEN if freeze else MemberState.HELD_DOWN
        held = tuple(HeldMember(name=m.name, region=region, stack=m.stack,
                                component=m.component, state=state)
                     for m in self.members(region=region))
        self.ledger.inject(NodeStop(region=region, nodes=node_containers(region), freeze=freeze,
                                    held_members=held,
                                    unreachable_timeout_s=self.unreachable_timeout_s,
                                    ready_timeout_s=self.ready_timeout_s))
        return [held_member(h) for h in held]

    def restore_region(self, region: str) -> list[Member]:
        """Undo the region's outage; nodes down without a record (a crash between ``docker
        stop`` and the record cannot happen, a hand-made one can) are brought back too."""
        check_region(region)
        self.ledger.undo(lambda r: isinstance(r.fault, NodeStop) and r.fault.region == region)
        nodes = node_containers(region)
        if any(s != "running" for s in statuses(self.env.runner, nodes).values()):
            NodeStop(region=region, nodes=nodes,
                     ready_timeout_s=self.ready_timeout_s).undo(self.env)
        return self.members(region=region)

    def stop_members(self, names: list[str], *, freeze: bool) -> list[Member]:
        if not names:
            raise FaultError("stop_members: no member named")
        pods = [(name, *self._pod(name)) for name in names]
        if freeze:
            unplaced = [name for name, _, pod in pods if not pod.node]
            if unplaced:
                raise FaultError(f"freeze {unplaced}: not scheduled on a node yet")
            self.ledger.inject(PodFreeze(pods=tuple(
                PodRef(member=name, region=region, stack=pod.stack, component=pod.component,
                       name=pod.name, uid=pod.uid,
                       node=str(pod.node)) for name, region, pod in pods),
                frozen_timeout_s=self.frozen_timeout_s))
        else:
            self.ledger.inject(WorkloadHold(workloads=self._whole_workloads(pods),
                                            gone_timeout_s=self.gone_timeout_s,
                                            ready_timeout_s=self.ready_timeout_s))
        state = MemberState.FROZEN if freeze else MemberState.HELD_DOWN
        return [pod_member(region, pod, state=state) for _, region, pod in pods]

    def _whole_workloads(self, pods: list[tuple[str, str, PodView]]) -> tuple[WorkloadRef, ...]:
        """The workloads whose every pod is named; FaultError if some are left out."""
        held = []
        for region, stack, component in sorted({(r, p.stack, p.component) for _, r, p in pods}):
            kube = self.env.kube(region)
            workload = _workload(kube, region, stack, component)
            all_pods = {p.name for p in kube.pods(stack=stack, component=component)}
            named = {p.name for _, r, p in pods if r == region and p.component == component
                     and p.stack == stack}
            if named != all_pods:
                raise FaultError(
                    f"on kind a pod cannot be held down alone: its {workload.kind} "
                    f"{workload.name} recreates it at once. Hold all of {sorted(all_pods)} "
                    f"(the whole component), freeze it, or kill it (kill_member)")
            held.append(WorkloadRef(region=region, kind=workload.kind, name=workload.name,
                                    stack=stack, component=component,
                                    replicas=workload.replicas, members=tuple(
                                        n for n, r, p in pods if p.name in named and r == region)))
        return tuple(held)

    def restore_members(self, names: list[str]) -> list[Member]:
        def chosen(record: FaultRecord) -> bool:
            return isinstance(record.fault, WorkloadHold | PodFreeze) \
                and bool(set(record.fault.members()) & set(names))

        places = {(w.region, w.stack, w.component) for r in self.ledger.records() if chosen(r)
                  and isinstance(r.fault, WorkloadHold) for w in r.fault.workloads}
        self.ledger.undo(chosen)
        return [m for m in self.members() if m.name in names
                or (m.region, m.stack, m.component) in places]

    def kill_member(self, name: str) -> Member:
        """Delete the member's pod with no grace period; returns once its uid is gone (its
        controller starts a new pod, under a new uid)."""
        region, pod = self._pod(name)
        kube = self.env.kube(region)
        kube.delete_pod(pod.name, grace_period_s=0)

        def gone() -> bool:
            return pod.uid not in {p.uid for p in kube.pods(stack=pod.stack,
                                                            component=pod.component)}

        if not wait_until(gone, self.gone_timeout_s):
            raise FaultError(f"kill {name}: pod uid {pod.uid} still listed "
                             f"{self.gone_timeout_s:g} s after its deletion")
        return pod_member(region, pod, state=MemberState.EXITED)

    # -- ScaleControl and the autoscaling view ------------------------------------------------
    def scale(self, stack: str, component: str, region: str, members: int) -> list[Member]:
        """Through the workload's scale subresource; returns once exactly ``members`` replicas
        are ready. Refused where an HPA scales the workload (it would undo the change)."""
        check_region(region)
        if members < 0:
            raise FaultError(f"scale {stack}.{component}: {members} members")
        kube = self.env.kube(region)
        workload = _workload(kube, region, stack, component)
        governors = [h.name for h in kube.hpas() if h.target == workload.name]
        if governors:
            raise FaultError(f"{workload.kind} {workload.name} in {region} is scaled by its "
                             f"HorizontalPodAutoscaler {', '.join(governors)}: a manual scale "
                             "would be overridden (on kind the HPA is the autoscaler)")
        kube.scale(workload.kind, workload.name, members)
        if not wait_until(lambda: _settled(kube, workload, members), self.ready_timeout_s, 0.2):
            seen = _workload(kube, region, stack, component)
            kube.scale(workload.kind, workload.name, workload.replicas)
            raise FaultError(f"scale {workload.name} in {region} to {members}: "
                             f"{seen.ready_replicas} ready of {seen.replicas} after "
                             f"{self.ready_timeout_s:g} s; scaled back to {workload.replicas}")
        return self.members(region=region, stack=stack, component=component)

    def hpa_states(self, region: str) -> list[HpaState]:
        """The region's HorizontalPodAutoscalers as the cluster reports them (status), each
        with the ready pods of the workload it scales."""
        check_region(region)
        kube = self.env.kube(region)
        workloads = {w.name: w for w in kube.workloads()}
        return [_hpa_state(hpa, workloads[hpa.target], region) for hpa in kube.hpas()
                if hpa.target in workloads]


def _hpa_state(hpa: HpaView, workload: WorkloadView, region: str) -> HpaState:
    return HpaState(stack=workload.stack, component=workload.component, region=region,
                    current_replicas=hpa.current_replicas,
                    desired_replicas=hpa.desired_replicas,
                    ready_replicas=workload.ready_replicas,
                    current_cpu_percent=hpa.current_cpu_percent,
                    target_cpu_percent=hpa.target_cpu_percent)


def _workload(kube: KubeApi, region: str, stack: str, component: str) -> WorkloadView:
    found = [w for w in kube.workloads() if (w.stack, w.component) == (stack, component)]
    if len(found) != 1:
        raise FaultError(f"{len(found)} workloads of {stack}.{component} in {region}; "
                         f"have {sorted(w.name for w in kube.workloads())}")
    return found[0]


def _settled(kube: KubeApi, workload: WorkloadView, members: int) -> bool:
    now = next((w for w in kube.workloads() if (w.kind, w.name) == (workload.kind,
                                                                     workload.name)), None)
    return now is not None and now.replicas == members and now.ready_replicas == members
