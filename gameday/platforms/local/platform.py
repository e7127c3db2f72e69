"""LocalPlatform: the Platform interface over the supervisor daemon, nftables and the fault proxy.

``up`` sweeps whatever a crashed earlier run left, writes the topology, starts the supervisor
detached and waits for every process to be healthy. ``down`` asks the supervisor to stop and then
sweeps by the state file anyway (recorded pids, nft tables), so it works after a crash too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from gameday.errors import FaultError, PlatformError
from gameday.platforms.base import (
    EDGE,
    REGION_BLOCKS,
    REGIONS,
    Direction,
    Member,
    Progress,
    StackRequest,
)
from gameday.platforms.local import control, nft
from gameday.platforms.local.edge import HaproxyAdmin, render_haproxy_config
from gameday.platforms.local.state import (
    LocalHome,
    is_same_process,
    kill_recorded,
    process_start_time,
    read_json,
    write_json_atomic,
)
from gameday.platforms.local.topology import build_topology, proxies_config
from gameday.records import EdgeServerSample

__all__ = ["LocalPlatform"]

_UP_TIMEOUT_S = 180.0
_REPO = Path(__file__).resolve().parents[3]


def _quiet(_: str) -> None:
    return None


class LocalPlatform:
    name = "local"

    def __init__(self, home: LocalHome | None = None, *, repo: Path | None = None) -> None:
        self.home = home or LocalHome.default()
        self.repo = repo or _REPO
        self.artifacts = self.repo / "artifacts"

    # -- lifecycle ---------------------------------------------------------------------------
    def up(self, request: StackRequest, *, progress: Progress = _quiet,
           tie_to_caller: bool = False) -> None:
        if self.is_up():
            raise PlatformError(f"already up (home {self.home.root}); run `gameday down` first")
        swept = self.sweep()
        if swept:
            progress(f"cleaned up after an earlier run: {', '.join(swept)}")
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self._check_prerequisites(haproxy)
        self.home.root.mkdir(parents=True, exist_ok=True)
        self.home.logs.mkdir(exist_ok=True)
        topology = build_topology(request, home=self.home.root, repo=self.repo,
                                  artifacts=self.artifacts, haproxy=haproxy)
        (self.home.root / "haproxy.cfg").write_text(render_haproxy_config(topology.edge))
        write_json_atomic(self.home.root / "proxies.json", proxies_config(topology.links))
        write_json_atomic(self.home.topology, topology.to_json())
        progress(f"starting {len(topology.processes)} processes "
                 f"(stacks: {', '.join(request.stacks)}, {request.replicas} replicas per region)")
        self._start_supervisor()
        self._wait_ready(progress)

    def _check_prerequisites(self, haproxy: str) -> None:
        if not Path(haproxy).exists():
            raise PlatformError("haproxy is not installed; run `make setup` (it installs the "
                                "Debian package haproxy)")
        if not (self.artifacts / "mlflow" / "mlflow.db").exists():
            raise PlatformError(f"no model registry at {self.artifacts}/mlflow; run `make setup` "
                                "(it trains and registers the fraud model)")

    def _start_supervisor(self) -> None:
        log = self.home.supervisor_log.open("ab")
        subprocess.Popen(
            [sys.executable, "-m", "gameday.platforms.local.supervisor", "--home",
             str(self.home.root)],
            cwd=self.repo, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
        log.close()

    def _wait_ready(self, progress: Progress) -> None:
        deadline = time.monotonic() + _UP_TIMEOUT_S
        seen: dict[str, str] = {}
        while time.monotonic() < deadline:
            try:
                status = control.call(self.home, "status", timeout_s=5)
            except control.SupervisorUnreachable:
                state = read_json(self.home.state) or {}
                if state.get("error"):
                    raise PlatformError(f"stand-up failed: {state['error']}") from None
                if state.get("supervisor_pid") and not is_same_process(
                        state["supervisor_pid"], state.get("supervisor_create_time")):
                    raise PlatformError(f"supervisor exited; see {self.home.supervisor_log}") \
                        from None
                time.sleep(0.1)
                continue
            for member in status["members"]:
                if seen.get(member["name"]) != member["state"]:
                    seen[member["name"]] = member["state"]
                    progress(f"{member['name']:<14} {member['address']}:{member['port']:<6}"
                             f" {member['state']}")
            if status["error"]:
                raise PlatformError(f"stand-up failed: {status['error']}")
            if status["ready"]:
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
        state = read_json(self.home.state) or {}
        try:
            control.call(self.home, "shutdown", timeout_s=5)
            pid, started = state.get("supervisor_pid"), state.get("supervisor_create_time")
            deadline = time.monotonic() + 15
            while is_same_process(pid, started) and time.monotonic() < deadline:
                time.sleep(0.1)
            progress("supervisor stopped every process")
        except PlatformError:
            pass
        cleaned = self.sweep()
        for line in cleaned:
            progress(f"cleaned: {line}")
        return cleaned

    def sweep(self) -> list[str]:
        """Remove whatever the state file says is still there: processes, nft tables, files."""
        cleaned: list[str] = []
        state = read_json(self.home.state) or {}
        for member in state.get("members", []):
            if kill_recorded(member.get("pid"), member.get("create_time")):
                cleaned.append(f"process {member['name']} (pid {member['pid']})")
        if kill_recorded(state.get("supervisor_pid"), state.get("supervisor_create_time")):
            cleaned.append(f"supervisor (pid {state['supervisor_pid']})")
        if nft.nft_usable()[0]:
            for table in nft.list_tables(prefix="gameday"):
                nft.remove(table)
                cleaned.append(f"nft table {table}")
        for path in (self.home.state, self.home.socket):
            path.unlink(missing_ok=True)
        return cleaned

    def experiment_configuration(self) -> dict[str, str]:
        return {"gameday_platform": self.name, "gameday_home": str(self.home.root)}

    # -- where things are ---------------------------------------------------------------------
    def _topology(self) -> dict[str, Any]:
        topology = read_json(self.home.topology)
        if not topology:
            raise PlatformError(f"the local platform is not up (no {self.home.topology}); "
                                "run `gameday up`")
        return dict(topology)

    def members(self, *, region: str | None = None, stack: str | None = None,
                role: str | None = None) -> list[Member]:
        try:
            raw = control.call(self.home, "status", timeout_s=5)["members"]
        except control.SupervisorUnreachable:
            raw = (read_json(self.home.state) or {}).get("members", [])
        members = [Member(name=m["name"], region=m["region"], stack=m["stack"], role=m["role"],
                          address=m["address"], port=m["port"], pid=m["pid"], state=m["state"])
                   for m in raw]
        return [m for m in members if (region is None or m.region == region)
                and (stack is None or m.stack == stack) and (role is None or m.role == role)]

    def edge_url(self, stack: str) -> str:
        urls = self._topology()["edge_urls"]
        if stack not in urls:
            raise PlatformError(f"stack {stack!r} is not up; up: {', '.join(urls)}")
        return str(urls[stack])

    def primary_region(self) -> str:
        return str(self._topology()["primary_region"])

    # -- EdgeObserver ------------------------------------------------------------------------
    def edge_server_states(self) -> list[EdgeServerSample]:
        topology = self._topology()
        regions = {link["member"]: link["region"] for link in topology["links"]}
        admin = HaproxyAdmin(self.home.root / "haproxy.sock")
        now_s = time.time()
        return [EdgeServerSample(t_s=now_s, backend=stack, server=state.name,
                                 region=regions.get(state.name, ""), up=state.operational,
                                 admin=state.admin_state, check=state.check_status)
                for stack in topology["edge_urls"] for state in admin.server_states(stack)]

    # -- RegionControl -------------------------------------------------------------------------
    def stop_region(self, region: str, *, freeze: bool) -> list[Member]:
        _check_region(region)
        control.call(self.home, "stop_region", region=region, freeze=freeze, owner=_owner())
        return self.members(region=region)

    def restore_region(self, region: str) -> list[Member]:
        _check_region(region)
        control.call(self.home, "restore_region", region=region)
        return self.members(region=region)

    def kill_member(self, name: str) -> Member:
        killed = control.call(self.home, "kill", name=name)
        return Member(name=killed["name"], region=killed["region"], stack=killed["stack"],
                      role=killed["role"], address=killed["address"], port=killed["port"],
                      pid=killed["pid"], state="killed")

    # -- LinkControl ---------------------------------------------------------------------------
    def proxy_api_url(self) -> str:
        return str(self._topology()["proxy_api_url"])

    def link_proxies(self, region: str, stack: str | None = None) -> list[str]:
        return [link["proxy"] for link in self._topology()["links"]
                if link["region"] == region and (stack is None or link["stack"] == stack)]

    # -- NetworkControl ------------------------------------------------------------------------
    def isolate_region(self, region: str, direction: Direction) -> dict[str, object]:
        _check_region(region)
        usable, reason = nft.nft_usable()
        if not usable:
            raise FaultError(f"nftables is not usable here: {reason}")
        table = nft.apply(nft.isolate(REGION_BLOCKS[region], direction,
                                      table=f"gameday_iso_{region.replace('-', '_')}"))
        fault_id = self.record_fault("nft_table", name=table, region=region)
        return {"table": table, "direction": direction, "block": REGION_BLOCKS[region],
                "fault_id": fault_id}

    def isolation_available(self) -> tuple[bool, str]:
        return nft.nft_usable()

    def isolation_observed(self, region: str) -> dict[str, bool]:
        """Real TCP connects with bound source addresses, from both sides of the cut."""
        inside = self.members(region=region, role="replica")
        outside = self.members(region=EDGE)
        if not inside or not outside:
            raise FaultError(f"cannot observe isolation of {region}: no member to probe")
        return {
            "into_region": nft.connect_blocked(outside[0].address, inside[0].address,
                                               inside[0].port),
            "out_of_region": nft.connect_blocked(inside[0].address, outside[0].address,
                                                 outside[0].port),
        }

    def heal_region(self, region: str) -> dict[str, object]:
        _check_region(region)
        table = f"gameday_iso_{region.replace('-', '_')}"
        nft.remove(table)
        self.clear_fault("nft_table", name=table)
        return {"table": table, "removed": True}

    # -- FaultLedger -----------------------------------------------------------------------------
    def record_fault(self, kind: str, **detail: Any) -> str:
        """Record a fault in force, owned by this process (rolled back if this process dies)."""
        fault = {"id": uuid.uuid4().hex, "kind": kind, **detail, **_owner()}
        control.call(self.home, "record_fault", fault=fault)
        return str(fault["id"])

    def clear_fault(self, kind: str, **match: Any) -> None:
        for fault in self.faults():
            if fault.get("kind") == kind and all(fault.get(k) == v for k, v in match.items()):
                control.call(self.home, "clear_fault", id=fault["id"])

    def faults(self) -> list[dict[str, Any]]:
        try:
            return list(control.call(self.home, "status", timeout_s=5)["faults"])
        except control.SupervisorUnreachable:
            return list((read_json(self.home.state) or {}).get("faults", []))

    def link_faults(self) -> list[str]:
        """'<proxy>: <what>' for every toxic and every disabled link the fault proxy holds."""
        response = httpx.get(f"{self.proxy_api_url()}/proxies", timeout=5)
        response.raise_for_status()
        found = []
        for name, proxy in sorted(response.json().items()):
            if not proxy.get("enabled", True):
                found.append(f"{name}: disabled")
            found.extend(f"{name}: toxic {toxic.get('name')} ({toxic.get('type')})"
                         for toxic in proxy.get("toxics", []))
        return found

    def reset_faults(self) -> list[str]:
        """Undo every fault in force: held regions, nft tables, link toxics."""
        undone = []
        for member in self.members():
            if member.state in ("held-down", "frozen") and member.region in REGIONS:
                self.restore_region(member.region)
                undone.append(f"restored {member.region}")
        for fault in self.faults():
            if fault.get("kind") == "nft_table":
                nft.remove(fault["name"])
                control.call(self.home, "clear_fault", id=fault["id"])
                undone.append(f"removed nft table {fault['name']}")
        try:
            in_force = self.link_faults()
            httpx.post(f"{self.proxy_api_url()}/reset", timeout=5).raise_for_status()
            undone.extend(f"reset link {fault}" for fault in in_force)
        except httpx.HTTPError as exc:
            raise PlatformError(f"could not reset the fault proxy: {exc}") from None
        return sorted(set(undone))


def _owner() -> dict[str, Any]:
    return {"owner_pid": os.getpid(), "owner_create_time": process_start_time(os.getpid())}


def _check_region(region: str) -> None:
    if region not in REGIONS:
        raise FaultError(f"unknown region {region!r}; expected one of {', '.join(REGIONS)}")
