"""The local platform's model releases (``ReleaseControl``), as a part of ``LocalPlatform``: the
registry the stack's members read, their models, and their weights in HAProxy's backend."""

from __future__ import annotations

import re
from typing import Any

from gameday.errors import FaultError
from gameday.platforms.base import PRIMARY_REGION, Member
from gameday.platforms.local import registry
from gameday.platforms.local.edge import HaproxyAdmin
from gameday.platforms.local.faults import MemberRef, ModelRelease
from gameday.platforms.local.faults.model import load_member_model
from gameday.platforms.local.faults.release import member_model
from gameday.platforms.local.part import PlatformPart
from gameday.platforms.local.topology import Route

__all__ = ["ReleaseFaults"]

_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)[/@]")
_TRACKING_ENV = "MLFLOW_TRACKING_URI"


class ReleaseFaults(PlatformPart):
    def _release_route(self, stack: str) -> Route:
        definition = self.topology().request.stack(stack)
        if not definition.model_admin_path or not definition.restore_model_uri:
            raise FaultError(f"stack {stack} declares no model_admin_path and "
                             "restore_model_uri: it cannot take a model release")
        route = next((r for r in self.topology().routes
                      if r.stack == stack and r.mode == "http"), None)
        if route is None:
            raise FaultError(f"stack {stack} is not up behind the edge")
        return route

    def model_registry(self, stack: str) -> tuple[str, str]:
        """The tracking URI the stack's members read, and the registered model's name."""
        definition = self.topology().request.stack(stack)
        name = _REGISTRY_URI.match(definition.restore_model_uri or "")
        route = self._release_route(stack)
        uris = {spec.env.get(_TRACKING_ENV) for spec in self.topology().processes
                if spec.stack == stack and spec.component == route.component}
        if name is None or len(uris) != 1 or None in uris:
            raise FaultError(f"stack {stack}: its members name no single model registry "
                             f"({_TRACKING_ENV}) and registered model (restore_model_uri)")
        return str(next(iter(uris))), name["name"]

    def release_members(self, stack: str) -> list[Member]:
        route = self._release_route(stack)
        members = self.members(stack=stack, component=route.component)
        return sorted(members, key=lambda m: (m.region != PRIMARY_REGION, m.name))

    def _ref(self, stack: str, member: str) -> MemberRef:
        found = next((m for m in self.release_members(stack) if m.name == member), None)
        if found is None:
            raise FaultError(f"{stack} has no member {member!r} behind the edge; it has "
                             f"{', '.join(m.name for m in self.release_members(stack))}")
        return MemberRef(name=found.name, address=found.address, ports=found.ports)

    def begin_release(self, stack: str) -> dict[str, Any]:
        route = self._release_route(stack)
        tracking_uri, model = self.model_registry(stack)
        if self._release(stack) is not None:
            raise FaultError(f"a release of {stack} is already in progress")
        refs = tuple(MemberRef(name=m.name, address=m.address, ports=m.ports)
                     for m in self.release_members(stack))
        models = {ref.name: member_model(ref) for ref in refs}
        definition = self.topology().request.stack(stack)
        assert definition.model_admin_path is not None
        return self.ledger.inject(ModelRelease(
            stack=stack, backend=route.path, admin_path=definition.model_admin_path,
            members=refs, served={n: str(m.get("uri")) for n, m in models.items()},
            versions={n: str(m.get("model_version")) for n, m in models.items()},
            weights=self.edge_weights(stack), tracking_uri=tracking_uri, model_name=model,
            aliases=registry.aliases(tracking_uri, model)))

    def _release(self, stack: str) -> ModelRelease | None:
        return next((r.fault for r in self.ledger.records()
                     if isinstance(r.fault, ModelRelease) and r.fault.stack == stack), None)

    def release_before(self, stack: str) -> dict[str, Any] | None:
        found = self._release(stack)
        return None if found is None else {"versions": found.versions,
                                           "weights": found.weights, "aliases": found.aliases}

    def _require_release(self, stack: str) -> None:
        if self._release(stack) is None:
            raise FaultError(f"no release of {stack} in progress: begin_release first (its "
                             "record is what puts everything back)")

    def resolve_version(self, stack: str, alias_or_version: str) -> str:
        tracking_uri, model = self.model_registry(stack)
        return registry.version_of(tracking_uri, model, alias_or_version)

    def move_alias(self, stack: str, alias: str, version: str) -> None:
        self._require_release(stack)
        tracking_uri, model = self.model_registry(stack)
        registry.set_alias(tracking_uri, model, alias, version)

    def load_version(self, stack: str, member: str, model_uri: str) -> str:
        self._require_release(stack)
        definition = self.topology().request.stack(stack)
        assert definition.model_admin_path is not None
        ref = self._ref(stack, member)
        loaded = str(load_member_model(ref, definition.model_admin_path, model_uri)
                     .get("model_version"))
        serving = str(member_model(ref).get("model_version"))
        if serving != loaded:
            raise FaultError(f"{member}: loaded {model_uri} (v{loaded}) but serves v{serving}")
        return serving

    def edge_weights(self, stack: str) -> dict[str, int]:
        backend = self._release_route(stack).path
        return {s.name: s.weight for s in HaproxyAdmin(self.home.haproxy_socket)
                .server_states(backend)}

    def set_edge_weights(self, stack: str, weights: dict[str, int]) -> dict[str, int]:
        self._require_release(stack)
        backend = self._release_route(stack).path
        admin = HaproxyAdmin(self.home.haproxy_socket)
        before = {s.name: s.weight for s in admin.server_states(backend)}
        unknown = sorted(set(weights) - set(before))
        if unknown:
            raise FaultError(f"edge backend {backend} has no server {unknown}")
        # raised before lowered: the backend never has fewer servers taking traffic than
        # before or after (a blue-green switch never leaves a region with none)
        for server, weight in sorted(weights.items(), key=lambda sw: sw[1] < before[sw[0]]):
            admin.set_server_weight(backend, server, weight)
        now = self.edge_weights(stack)
        wrong = {s: now.get(s) for s, w in weights.items() if now.get(s) != w}
        if wrong:
            raise FaultError(f"edge backend {backend}: weights {wrong} after setting {weights}")
        return now

    def end_release(self, stack: str) -> list[str]:
        return self.ledger.undo(lambda r: isinstance(r.fault, ModelRelease)
                                and r.fault.stack == stack)
