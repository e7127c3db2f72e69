"""LocalPlatform: the Platform interface and its capabilities over the supervisor daemon,
nftables, the fault proxy and HAProxy's runtime API.

``up`` sweeps whatever a crashed earlier run left, writes the topology, starts the supervisor
detached and waits for every member to be healthy. ``down`` undoes every fault, asks the
supervisor to stop and then sweeps by the state file anyway (recorded process groups, nft
tables), so it works after a crash too. Every fault goes through the ledger (``ledger.py``).
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

from gameday.errors import FaultError, PlatformError
from gameday.platforms.base import (
    EDGE,
    REGION_BLOCKS,
    REGIONS,
    Direction,
    EdgeEntry,
    Member,
    MemberState,
    Progress,
    StackRequest,
    ToxicSpec,
    check_region,
)
from gameday.platforms.local import control, nft
from gameday.platforms.local.database import (
    region_uids,
    unreachable_paths,
)
from gameday.platforms.local.dbfaults import DatabaseFaults
from gameday.platforms.local.edge import HaproxyAdmin, render_haproxy_config
from gameday.platforms.local.edgeconfig import (
    audit_log_path,
    edge_config,
    region_map_text,
    write_nginx_files,
)
from gameday.platforms.local.faults import (
    BrokenModel,
    FaultRecord,
    LinkToxics,
    MemberHold,
    MemberRef,
    NftTable,
    ProxyRef,
    RegionHold,
    Toxic,
)
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.inputdrift import InputDriftFaults
from gameday.platforms.local.ledger import Ledger
from gameday.platforms.local.owner import Owner
from gameday.platforms.local.prometheus import (
    prometheus_binary,
    prometheus_config,
    prometheus_data_dir,
)
from gameday.platforms.local.releases import ReleaseFaults
from gameday.platforms.local.repositoryfaults import RepositoryFaults
from gameday.platforms.local.scaling import scale_component
from gameday.platforms.local.servingload import ServingLoadFaults
from gameday.platforms.local.state import (
    MemberStatus,
    State,
    kill_group,
    pid_file_processes,
    signal_processes,
)
from gameday.platforms.local.topology import Topology, build_topology, proxies_config
from gameday.platforms.local.volumes import unmount_volumes
from gameday.platforms.local.waf import missing_parts as missing_waf_parts
from gameday.platforms.local.waf import read_audit_log
from gameday.records import EdgeServerSample

__all__ = ["LocalPlatform"]

_UP_TIMEOUT_S = 180.0
_REPO = Path(__file__).resolve().parents[3]


def _quiet(_: str) -> None:
    return None


def _member(status: MemberStatus) -> Member:
    spec = status.spec
    return Member(name=spec.name, region=spec.region, stack=spec.stack,
                  component=spec.component, address=spec.address, port=spec.port,
                  pid=status.pid, state=status.state, ports=dict(spec.ports))


class LocalPlatform(DatabaseFaults, RepositoryFaults, ServingLoadFaults, ReleaseFaults,
                    InputDriftFaults):
    name = "local"

    def __init__(self, home: LocalHome, *, repo: Path | None = None) -> None:
        self.home = home
        self.repo = repo or _REPO
        self.artifacts = self.repo / "artifacts"
        self.ledger = Ledger(home, self.proxy_api_url)

    def experiment_configuration(self) -> dict[str, str]:
        return {"gameday_platform": self.name, "gameday_home": str(self.home.root)}

    def prometheus_url(self) -> str | None:
        topology = Topology.load(self.home)
        return topology.prometheus_url if topology else None

    # -- lifecycle ---------------------------------------------------------------------------
    def up(self, request: StackRequest, *, progress: Progress = _quiet,
           tie_to_caller: bool = False) -> None:
        if self.is_up():
            raise PlatformError(f"already up (home {self.home.root}); run `gameday down` first")
        swept = self.sweep()
        if swept:
            progress(f"cleaned up after an earlier run: {', '.join(swept)}")
        haproxy, prometheus = self._binaries()
        self._check_prerequisites(haproxy, prometheus)
        self.home.logs.mkdir(parents=True, exist_ok=True)
        topology = build_topology(request, home=self.home.root, repo=self.repo,
                                  artifacts=self.artifacts, haproxy=haproxy,
                                  owner=Owner.me() if tie_to_caller else None,
                                  prometheus=prometheus)
        _check_ports_free(topology)
        closed = unreachable_paths(topology, [self.home.root, self.repo,
                                              Path(sysconfig.get_paths()["purelib"])])
        if closed:
            raise PlatformError(f"a member's user cannot reach what it runs or writes: "
                                f"{'; '.join(closed)}; the home (--home), the checkout and its "
                                ".venv must be in folders that user may enter (not under a "
                                "mode-700 folder such as /root or a pytest tmp dir)")
        (self.home.root / "regions.map").write_text(region_map_text(topology))
        (self.home.root / "haproxy.cfg").write_text(
            render_haproxy_config(edge_config(topology, self.home)))
        write_nginx_files(topology, self.home.root)
        (self.home.root / "prometheus.yml").write_text(
            prometheus_config(topology.ports.resources))
        # a fresh TSDB: an earlier stand-up's series, cut off without staleness markers when
        # it went down, would read as present for Prometheus's 5-minute lookback (seen: a
        # replica of the run before counted as up during the next run's first minutes)
        shutil.rmtree(prometheus_data_dir(self.home.root), ignore_errors=True)
        (self.home.root / "proxies.json").write_text(
            json.dumps(proxies_config(topology.links), indent=2))
        topology.save(self.home)
        progress(f"starting {len(topology.processes)} processes "
                 f"(stacks: {', '.join(request.stacks)}, {request.replicas} replicas per region)")
        self._start_supervisor()
        self._wait_ready(progress)

    def check_prerequisites(self) -> None:
        """Checked only when the platform is down: a platform already up has what it runs."""
        if not self.is_up():
            self._check_prerequisites(*self._binaries())

    @staticmethod
    def _binaries() -> tuple[str, str | None]:
        return shutil.which("haproxy") or "/usr/sbin/haproxy", prometheus_binary()

    def _check_prerequisites(self, haproxy: str, prometheus: str | None) -> None:
        if not Path(haproxy).exists():
            raise PlatformError("haproxy is not installed; run `make setup` (it installs the "
                                "Debian package haproxy)")
        if prometheus is None:
            raise PlatformError("prometheus is not installed; run `make setup` (it installs "
                                "the Debian package prometheus)")
        if missing := missing_waf_parts():
            raise PlatformError(f"the edge's WAF needs {', '.join(missing)}; run `make setup` "
                                "(it installs the Debian packages)")
        if not (self.artifacts / "mlflow" / "mlflow.db").exists():
            raise PlatformError(f"no model registry at {self.artifacts}/mlflow; run `make setup` "
                                "(it trains and registers the fraud model)")

    def _start_supervisor(self) -> None:
        with self.home.supervisor_log.open("ab") as log:
            subprocess.Popen(
                [sys.executable, "-m", "gameday.platforms.local.supervisor", "--home",
                 str(self.home.root)],
                cwd=self.repo, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)

    def _wait_ready(self, progress: Progress) -> None:
        deadline = time.monotonic() + _UP_TIMEOUT_S
        seen: dict[str, str] = {}
        while time.monotonic() < deadline:
            try:
                state = State.model_validate(control.call(self.home, "status", timeout_s=5))
            except control.SupervisorUnreachable:
                state = State.load(self.home) or State()
                if state.error:
                    raise PlatformError(f"stand-up failed: {state.error}") from None
                if state.supervisor and not state.supervisor.alive():
                    raise PlatformError(f"supervisor exited; see {self.home.supervisor_log}") \
                        from None
                time.sleep(0.1)
                continue
            for status in state.members:
                spec = status.spec
                if seen.get(spec.name) != status.state:
                    seen[spec.name] = status.state
                    progress(f"{spec.name:<16} {spec.address}:{spec.port:<6} {status.state}")
            if state.error:
                raise PlatformError(f"stand-up failed: {state.error}")
            if state.ready:
                return
            time.sleep(0.1)
        self.down()
        raise PlatformError(f"stand-up did not finish within {_UP_TIMEOUT_S:.0f} s")

    def is_up(self) -> bool:
        try:
            return bool(control.call(self.home, "status", timeout_s=5)["ready"])
        except PlatformError:
            return False

    def down(self, *, progress: Progress = _quiet) -> list[str]:
        cleaned: list[str] = []
        if self.is_up():
            try:
                cleaned.extend(f"rolled back: {line}" for line in self.reset_faults())
            except FaultError as exc:  # stopping the processes ends most faults anyway
                cleaned.append(str(exc))
        state = State.load(self.home)
        try:
            control.call(self.home, "shutdown", timeout_s=5)
            deadline = time.monotonic() + 30
            while state and state.supervisor and state.supervisor.alive() \
                    and time.monotonic() < deadline:
                time.sleep(0.1)
            progress("supervisor stopped every process")
        except PlatformError:
            pass
        cleaned.extend(self.sweep())
        for line in cleaned:
            progress(f"cleaned: {line}")
        return cleaned

    def sweep(self) -> list[str]:
        """Remove whatever the state file says is still there: process groups, faults, nft
        tables, files. Safe after any crash."""
        cleaned: list[str] = []
        try:
            state = State.load(self.home)
        except PlatformError as exc:
            state = None
            cleaned.append(f"unreadable state file set aside ({exc})")
            self.home.state.replace(self.home.state.with_suffix(".unreadable"))
        if state is not None:
            cleaned.extend(self._sweep_state(state))
        if nft.nft_usable()[0]:
            for table in nft.list_tables(prefix="gameday"):
                nft.remove(table)
                cleaned.append(f"nft table {table}")
        for path in (self.home.state, self.home.socket):
            path.unlink(missing_ok=True)
        return cleaned

    def _sweep_state(self, state: State) -> list[str]:
        cleaned = []
        if state.supervisor and state.supervisor.alive():
            kill_group(state.supervisor.pid, state.supervisor.create_time)
            cleaned.append(f"supervisor (pid {state.supervisor.pid})")
        for status in state.members:
            if kill_group(status.pgid, status.create_time):
                cleaned.append(f"process group of {status.spec.name} (pid {status.pid})")
            for path in unmount_volumes(status.spec):
                cleaned.append(f"volume {path}")
            orphans = pid_file_processes(status.spec)
            if orphans:
                signal_processes(orphans, signal.SIGKILL)
                cleaned.append(f"{len(orphans)} processes of {status.spec.name}'s pid files")
        ctx = self.ledger.context()
        for record in sorted(state.faults, key=lambda r: -r.injected_s):
            try:
                cleaned.append(record.fault.undo(ctx))
            except Exception as exc:  # the rest of the sweep must still happen
                cleaned.append(f"could not undo {record.describe()}: {exc}")
        return cleaned

    # -- where things are ---------------------------------------------------------------------
    def topology(self) -> Topology:
        topology = Topology.load(self.home)
        if topology is None:
            raise PlatformError(
                f"the local platform is not up: no topology at {self.home.topology}. If it "
                "is up elsewhere, point at its home: `--home DIR` or GAMEDAY_HOME=DIR (for "
                "plain `chaos run`, GAMEDAY_HOME or the experiment configuration key "
                "gameday_home); else run `gameday up`")
        return topology

    def state(self) -> State:
        try:
            return State.model_validate(control.call(self.home, "status", timeout_s=5))
        except control.SupervisorUnreachable:
            return State.load(self.home) or State()

    def members(self, *, region: str | None = None, stack: str | None = None,
                component: str | None = None) -> list[Member]:
        members = [_member(status) for status in self.state().members]
        return [m for m in members if (region is None or m.region == region)
                and (stack is None or m.stack == stack)
                and (component is None or m.component == component)]

    def _served(self, region: str, stack: str | None = None) -> list[Member]:
        """Members in ``region`` that the edge routes to (what an outage must take down)."""
        routed = {(r.stack, r.component) for r in self.topology().routes}
        return [m for m in self.members(region=region, stack=stack)
                if (m.stack, m.component) in routed]

    def edge_url(self, stack: str, entry: EdgeEntry = "edge") -> str:
        topology = self.topology()
        url = topology.edge_entry_url(stack, entry)
        if url is None:
            raise PlatformError(f"stack {stack!r} is not up; up: {', '.join(topology.edge_urls)}")
        return url

    def primary_region(self) -> str:
        return self.topology().primary_region

    # -- faults ---------------------------------------------------------------------------------
    def faults_in_force(self) -> list[str]:
        return [record.describe() for record in self.ledger.records()]

    def reset_faults(self) -> list[str]:
        """Undo every fault in the ledger (each by its own undo) and anything the fault proxy
        still holds; the ledger is empty afterwards."""
        undone = self.ledger.undo(lambda record: True)
        for member in self.members():
            if member.state in (MemberState.HELD_DOWN, MemberState.FROZEN) \
                    and member.region in REGIONS:
                undone.append(RegionHold(region=member.region).undo(self.ledger.context()))
        return sorted(set(undone))

    # -- RegionControl -------------------------------------------------------------------------
    def stop_region(self, region: str, *, freeze: bool) -> list[Member]:
        check_region(region)
        refs = tuple(MemberRef(name=m.name, address=m.address, ports=m.ports)
                     for m in self.members(region=region))
        self.ledger.inject(RegionHold(region=region, freeze=freeze, members=refs))
        return self.members(region=region)

    def restore_region(self, region: str) -> list[Member]:
        check_region(region)
        self.ledger.undo(lambda r: isinstance(r.fault, RegionHold) and r.fault.region == region)
        if any(m.state in (MemberState.HELD_DOWN, MemberState.FROZEN)
               for m in self.members(region=region)):
            RegionHold(region=region).undo(self.ledger.context())
        return self.members(region=region)

    def stop_members(self, names: list[str], *, freeze: bool) -> list[Member]:
        by_name = {m.name: m for m in self.members()}
        unknown = sorted(set(names) - set(by_name))
        if unknown or not names:
            raise FaultError(f"no member(s) {unknown or names}; have {sorted(by_name)}")
        refs = tuple(MemberRef(name=n, address=by_name[n].address, ports=by_name[n].ports)
                     for n in names)
        self.ledger.inject(MemberHold(members=refs, freeze=freeze))
        return [m for m in self.members() if m.name in names]

    def restore_members(self, names: list[str]) -> list[Member]:
        self.ledger.undo(lambda r: isinstance(r.fault, MemberHold)
                         and set(r.fault.names) & set(names) != set())
        return [m for m in self.members() if m.name in names]

    def kill_member(self, name: str) -> Member:
        return _member(MemberStatus.model_validate(control.call(self.home, "kill", name=name)))

    # -- LinkControl ---------------------------------------------------------------------------
    def proxy_api_url(self) -> str:
        return self.topology().proxy_api_url

    def link_proxies(self, region: str, stack: str | None = None) -> list[str]:
        return [link.proxy for link in self.topology().links
                if link.region == region and (stack is None or link.stack == stack)]

    def add_link_toxic(self, region: str, toxic: ToxicSpec, *, stack: str | None = None,
                       link: str | None = None) -> dict[str, Any]:
        check_region(region)
        proxies = tuple(ProxyRef(name=k.proxy, listen=k.listen, protocol=k.protocol)
                        for k in self.topology().links
                        if k.region == region and (stack is None or k.stack == stack)
                        and (link is None or k.name == link))
        if not proxies:
            raise FaultError(f"no fault-proxy link{f' {link!r}' if link else ''} into {region}")
        fault = LinkToxics(region=region, proxies=proxies, toxic=Toxic(
            name=toxic.name, type=toxic.type, stream=toxic.stream,
            attributes=toxic.attributes, toxicity=toxic.toxicity))
        return self.ledger.inject(fault)

    def remove_link_toxic(self, region: str, name: str, *, stack: str | None = None) -> int:
        """How many links the toxic was removed from."""
        def chosen(record: FaultRecord) -> bool:
            return isinstance(record.fault, LinkToxics) and record.fault.region == region \
                and record.fault.toxic.name == name

        links = sum(len(r.fault.proxies) for r in self.ledger.records()
                    if chosen(r) and isinstance(r.fault, LinkToxics))
        self.ledger.undo(chosen)
        return links

    # -- NetworkControl ------------------------------------------------------------------------
    def isolation_available(self) -> tuple[bool, str]:
        return nft.nft_usable()

    def isolate_region(self, region: str, direction: Direction) -> dict[str, object]:
        check_region(region)
        usable, reason = nft.nft_usable()
        if not usable:
            raise FaultError(f"nftables is not usable here: {reason}")
        # a routed member where there is one; else any (a database region has no route)
        inside = self._served(region) or self.members(region=region)
        outside = self.members(region=EDGE)
        if not inside or not outside:
            raise FaultError(f"cannot observe isolation of {region}: no member to probe")
        return self.ledger.inject(NftTable(
            table=f"gameday_iso_{region.replace('-', '_')}", region=region,
            block=REGION_BLOCKS[region], direction=direction,
            region_uids=region_uids(self.topology(), region),
            inside=(inside[0].address, inside[0].port),
            outside=(outside[0].address, outside[0].port)))

    def heal_region(self, region: str) -> dict[str, object]:
        check_region(region)
        undone = self.ledger.undo(lambda r: isinstance(r.fault, NftTable)
                                  and r.fault.region == region)
        nft.remove(f"gameday_iso_{region.replace('-', '_')}")
        return {"region": region, "undone": undone}

    # -- ModelControl --------------------------------------------------------------------------
    def break_model(self, region: str, stack: str, model_uri: str) -> dict[str, Any]:
        check_region(region)
        definition = self.topology().request.stack(stack)
        if not definition.model_admin_path or not definition.restore_model_uri \
                or not definition.probe_request:
            raise FaultError(f"stack {stack} declares no model_admin_path, restore_model_uri "
                             "and probe_request: it cannot hot-load a model")
        members = tuple(MemberRef(name=m.name, address=m.address, ports=m.ports)
                        for m in self._served(region, stack))
        if not members:
            raise FaultError(f"no {stack} member in {region}")
        probe = definition.probe_request
        return self.ledger.inject(BrokenModel(
            region=region, stack=stack, members=members, model_uri=model_uri,
            admin_path=definition.model_admin_path, restore_uri=definition.restore_model_uri,
            probe_path=definition.endpoints[probe.endpoint], probe_body=probe.body))

    def restore_model(self, region: str, stack: str) -> dict[str, Any]:
        undone = self.ledger.undo(lambda r: isinstance(r.fault, BrokenModel)
                                  and r.fault.region == region and r.fault.stack == stack)
        return {"region": region, "stack": stack, "undone": undone}

    # -- ScaleControl --------------------------------------------------------------------------
    def scale(self, stack: str, component: str, region: str, members: int) -> list[Member]:
        check_region(region)
        scale_component(self.home, self.ledger, self.topology(), stack, component, region,
                        members)
        return self.members(region=region, stack=stack, component=component)

    # -- WafLog --------------------------------------------------------------------------------
    def waf_entries(self, since_s: float) -> list[dict[str, Any]]:
        topology = self.topology()
        return [entry.as_json() for entry in read_audit_log(
            audit_log_path(self.home.root), since_s=since_s,
            mode=topology.request.edge.waf.mode)]

    # -- EdgeObserver --------------------------------------------------------------------------
    def edge_server_states(self) -> list[EdgeServerSample]:
        topology = self.topology()
        regions = {spec.name: spec.region for spec in topology.processes}
        admin = HaproxyAdmin(self.home.haproxy_socket)
        now_s = time.time()
        return [EdgeServerSample(t_s=now_s, backend=route.path, server=state.name,
                                 region=regions.get(state.name, ""), up=state.operational,
                                 admin=state.admin_state, check=state.check_status)
                for route in topology.routes for state in admin.server_states(route.path)]


def _check_ports_free(topology: Topology) -> None:
    """Refuse to start over ports someone else listens on: a member's health check would
    else be answered by the stranger, and faults would hit the wrong process."""
    taken = []
    listeners = [f"{s.address}:{port}" for s in topology.processes for port in s.ports.values()]
    listeners += [link.listen for link in topology.links]
    for listener in listeners:
        address, port = listener.rsplit(":", 1)
        with socket.socket() as probe:
            # SO_REUSEADDR as the servers set it: a TIME_WAIT leftover is not a listener
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((address, int(port)))
            except OSError:
                taken.append(listener)
    if taken:
        raise PlatformError(f"ports already in use: {', '.join(taken)}; is another gameday "
                            "platform up (another --home)? `gameday down --home DIR` it first")
