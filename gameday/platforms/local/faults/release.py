"""A model release in progress (canary, blue-green, a rollback rehearsal): while it runs, the
release moves registry aliases, loads model versions into members and sets the edge's weights;
this record holds what was there before, so that its ``undo`` — the release's own end, a
rollback, a dead owner, ``reset_faults`` — puts every alias, model and weight back."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import httpx

from gameday.errors import FaultError
from gameday.platforms.local import registry
from gameday.platforms.local.edge import HaproxyAdmin
from gameday.platforms.local.faults.base import FaultContext, LocalFault, MemberRef
from gameday.platforms.local.faults.model import load_member_model

__all__ = ["ModelRelease", "member_model"]



def member_model(member: MemberRef, timeout_s: float = 15.0) -> dict[str, Any]:
    """What the member serves now (its ``/model``: ``model_version``, ``uri``). The timeout is
    long: a member saturated by a slow release answers late, and its rollback must not give
    up on it."""
    try:
        answer = httpx.get(f"{member.url}/model", timeout=timeout_s)
        answer.raise_for_status()
        return dict(answer.json())
    except (httpx.HTTPError, ValueError) as exc:
        raise FaultError(f"{member.name}: cannot read its model: {exc}") from None


class ModelRelease(LocalFault):
    kind: Literal["release"] = "release"
    stack: str
    backend: str  # the edge's (HAProxy's) backend of the stack
    admin_path: str
    members: tuple[MemberRef, ...]  # every member the edge routes the stack's traffic to
    served: dict[str, str]  # member -> the model URI it served when the release began
    versions: dict[str, str]  # member -> the model version it served then
    weights: dict[str, int]  # server -> its edge weight then
    tracking_uri: str
    model_name: str
    aliases: dict[str, str]  # registry alias -> version, then

    def target(self) -> str:
        return f"a release of {self.model_name} on {self.stack} " \
               f"({len(self.members)} members, aliases {self.aliases})"

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        return {"stack": self.stack, "before": {"aliases": self.aliases,
                                                "versions": self.versions,
                                                "weights": self.weights}}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        servers = {s.name for s in HaproxyAdmin(ctx.home.haproxy_socket)
                   .server_states(self.backend)}
        missing = sorted(set(self.weights) - servers)
        if missing:
            raise FaultError(f"edge backend {self.backend} has no server {missing}")
        return {}

    def undo(self, ctx: FaultContext) -> str:
        """Aliases first (so the URIs the members served resolve as they did), then every
        member whose version changed reloads, then the weights: a bad version gets no more
        traffic on the way back."""
        moved = registry.restore_aliases(self.tracking_uri, self.model_name, self.aliases)
        changed = [m for m in self.members
                   if member_model(m).get("model_version") != self.versions[m.name]]
        with ThreadPoolExecutor(max_workers=max(1, len(changed))) as pool:  # all at once
            list(pool.map(lambda m: load_member_model(m, self.admin_path, self.served[m.name]),
                          changed))
        reloaded = [m.name for m in changed]
        failing = [m.name for m in self.members
                   if member_model(m).get("model_version") != self.versions[m.name]]
        if failing:
            raise FaultError(f"release undo: {failing} still do not serve their version "
                             f"before the release")
        admin = HaproxyAdmin(ctx.home.haproxy_socket)
        present = {s.name: s.weight for s in admin.server_states(self.backend)}
        for server, weight in self.weights.items():
            if server in present and present[server] != weight:
                admin.set_server_weight(self.backend, server, weight)
        return f"release of {self.model_name} on {self.stack} undone: aliases {moved or 'kept'}" \
               f", reloaded {reloaded or 'none'}, edge weights {self.weights}"
