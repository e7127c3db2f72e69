"""A bad deploy: a region's members of a stack hot-load a model that breaks inference while
their shallow health stays green ("lying health"); undone by loading the restore model."""

from __future__ import annotations

from typing import Any, Literal

import httpx

from gameday.errors import FaultError
from gameday.platforms.local.faults.base import FaultContext, LocalFault, MemberRef

__all__ = ["BrokenModel", "load_member_model"]

_LOAD_TIMEOUT_S = 60.0


def load_member_model(member: MemberRef, admin_path: str, uri: str) -> dict[str, Any]:
    """Hot-load ``uri`` into the member; what it says it serves now."""
    try:
        answer = httpx.post(f"{member.url}{admin_path}", json={"uri": uri},
                            timeout=_LOAD_TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise FaultError(f"{member.name}: model load of {uri} failed: {exc}") from None
    if answer.status_code != 200:
        raise FaultError(f"{member.name}: model load of {uri} refused: "
                         f"{answer.status_code} {answer.text[:200]}")
    return dict(answer.json())


class BrokenModel(LocalFault):
    kind: Literal["model"] = "model"
    region: str
    stack: str
    members: tuple[MemberRef, ...]
    admin_path: str
    model_uri: str
    restore_uri: str
    probe_path: str
    probe_body: dict[str, Any]

    def target(self) -> str:
        return f"{self.stack} in {self.region} serving {self.model_uri}"

    def _load(self, member: MemberRef, uri: str) -> dict[str, Any]:
        return load_member_model(member, self.admin_path, uri)

    def _probe(self, member: MemberRef) -> int | None:
        try:
            return httpx.post(f"{member.url}{self.probe_path}", json=self.probe_body,
                              timeout=2).status_code
        except httpx.HTTPError:
            return None

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        return {m.name: self._load(m, self.model_uri) for m in self.members}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        observed = {m.name: self._probe(m) for m in self.members}
        if any(status == 200 for status in observed.values()):
            raise FaultError(f"model {self.model_uri} in {self.region}: inference still "
                             f"works: {observed}")
        return {"probe_status": observed}

    def undo(self, ctx: FaultContext) -> str:
        for member in self.members:
            self._load(member, self.restore_uri)
        failing = [m.name for m in self.members if self._probe(m) != 200]
        if failing:
            raise FaultError(f"restored {self.restore_uri} but inference fails on {failing}")
        return f"restored {self.restore_uri} on {len(self.members)} {self.stack} members in " \
               f"{self.region}"
