"""The local supervisor: a daemon that starts, health-checks and restarts every member.

``gameday up`` starts it detached (``python -m gameday.platforms.local.supervisor --home H``).
It reads ``topology.json``, starts the members order group by order group (each group healthy
before the next), writes ``state.json`` on every change and answers JSON-line requests on its
control socket (``control.py`` is the client). Every member runs in its own process group, so a
kill, a freeze, a region outage and ``down`` reach whatever it forked (a postmaster's backends).
A region a fault took down is *held* down: no restart until ``restore_region``. Members get
PR_SET_PDEATHSIG, so a crash of the supervisor takes them with it.

Every fault in force is recorded with its owner. If the owner dies without rolling back, the
supervisor calls the fault's own ``undo`` (a dead man's switch). If the topology names an
owner (a run that stood the platform up itself) and it dies, the supervisor tears everything
down.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import pwd
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.platforms.base import MemberState
from gameday.platforms.local import control
from gameday.platforms.local.faults import FaultContext, FaultRecord
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.owner import Owner
from gameday.platforms.local.probing import check_health
from gameday.platforms.local.specs import ProcessSpec
from gameday.platforms.local.state import (
    MemberStatus,
    State,
    kill_group,
    member_family,
    signal_processes,
)
from gameday.platforms.local.topology import Link, Topology
from gameday.platforms.local.volumes import mount_volumes, unmount_volumes

__all__ = ["main"]

_PR_SET_PDEATHSIG = 1
_BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 5.0)
# A member healthy this long before it exited is not crash-looping: its next restart waits the
# shortest backoff again, so the tenth replica kill of a game day recovers like the first.
_STABLE_S = 10.0
_HOLDING = (MemberState.HELD_DOWN, MemberState.FROZEN)


def _die_with_parent() -> Callable[[], None]:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)

    def _set() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return _set


def _prepare(spec: ProcessSpec) -> None:
    """Data directories, size-capped volumes and rendered files, owned by the member's user."""
    owner = pwd.getpwnam(spec.user) if spec.user else None
    mount_volumes(spec)
    for path in (*spec.data_dirs, *(str(Path(f.path).parent) for f in spec.files)):
        Path(path).mkdir(parents=True, exist_ok=True)
        if owner:
            os.chown(path, owner.pw_uid, owner.pw_gid)
    for item in spec.files:
        Path(item.path).write_text(item.text)
        os.chmod(item.path, item.mode)
        if owner:
            os.chown(item.path, owner.pw_uid, owner.pw_gid)


@dataclass
class _Supervised:
    status: MemberStatus
    proc: asyncio.subprocess.Process | None = None
    watcher: asyncio.Task[None] | None = None
    crash_loop: int = 0  # restarts since it was last healthy for _STABLE_S
    healthy_since_s: float | None = None

    def mark(self, state: MemberState) -> bool:
        """Set the state; whether it changed."""
        if state == MemberState.HEALTHY and self.healthy_since_s is None:
            self.healthy_since_s = time.monotonic()
        elif state != MemberState.HEALTHY:
            self.healthy_since_s = None
        changed = state != self.status.state
        self.status.state = state
        return changed

    def restart_delay_s(self) -> float:
        if self.healthy_since_s is not None \
                and time.monotonic() - self.healthy_since_s >= _STABLE_S:
            self.crash_loop = 0
        delay_s = _BACKOFF_S[min(self.crash_loop, len(_BACKOFF_S) - 1)]
        self.crash_loop += 1
        return delay_s

    @property
    def spec(self) -> ProcessSpec:
        return self.status.spec

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def signal_group(self, sig: signal.Signals) -> None:
        """The member's process group, and whatever it started outside it (a postmaster's
        backends, a daemonized postmaster): listed before the group is signalled, so a
        SIGKILLed parent's orphans are still found."""
        family = member_family(self.spec, self.status.pid if self.running else None)
        if self.status.pgid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.status.pgid, sig)
        signal_processes(family, sig)


