"""Where a stack's PostgreSQL nodes are on the local platform (``DatabaseAccess``)."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import stat
from pathlib import Path

import psutil

from gameday.errors import FaultError, PlatformError
from gameday.platforms.base import DatabaseInfo, DbNode
from gameday.platforms.local.render import Renderer
from gameday.platforms.local.topology import Topology, member_data_dir
from gameday.stacks import DatabaseDef, StackDef

__all__ = ["cannot_enter", "database_info", "kill_postmaster", "region_uids",
           "unreachable_paths"]


def _database(topology: Topology, stack_name: str) -> tuple[StackDef, DatabaseDef]:
    if stack_name not in topology.request.stacks:
        raise PlatformError(f"stack {stack_name!r} is not up; up: "
                            f"{', '.join(topology.request.stacks)}")
    stack = topology.request.stack(stack_name)
    if stack.database is None:
        raise PlatformError(f"stack {stack_name!r} declares no database")
    return stack, stack.database


def _render(stack: StackDef, text: str, home: Path, name: str, field: str) -> str:
    renderer = Renderer(str(stack.folder / "stack.yaml") if stack.folder else stack.name)
    return renderer.render(text, {"data": str(member_data_dir(home, name)), "name": name},
                           field=field)


def kill_postmaster(topology: Topology, home: Path, stack_name: str, node: str) -> int:
    """SIGKILL the postmaster whose pid its pid file holds; returns once it is gone."""
    stack, database = _database(topology, stack_name)
    if database.pid_file is None:
        raise FaultError(f"stack {stack_name!r} declares no database.pid_file")
    path = Path(_render(stack, database.pid_file, home, node, "database.pid_file"))
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError) as exc:
        raise FaultError(f"{node}: no postmaster pid in {path}: {exc}") from None
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        raise FaultError(f"{node}: postmaster {pid} is not running") from None
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).wait(timeout=5)
    return pid


def database_info(topology: Topology, home: Path, stack_name: str) -> DatabaseInfo:
    stack, database = _database(topology, stack_name)
    failover = topology.request.settings.get("database", {}).get("failover", "patroni")
    nodes = []
    for spec in topology.processes:
        if spec.stack != stack_name or spec.component != database.component:
            continue
        api = database.patroni_api_port
        socket_dir = None if database.socket_dir is None else _render(
            stack, database.socket_dir, home, spec.name, "database.socket_dir")
        nodes.append(DbNode(
            name=spec.name, region=spec.region, host=spec.address,
            port=spec.ports[database.port],
            patroni_url=f"http://{spec.address}:{spec.ports[api]}"
            if api and failover == "patroni" else None,
            socket_dir=socket_dir))
    nodes.sort(key=lambda n: (n.region, n.name))
    return DatabaseInfo(stack=stack_name, failover=failover, dbname=database.dbname,
                        user=database.user, nodes=tuple(nodes))


def region_uids(topology: Topology, region: str) -> tuple[int, ...]:
    """Users that only ``region``'s members run as (per-region database users): an isolation
    tells the region's own traffic from the rest by them."""
    users: dict[str, set[str]] = {}
    for spec in topology.processes:
        if spec.user:
            users.setdefault(spec.user, set()).add(spec.region)
    return tuple(sorted(pwd.getpwnam(user).pw_uid for user, regions in users.items()
                        if regions == {region}))


def cannot_enter(user: str, path: Path) -> str | None:
    """Why ``user`` cannot reach ``path`` (a folder on the way it may not enter), or None."""
    account = pwd.getpwnam(user)
    resolved = path.resolve()
    for folder in reversed([resolved, *resolved.parents]):
        if not folder.exists():
            return None
        mode = folder.stat()
        if mode.st_uid == account.pw_uid:
            allowed = mode.st_mode & stat.S_IXUSR
        elif mode.st_gid == account.pw_gid:
            allowed = mode.st_mode & stat.S_IXGRP
        else:
            allowed = mode.st_mode & stat.S_IXOTH
        if not allowed:
            return f"{user} cannot enter {folder} (mode {stat.filemode(mode.st_mode)})"
    return None


def unreachable_paths(topology: Topology, paths: list[Path]) -> list[str]:
    """Members that run as another user but cannot reach what they run or write: a folder on
    the way (a pytest tmp dir, a checkout under /root) is closed to that user."""
    problems = []
    for user in sorted({s.user for s in topology.processes if s.user}):
        for path in paths:
            why = cannot_enter(user, path)
            if why:
                problems.append(why)
                break
    return problems
