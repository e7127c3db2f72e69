"""KindPlatform: the Platform interface over two kind clusters, the containers beside them and
the fault capabilities of ``KindFaults``.

``up`` checks the kube contexts against the blast-radius guard and the binaries and Docker
daemon it needs before it runs anything, then runs the plan (plan.py) and waits through each
region's KubeApi until every workload is ready. ``down`` undoes every fault and removes the
containers and the clusters. Every command goes through ``env.runner``; every cluster call
through ``env.kube``, whose contexts the guard has checked.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gameday.errors import ConfigError, GamedayError, PlatformError
from gameday.platforms.base import (
    PRIMARY_REGION,
    REGIONS,
    EdgeEntry,
    Member,
    Progress,
    StackRequest,
)
from gameday.platforms.kind.commands import (
    CommandRunner,
    PrintingRunner,
    SubprocessRunner,
    require_binaries,
)
from gameday.platforms.kind.containers import CONTAINERS_DIR, create_proxy, load_containers
from gameday.platforms.kind.database import KindDatabase
from gameday.platforms.kind.edgefiles import EDGE_PORTS, edge_runs, render_edge, write_edge_files
from gameday.platforms.kind.edgeview import KindEdgeView
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.faults import KindFaults
from gameday.platforms.kind.kube import KubeApi, kube_for
from gameday.platforms.kind.layout import CLUSTERS_DIR, NODE_PORTS, context_name, host_port
from gameday.platforms.kind.plan import (
    Command,
    KindRequest,
    ProxyCall,
    Step,
    components_for,
    down_plan,
    links_for,
    up_plan,
    write_component_overlays,
)
from gameday.platforms.kind.state import KindState, LinkRecord
from gameday.stacks import load_stack

__all__ = ["ContextGuard", "KindPlatform", "open_kind", "own_contexts_only"]

ContextGuard = Callable[[str], None]
_REPO = CLUSTERS_DIR.parent
_READY_TIMEOUT_S = 900.0
_COMMAND_TIMEOUT_S = 1800.0  # a first image build or the Triton pull takes long
_PROMETHEUS = ("metrics", "prometheus", "http")


def _quiet(_: str) -> None:
    return None


def own_contexts_only(context: str) -> None:
    """The guard without a suite: the kind platform's own clusters' contexts only (a suite's
    ``blast_radius.kube_contexts`` widen it: gameday.blast_radius.check_kube_context)."""
    own = [context_name(region) for region in REGIONS]
    if context not in own:
        raise ConfigError(f"kube context {context!r} is not the kind platform's own "
                          f"({', '.join(own)}): gameday acts only on the clusters a suite "
                          "names (blast_radius.kube_contexts)", field="kube context")


class KindPlatform(KindFaults, KindDatabase, KindEdgeView):
    name = "kind"

    def __init__(self, env: KindEnv, *, check_context: ContextGuard = own_contexts_only,
                 contexts: Mapping[str, str] | None = None, root: Path = _REPO,
                 post_proxy: Callable[[ProxyCall], None] = create_proxy,
                 ready_timeout_s: float = _READY_TIMEOUT_S) -> None:
        self.contexts = dict(contexts or {region: context_name(region) for region in REGIONS})
        self.check_context = check_context
        self.root = root  # the checkout the plan's paths are relative to
        self.post_proxy = post_proxy
        self.ready_timeout_s = ready_timeout_s
        self._raw_kube = env.kube
        super().__init__(dataclasses.replace(env, kube=self._kube))

    # -- the blast-radius guard ------------------------------------------------------------
    def check_contexts(self) -> None:
        """Every region's context, before any kubectl or KubeApi use."""
        for region in REGIONS:
            self.check_context(self.contexts[region])

    def _kube(self, region: str) -> KubeApi:
        self.check_context(self.contexts[region])
        api = self._raw_kube(region)
        if api.context != self.contexts[region]:
            self.check_context(api.context)
        return api

    def experiment_configuration(self) -> dict[str, str]:
        return {"gameday_platform": self.name, "gameday_home": str(self.env.home)}

    def prometheus_url(self) -> str | None:
        """Region-a's Prometheus (it scrapes both regions), at its host port."""
        if not self.is_up():
            return None
        return f"http://127.0.0.1:{host_port(PRIMARY_REGION, NODE_PORTS[_PROMETHEUS])}"

    # -- lifecycle -------------------------------------------------------------------------
    def kind_request(self, request: StackRequest, *, uid: int, gid: int) -> KindRequest:
        return KindRequest(
            stacks=request.stacks, components=components_for(request.stacks, request.settings),
            containers=tuple(load_containers(CLUSTERS_DIR / CONTAINERS_DIR)),
            edge_runs=edge_runs(self.env.home, uid=uid, gid=gid))

    def plan(self, request: StackRequest, existing: tuple[str, ...] = ()) -> list[Step]:
        kind = self.kind_request(request, uid=os.getuid(), gid=os.getgid())
        return up_plan(kind, root=self.root, home=self.env.home, existing=existing)

    def dry_run(self, request: StackRequest, emit: Callable[[str], None]) -> None:
        """Print the up plan (every cluster taken as absent), each step after its why."""
        self.check_contexts()
        printer = PrintingRunner(emit)
        for step in self.plan(request):
            emit(f"# {step.why}")
            if isinstance(step, Command):
                printer.run(step.argv)
            else:
                emit(step.line)
        emit(f"# then: every workload ready in both regions (KubeApi), within "
             f"{self.ready_timeout_s:g} s")

    def up(self, request: StackRequest, *, progress: Progress = _quiet,
           tie_to_caller: bool = False) -> None:
        """``tie_to_caller`` is not honoured here: the clusters outlive a caller that dies
        (``gameday down --platform kind`` removes them)."""
        self.check_contexts()
        self.check_prerequisites()
        earlier = KindState.load(self.env.home)
        if earlier is not None and earlier.ready:
            raise PlatformError(f"already up (home {self.env.home}); run `gameday down` first")
        if earlier is not None:  # a stand-up that failed: its containers would hold the names
            progress("removing the containers an earlier, failed stand-up left")
            self.env.runner.run(down_plan(earlier.containers)[0].argv, check=False)
        listed = self.env.runner.run(("kind", "get", "clusters")).stdout.split()
        steps = self.plan(request, existing=tuple(listed))
        state = self._prepare(request, steps)
        for step in steps:
            progress(step.why)
            self._execute(step)
        self._scale_routed(request)
        self._wait_ready(progress)
        state.ready = True
        state.save(self.env.home)

    def check_prerequisites(self) -> None:
        require_binaries(["kind", "docker", "kubectl"])
        info = self.env.runner.run(("docker", "info", "--format", "{{.ServerVersion}}"),
                                   check=False, timeout_s=30)
        if info.returncode != 0:
            said = (info.stderr.strip() or info.stdout.strip()).splitlines()
            raise ConfigError("the Docker daemon is not running, or this user may not reach "
                              "it: start it (`sudo systemctl start docker`) or join the "
                              "`docker` group; `docker info` said: "
                              + (said[0] if said else f"exit {info.returncode}"))

    def _prepare(self, request: StackRequest, steps: list[Step]) -> KindState:
        """The edge's files, the GPU overlay and the state file (not ready yet), so a failed
        stand-up is still torn down by ``down``."""
        home = self.env.home
        links = links_for(request.stacks)
        write_edge_files(render_edge(request, home, links), home)
        kind = self.kind_request(request, uid=os.getuid(), gid=os.getgid())
        write_component_overlays(home, self.root, kind.components)
        state = KindState(
            stacks=list(request.stacks), replicas=request.replicas,
            components=[f"{stack}/{part}" for stack, part in kind.components],
            containers=[c.name for c in kind.containers if c.wanted(request.stacks)],
            links=[LinkRecord.of(link) for link in links],
            edge_ports=EDGE_PORTS, waf_mode=request.edge.waf.mode,
            edge_urls={stack: f"http://127.0.0.1:{EDGE_PORTS.edge}/{route.path}"
                       for stack in request.stacks for route in load_stack(stack).routes
                       if route.mode == "http"})
        state.save(home)
        return state

    def _execute(self, step: Step) -> None:
        if isinstance(step, Command):
            self.env.runner.run(step.argv, timeout_s=_COMMAND_TIMEOUT_S)
        else:
            self.post_proxy(step)

    def _scale_routed(self, request: StackRequest) -> None:
        """The routed Deployments at the request's replicas (the manifests' own count is a
        default); the database and etcd keep theirs."""
        routed = {(s, r.component) for s in request.stacks for r in load_stack(s).routes}
        for region in REGIONS:
            api = self.env.kube(region)
            for workload in api.workloads():
                if workload.kind == "Deployment" and workload.replicas != request.replicas \
                        and (workload.stack, workload.component) in routed:
                    api.scale(workload.kind, workload.name, request.replicas)

    def _wait_ready(self, progress: Progress) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        said = ""
        while True:
            waiting = self._not_ready()
            if not waiting:
                progress("every workload is ready in both regions")
                return
            line = "waiting for " + ", ".join(waiting)
            if line != said:
                progress(line)
                said = line
            if time.monotonic() > deadline:
                raise PlatformError(f"not ready within {self.ready_timeout_s:g} s: "
                                    + ", ".join(waiting))
            time.sleep(2.0)

    def _not_ready(self) -> list[str]:
        waiting = []
        for region in REGIONS:
            workloads = self.env.kube(region).workloads()
            if not workloads:
                waiting.append(f"{region}: no workloads yet")
            waiting += [f"{region}/{w.name} {w.ready_replicas}/{w.replicas}"
                        for w in workloads if w.ready_replicas < w.replicas]
        return waiting

    def down(self, *, progress: Progress = _quiet) -> list[str]:
        state = KindState.load(self.env.home)
        if state is None and shutil.which("kind") is None:
            return []  # no stand-up of ours began (it writes its state first), none could
        require_binaries(["kind", "docker"])
        undone: list[str] = []
        if state is not None:
            try:
                undone = self.reset_faults()
            except GamedayError as exc:  # a cluster already gone: its faults went with it
                progress(f"faults not undone one by one: {exc}")
        declared = [c.name for c in load_containers(CLUSTERS_DIR / CONTAINERS_DIR)]
        for step in down_plan([*(state.containers if state else []), *declared]):
            progress(step.why)
            self.env.runner.run(step.argv, check=False, timeout_s=300)
        KindState.remove(self.env.home)
        return [*undone, "containers removed", "clusters deleted"]

    def is_up(self) -> bool:
        state = KindState.load(self.env.home)
        return state is not None and state.ready

    # -- where things are ------------------------------------------------------------------
    def members(self, *, region: str | None = None, stack: str | None = None,
                component: str | None = None) -> list[Member]:
        """The pods as members (KindFaults: frozen and cut-off regions known); none while
        nothing is up, without asking a cluster that may not exist."""
        if KindState.load(self.env.home) is None:
            return []
        return super().members(region=region, stack=stack, component=component)

    def edge_url(self, stack: str, entry: EdgeEntry = "edge") -> str:
        state = KindState.load(self.env.home)
        url = state.edge_urls.get(stack) if state else None
        if state is None or url is None:
            raise PlatformError(f"stack {stack!r} is not up on the kind platform "
                                f"(home {self.env.home}); run `gameday up --platform kind`")
        if entry == "edge":
            return url
        port = state.edge_ports.edge_no_waf if entry == "edge-no-waf" \
            else state.edge_ports.edge_haproxy
        return f"http://127.0.0.1:{port}/{url.rsplit('/', 1)[1]}"


def open_kind(home: Path, *, runner: CommandRunner | None = None,
              check_context: ContextGuard = own_contexts_only, **options: Any) -> KindPlatform:
    """The kind platform rooted at ``home``: real commands and clusters unless told."""
    def kube(region: str) -> KubeApi:
        return kube_for(context_name(region))

    env = KindEnv(home=home.resolve(), runner=runner or SubprocessRunner(), kube=kube)
    # inside the checkout its paths are relative (the commands read as the docs write them)
    root = Path(".") if Path.cwd().resolve() == _REPO else _REPO
    return KindPlatform(env, check_context=check_context, root=root, **options)