@dataclass
class Supervisor:
    home: LocalHome
    topology: Topology
    members: dict[str, _Supervised] = field(default_factory=dict)
    state: State = field(default_factory=State)
    stopping: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def save(self) -> None:
        self.state.members = [m.status for m in self.members.values()]
        self.state.save(self.home)

    # -- processes -------------------------------------------------------------------------
    async def spawn(self, member: _Supervised) -> None:
        spec = member.spec
        _prepare(spec)
        self.home.logs.mkdir(parents=True, exist_ok=True)
        with (self.home.logs / f"{spec.name}.log").open("ab") as log:
            member.proc = await asyncio.create_subprocess_exec(
                *spec.argv, cwd=spec.cwd, env={**os.environ, **spec.env},
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, user=spec.user,
                start_new_session=True, preexec_fn=_die_with_parent())
        owner = Owner.of(member.proc.pid)
        member.status = member.status.model_copy(update={
            "pid": member.proc.pid, "pgid": member.proc.pid, "create_time": owner.create_time,
            "state": MemberState.STARTING, "exit_code": None})
        member.watcher = asyncio.create_task(self.watch(member, member.proc))
        self.save()

    async def watch(self, member: _Supervised, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        if member.proc is not proc or self.stopping:
            return
        # whatever the leader forked dies with it: a restart must find its ports free
        member.signal_group(signal.SIGKILL)
        held = member.status.held
        member.status.exit_code = code
        delay_s = member.restart_delay_s()  # before mark(): it reads how long it was healthy
        member.mark(MemberState.HELD_DOWN if held else MemberState.EXITED)
        self.save()
        policy = member.spec.restart
        if held or policy == "never" or (policy == "on-failure" and code == 0):
            return
        await asyncio.sleep(delay_s)
        if member.status.held or self.stopping or member.proc is not proc \
                or member.spec.name not in self.members:
            return
        member.status.restarts += 1
        await self.spawn(member)

    async def wait_healthy(self, member: _Supervised) -> bool:
        deadline = time.monotonic() + member.spec.start_timeout_s
        while time.monotonic() < deadline and not self.stopping:
            if not member.running:
                if member.spec.restart == "never" or member.status.held:
                    return False
            elif await check_health(member.spec):
                member.mark(MemberState.HEALTHY)
                self.save()
                return True
            await asyncio.sleep(0.1)
        return False

    async def start_group(self, group: list[_Supervised]) -> list[str]:
        for member in group:
            await self.spawn(member)
        results = await asyncio.gather(*(self.wait_healthy(m) for m in group))
        return [m.spec.name for m, ok in zip(group, results, strict=True) if not ok]

    async def start_all(self) -> None:
        for order in sorted({m.spec.order for m in self.members.values()}):
            failed = await self.start_group([m for m in self.members.values()
                                             if m.spec.order == order])
            if failed:
                self.state.error = (f"not healthy within their start timeout: "
                                    f"{', '.join(failed)} (see {self.home.logs}/<name>.log)")
                self.save()
                await self.shutdown()
                return
        self.state.ready = True
        self.save()

    async def monitor(self) -> None:
        """Keep each member's state honest, roll back orphaned faults, follow the owner."""
        while not self.stopping:
            await asyncio.sleep(0.5)
            owner = self.topology.owner
            if owner is not None and not owner.alive():
                print(f"owner {owner.pid} of the platform died: tearing down", flush=True)
                await self.roll_back(lambda record: True)
                await self.shutdown()
                return
            if not self.state.ready:
                continue
            changed = False
            for member in list(self.members.values()):
                if member.status.state in (MemberState.HEALTHY, MemberState.UNHEALTHY,
                                           MemberState.STARTING) and member.running:
                    before, proc = member.status.state, member.proc
                    healthy = await check_health(member.spec)
                    # a start or restore decided meanwhile wins; a starting member only
                    # becomes healthy here (wait_healthy or a later check decides the rest)
                    if member.proc is not proc or member.status.state != before or (
                            before == MemberState.STARTING and not healthy):
                        continue
                    changed |= member.mark(MemberState.HEALTHY if healthy
                                           else MemberState.UNHEALTHY)
            if changed:
                self.save()
            await self.roll_back(lambda record: record.owner is not None
                                 and not record.owner.alive())

    def fault_context(self) -> FaultContext:
        def call(op: str, **arguments: Any) -> Any:
            return control.call(self.home, op, **arguments)

        return FaultContext(home=self.home, proxy_api_url=self.topology.proxy_api_url, call=call)

    async def roll_back(self, which: Callable[[FaultRecord], bool]) -> None:
        for record in sorted((r for r in self.state.faults if which(r)),
                             key=lambda r: -r.injected_s):
            try:
                # in a thread: an undo may call back into this supervisor (restore a region)
                done = await asyncio.to_thread(record.fault.undo, self.fault_context())
                print(f"rolled back {record.describe()}: {done}", flush=True)
            except Exception as exc:  # keep supervising; the record stays for `down`
                print(f"could not roll back {record.describe()}: {exc}", flush=True)
                continue
            self.state.faults = [f for f in self.state.faults if f.id != record.id]
            self.save()

    # -- control operations ----------------------------------------------------------------
    def in_region(self, region: str) -> list[_Supervised]:
        found = [m for m in self.members.values() if m.spec.region == region]
        if not found:
            raise KeyError(f"no member in region {region!r}")
        return found

    def named(self, names: list[str]) -> list[_Supervised]:
        unknown = sorted(set(names) - set(self.members))
        if unknown or not names:
            raise KeyError(f"no member(s) {unknown or names}")
        return [self.members[name] for name in names]

    async def op_stop_region(self, region: str, freeze: bool) -> list[dict[str, Any]]:
        return await self.hold([m.spec.name for m in self.in_region(region)], freeze)

    async def op_restore_region(self, region: str) -> list[dict[str, Any]]:
        return await self.release([m.spec.name for m in self.in_region(region)], region)

    async def op_stop_members(self, names: list[str], freeze: bool) -> list[dict[str, Any]]:
        return await self.hold(names, freeze)

    async def op_restore_members(self, names: list[str]) -> list[dict[str, Any]]:
        return await self.release(names, ", ".join(names))

    async def hold(self, names: list[str], freeze: bool) -> list[dict[str, Any]]:
        """SIGKILL (held down: no restart) or SIGSTOP each member's whole group."""
        targets = self.named(names)
        for member in targets:
            member.status.held = True
            member.signal_group(signal.SIGSTOP if freeze else signal.SIGKILL)
            member.mark(MemberState.FROZEN if freeze else MemberState.HELD_DOWN)
        if not freeze:
            await asyncio.gather(*(m.proc.wait() for m in targets if m.proc))
        self.save()
        return [m.status.model_dump(mode="json") for m in targets]

    async def release(self, names: list[str], what: str) -> list[dict[str, Any]]:
        targets = self.named(names)
        for member in targets:
            member.status.held = False
            if member.status.state == MemberState.FROZEN and member.running:
                member.signal_group(signal.SIGCONT)
                member.mark(MemberState.STARTING)
            elif not member.running:
                await self.spawn(member)
        results = await asyncio.gather(*(self.wait_healthy(m) for m in targets))
        self.save()
        if not all(results):
            raise RuntimeError(f"{what} did not come back healthy")
        return [m.status.model_dump(mode="json") for m in targets]

    async def op_kill(self, name: str) -> dict[str, Any]:
        """SIGKILL one member's group; returns once ``watch`` has seen it exit, so no caller
        reads a stale 'healthy' for a dead process (its restart follows the policy)."""
        member = self.members[name]
        proc = member.proc
        member.signal_group(signal.SIGKILL)
        deadline = time.monotonic() + 5
        while member.proc is proc and proc is not None and member.status.exit_code is None \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return member.status.model_dump(mode="json")

    async def op_add_member(self, spec: dict[str, Any],
                            links: list[dict[str, Any]]) -> dict[str, Any]:
        new = ProcessSpec.model_validate(spec)
        if new.name in self.members:
            raise KeyError(f"member {new.name!r} exists already")
        member = _Supervised(MemberStatus(spec=new))
        self.members[new.name] = member
        self.topology.processes.append(new)
        self.topology.links.extend(Link.model_validate(link) for link in links)
        self.topology.next_proxy_port += len(links)
        self.topology.save(self.home)
        if await self.start_group([member]):
            raise RuntimeError(f"{new.name} not healthy within {new.start_timeout_s:g} s")
        return member.status.model_dump(mode="json")

    async def op_remove_member(self, name: str) -> dict[str, Any]:
        member = self.members.pop(name)
        self.topology.processes = [s for s in self.topology.processes if s.name != name]
        self.topology.links = [link for link in self.topology.links if link.member != name]
        self.topology.save(self.home)
        await self.stop_members([member])
        self.save()
        return member.status.model_dump(mode="json")

    def op_record_fault(self, record: dict[str, Any]) -> str:
        parsed = FaultRecord.model_validate(record)
        self.state.faults = [f for f in self.state.faults if f.id != parsed.id] + [parsed]
        self.save()
        return parsed.id

    def op_clear_fault(self, fault_id: str) -> int:
        before = len(self.state.faults)
        self.state.faults = [f for f in self.state.faults if f.id != fault_id]
        self.save()
        return before - len(self.state.faults)

    def op_shutdown(self) -> str:
        """Answers first, then stops everything (the caller waits for the pid to go)."""
        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self.shutdown()))
        return "shutting down"

    async def handle(self, request: dict[str, Any]) -> Any:
        op = request.pop("op", None)
        operations: dict[str, Callable[..., Any]] = {
            "status": lambda: self.state.model_dump(mode="json"),
            "stop_region": self.op_stop_region, "restore_region": self.op_restore_region,
            "stop_members": self.op_stop_members, "restore_members": self.op_restore_members,
            "kill": self.op_kill, "add_member": self.op_add_member,
            "remove_member": self.op_remove_member, "record_fault": self.op_record_fault,
            "clear_fault": self.op_clear_fault, "shutdown": self.op_shutdown,
        }
        if op not in operations:
            raise KeyError(f"unknown op {op!r}")
        result = operations[op](**request)
        return await result if asyncio.iscoroutine(result) else result

    async def serve_client(self, reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            try:
                answer = {"ok": True, "result": await self.handle(json.loads(line))}
            except Exception as exc:  # any failure goes back to the caller, not into the log
                answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            writer.write(json.dumps(answer, default=str).encode() + b"\n")
            await writer.drain()
        finally:
            writer.close()

    async def stop_members(self, members: list[_Supervised]) -> None:
        """SIGTERM each group (SIGCONT first: a frozen one cannot act on it), SIGKILL what is
        left after its stop timeout."""
        running = [m for m in members if m.running]
        for member in running:
            member.status.held = True  # no restart from here on
            member.signal_group(signal.SIGCONT)
            member.signal_group(signal.SIGTERM)
        timeout_s = max((m.spec.stop_timeout_s for m in running), default=0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(m.proc.wait() for m in running if m.proc)),
                                   timeout=timeout_s)
        for member in members:
            member.signal_group(signal.SIGKILL)  # the group's stragglers too
            kill_group(member.status.pgid, member.status.create_time, grace_s=1)
            member.mark(MemberState.STOPPED)

    async def shutdown(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        # the edge first, so clients see it go first, then in reverse start order
        ordered = sorted(self.members.values(), key=lambda m: -m.spec.order)
        for order in sorted({m.spec.order for m in ordered}, reverse=True):
            await self.stop_members([m for m in ordered if m.spec.order == order])
        for member in ordered:
            unmount_volumes(member.spec)
        self.save()
        self.done.set()


async def _amain(home: LocalHome) -> int:
    topology = Topology.load(home)
    if topology is None:
        print(f"no topology at {home.topology}", file=sys.stderr)
        return 2
    supervisor = Supervisor(home=home, topology=topology)
    supervisor.state = State(supervisor=Owner.me())
    for spec in topology.processes:
        supervisor.members[spec.name] = _Supervised(MemberStatus(spec=spec))
    home.socket.unlink(missing_ok=True)
    server = await asyncio.start_unix_server(supervisor.serve_client, path=str(home.socket))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(supervisor.shutdown()))
    supervisor.save()
    monitor = asyncio.create_task(supervisor.monitor())
    await supervisor.start_all()
    await supervisor.done.wait()
    monitor.cancel()
    server.close()
    home.socket.unlink(missing_ok=True)
    return 1 if supervisor.state.error else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args(argv)
    return asyncio.run(_amain(LocalHome(args.home.resolve())))


if __name__ == "__main__":
    sys.exit(main())
