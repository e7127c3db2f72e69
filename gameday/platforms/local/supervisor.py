"""The local supervisor: a daemon that starts, health-checks and restarts every process.

``gameday up`` starts it detached (``python -m gameday.platforms.local.supervisor --home H``).
It reads ``topology.json``, starts the processes order group by order group (each group healthy
before the next), writes ``state.json`` on every change and answers JSON-line requests on its
control socket (``control.py`` is the client). A region that a fault took down is *held* down:
the restart policy does not bring it back until ``restore_region``. Children get
PR_SET_PDEATHSIG, so a crash of the supervisor takes them with it.

Every fault in force is recorded with its owner (the process that injected it). If the owner
dies without rolling back — the harness crashed or was SIGKILLed — the supervisor rolls the
fault back itself: a dead man's switch, so no fault outlives the run that made it.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.platforms.local.probing import check_health, http_status
from gameday.platforms.local.specs import ProcessSpec
from gameday.platforms.local.state import (
    LocalHome,
    is_same_process,
    process_start_time,
    read_json,
    write_json_atomic,
)

__all__ = ["main"]

_PR_SET_PDEATHSIG = 1
_BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 5.0)


def _die_with_parent() -> Callable[[], None]:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)

    def _set() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return _set


@dataclass
class _Supervised:
    spec: ProcessSpec
    proc: asyncio.subprocess.Process | None = None
    create_time: float | None = None
    state: str = "waiting"  # until its order group is started
    restarts: int = 0
    held: bool = False
    exit_code: int | None = None
    watcher: asyncio.Task[None] | None = None

    def describe(self) -> dict[str, Any]:
        return {**self.spec.to_json(), "pid": self.proc.pid if self.proc else None,
                "create_time": self.create_time, "state": self.state,
                "restarts": self.restarts, "held": self.held, "exit_code": self.exit_code}


@dataclass
class Supervisor:
    home: LocalHome
    members: dict[str, _Supervised] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    ready: bool = False
    error: str | None = None
    stopping: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    # -- state ---------------------------------------------------------------------------
    def write_state(self) -> None:
        write_json_atomic(self.home.state, {
            "platform": "local", "supervisor_pid": os.getpid(),
            "supervisor_create_time": process_start_time(os.getpid()),
            "ready": self.ready, "error": self.error, "updated_s": time.time(),
            "members": [m.describe() for m in self.members.values()],
            "faults": self.faults,
        })

    # -- processes -----------------------------------------------------------------------
    async def spawn(self, member: _Supervised) -> None:
        spec = member.spec
        self.home.logs.mkdir(parents=True, exist_ok=True)
        with (self.home.logs / f"{spec.name}.log").open("ab") as log:
            member.proc = await asyncio.create_subprocess_exec(
                *spec.argv, cwd=spec.cwd, env={**os.environ, **spec.env},
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                user=spec.user, preexec_fn=_die_with_parent())
        member.create_time = process_start_time(member.proc.pid)
        member.state, member.exit_code = "starting", None
        member.watcher = asyncio.create_task(self.watch(member, member.proc))
        self.write_state()

    async def watch(self, member: _Supervised, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        if member.proc is not proc or self.stopping:
            return
        member.exit_code = code
        member.state = "held-down" if member.held else "exited"
        self.write_state()
        policy = member.spec.restart
        if member.held or policy == "never" or (policy == "on-failure" and code == 0):
            return
        delay_s = _BACKOFF_S[min(member.restarts, len(_BACKOFF_S) - 1)]
        await asyncio.sleep(delay_s)
        if member.held or self.stopping or member.proc is not proc:
            return
        member.restarts += 1
        await self.spawn(member)

    async def wait_healthy(self, member: _Supervised) -> bool:
        deadline = time.monotonic() + member.spec.start_timeout_s
        while time.monotonic() < deadline:
            if member.proc is None or member.proc.returncode is not None:
                if member.spec.restart == "never" or member.held:
                    return False
            elif await check_health(member.spec):
                member.state = "healthy"
                self.write_state()
                return True
            await asyncio.sleep(0.1)
        return False

    async def start_all(self) -> None:
        for order in sorted({m.spec.order for m in self.members.values()}):
            group = [m for m in self.members.values() if m.spec.order == order]
            for member in group:
                await self.spawn(member)
            results = await asyncio.gather(*(self.wait_healthy(m) for m in group))
            failed = [m.spec.name for m, ok in zip(group, results, strict=True) if not ok]
            if failed:
                self.error = f"not healthy within their start timeout: {', '.join(failed)}" \
                             f" (see {self.home.logs}/<name>.log)"
                self.write_state()
                await self.shutdown()
                return
        self.ready = True
        self.write_state()

    async def monitor(self) -> None:
        """Keep each member's state honest: healthy, unhealthy, frozen, held-down."""
        while not self.stopping:
            await asyncio.sleep(0.5)
            if not self.ready:
                continue
            changed = False
            for member in list(self.members.values()):
                if member.state in ("healthy", "unhealthy", "starting") and member.proc \
                        and member.proc.returncode is None:
                    state = "healthy" if await check_health(member.spec) else "unhealthy"
                    changed |= state != member.state
                    member.state = state
            if changed:
                self.write_state()
            await self.roll_back_orphans()

    async def roll_back_orphans(self) -> None:
        for fault in list(self.faults):
            owner = fault.get("owner_pid")
            if owner is None or is_same_process(owner, fault.get("owner_create_time")):
                continue
            try:
                await self.undo(fault)
                print(f"owner {owner} of fault {fault} died: rolled it back", flush=True)
            except Exception as exc:  # keep supervising; the fault stays recorded for `down`
                print(f"could not roll back orphaned fault {fault}: {exc}", flush=True)
                continue
            self.faults = [f for f in self.faults if f is not fault]
            self.write_state()

    async def undo(self, fault: dict[str, Any]) -> None:
        kind = fault.get("kind")
        if kind == "region_hold":
            await self.op_restore_region(fault["region"])
        elif kind == "nft_table":
            proc = await asyncio.create_subprocess_exec(
                "nft", "delete", "table", "inet", fault["name"],
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            await proc.wait()
        elif kind == "toxics":
            proxy = next(m.spec for m in self.members.values() if m.spec.role == "fault-proxy")
            await http_status(proxy.address, proxy.port, "POST", "/reset")
        elif kind == "model":
            body = json.dumps({"uri": fault["restore_uri"]}).encode()
            for address, port in fault["members"]:
                await http_status(address, port, "POST", "/admin/model", body=body, timeout_s=60)

    async def signal_member(self, member: _Supervised, sig: signal.Signals) -> None:
        if member.proc and member.proc.returncode is None:
            member.proc.send_signal(sig)

    # -- control operations ----------------------------------------------------------------
    def in_region(self, region: str) -> list[_Supervised]:
        found = [m for m in self.members.values() if m.spec.region == region]
        if not found:
            raise KeyError(f"no member in region {region!r}")
        return found

    async def op_stop_region(self, region: str, freeze: bool,
                             owner: dict[str, Any]) -> list[dict[str, Any]]:
        targets = self.in_region(region)
        self.faults.append({"id": f"hold-{region}", "kind": "region_hold", "region": region,
                            "freeze": freeze, **owner})
        for member in targets:
            member.held = True
            await self.signal_member(member, signal.SIGSTOP if freeze else signal.SIGKILL)
            member.state = "frozen" if freeze else "held-down"
        if not freeze:
            await asyncio.gather(*(m.proc.wait() for m in targets if m.proc))
        self.write_state()
        return [m.describe() for m in targets]

    async def op_restore_region(self, region: str) -> list[dict[str, Any]]:
        targets = self.in_region(region)
        self.faults = [f for f in self.faults if f.get("id") != f"hold-{region}"]
        for member in targets:
            member.held = False
            if member.state == "frozen":
                await self.signal_member(member, signal.SIGCONT)
                member.state = "starting"
            elif member.proc is None or member.proc.returncode is not None:
                await self.spawn(member)
        results = await asyncio.gather(*(self.wait_healthy(m) for m in targets))
        self.write_state()
        if not all(results):
            raise RuntimeError(f"region {region} did not come back healthy")
        return [m.describe() for m in targets]

    async def op_kill(self, name: str) -> dict[str, Any]:
        """SIGKILL one member; returns once ``watch`` has seen it exit, so no caller reads a
        stale 'healthy' for a dead process (its restart follows the policy as usual)."""
        member = self.members[name]
        proc = member.proc
        await self.signal_member(member, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while member.proc is proc and proc is not None and member.exit_code is None \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return member.describe()

    async def handle(self, request: dict[str, Any]) -> Any:
        op = request.get("op")
        if op == "status":
            return {"ready": self.ready, "error": self.error,
                    "members": [m.describe() for m in self.members.values()],
                    "faults": self.faults}
        if op == "stop_region":
            return await self.op_stop_region(request["region"], bool(request.get("freeze")),
                                             request.get("owner", {}))
        if op == "restore_region":
            return await self.op_restore_region(request["region"])
        if op == "kill":
            return await self.op_kill(request["name"])
        if op == "record_fault":
            self.faults.append(request["fault"])
            self.write_state()
            return self.faults
        if op == "clear_fault":
            self.faults = [f for f in self.faults if f.get("id") != request["id"]]
            self.write_state()
            return self.faults
        if op == "shutdown":
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self.shutdown()))
            return "shutting down"
        raise KeyError(f"unknown op {op!r}")

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

    async def shutdown(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        running = [m for m in self.members.values() if m.proc and m.proc.returncode is None]
        for member in reversed(running):  # the edge first, so clients see it go first
            await self.signal_member(member, signal.SIGCONT)
            await self.signal_member(member, signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.gather(*(m.proc.wait() for m in running if m.proc)),
                                   timeout=5)
        except TimeoutError:
            for member in running:
                await self.signal_member(member, signal.SIGKILL)
        for member in self.members.values():
            member.state = "stopped"
        self.write_state()
        self.done.set()


async def _amain(home: LocalHome) -> int:
    topology = read_json(home.topology)
    if not topology:
        print(f"no topology at {home.topology}", file=sys.stderr)
        return 2
    supervisor = Supervisor(home=home)
    for raw in topology["processes"]:
        spec = ProcessSpec.from_json(raw)
        supervisor.members[spec.name] = _Supervised(spec=spec)
    home.socket.unlink(missing_ok=True)
    server = await asyncio.start_unix_server(supervisor.serve_client, path=str(home.socket))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(supervisor.shutdown()))
    supervisor.write_state()
    monitor = asyncio.create_task(supervisor.monitor())
    await supervisor.start_all()
    await supervisor.done.wait()
    monitor.cancel()
    server.close()
    home.socket.unlink(missing_ok=True)
    return 1 if supervisor.error else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args(argv)
    return asyncio.run(_amain(LocalHome(args.home.resolve())))


if __name__ == "__main__":
    sys.exit(main())
