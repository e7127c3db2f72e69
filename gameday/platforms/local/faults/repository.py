"""Serving faults through a model repository (KServe v2, Triton's): a region's model unloaded,
another version loaded (a hot-swap, or a broken release that fails to load), the backend
stalled while every health check stays green. Each undo loads the model with the config each
member had before the fault (a stall is just lifted) and checks that it answers as before.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

import httpx

from gameday.errors import FaultError
from gameday.platforms.local.faults.base import FaultContext, LocalFault, MemberRef

__all__ = ["BackendStalled", "ModelUnloaded", "RepositoryFault", "VersionLoaded"]

_LOAD_TIMEOUT_S = 60.0
_READY_WAIT_S = 60.0
_STALL_PROBE_S = 1.0  # an inference that has not answered in this long is stalled


class RepositoryFault(LocalFault):
    """What the three share: the members' model API, and the undo."""

    region: str
    stack: str
    model: str
    members: tuple[MemberRef, ...]  # each with its model-serving port only
    probe_path: str
    probe_body: dict[str, Any]
    # each member's model config (JSON) as it served before the fault: the undo loads it
    # again. Not "load" without a config: after a load with a config override, Triton 2.51
    # keeps the override (measured: a hot-swap to version 2 "undone" so went on serving 2)
    restore_configs: tuple[str, ...]

    def target(self) -> str:
        return f"{self.stack} model {self.model} in {self.region}"

    def _post(self, member: MemberRef, path: str, body: dict[str, Any] | None = None,
              timeout_s: float = _LOAD_TIMEOUT_S) -> httpx.Response:
        try:
            return httpx.post(f"{member.url}{path}", json=body or {}, timeout=timeout_s)
        except httpx.HTTPError as exc:
            raise FaultError(f"{member.name}: POST {path} failed: {exc}") from None

    def _ready(self, member: MemberRef) -> bool:
        try:
            return httpx.get(f"{member.url}/v2/models/{self.model}/ready",
                             timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _infer(self, member: MemberRef, timeout_s: float = 2.0) -> httpx.Response | None:
        """The stack's probe request; None when it got no answer in time."""
        try:
            return httpx.post(f"{member.url}{self.probe_path}", json=self.probe_body,
                              timeout=timeout_s)
        except httpx.HTTPError:
            return None

    def undo(self, ctx: FaultContext) -> str:
        done = self._restore()
        deadline_s = time.monotonic() + _READY_WAIT_S
        configs = dict(zip((m.name for m in self.members), self.restore_configs, strict=True))
        failing = list(self.members)
        while failing and time.monotonic() < deadline_s:
            failing = [m for m in failing if not self._answers_as_before(m, configs[m.name])]
            if failing:
                time.sleep(0.2)
        if failing:
            raise FaultError(f"{done}, but {[m.name for m in failing]} do not answer as before")
        return f"{done} on {len(self.members)} {self.stack} members in {self.region}"

    def _restore(self) -> str:
        """Load each member's model with the config it had before the fault."""
        for member, config in zip(self.members, self.restore_configs, strict=True):
            answer = self._post(member, f"/v2/repository/models/{self.model}/load",
                                {"parameters": {"config": config}})
            if answer.status_code != 200:
                raise FaultError(f"{member.name}: reloading {self.model} refused: "
                                 f"{answer.status_code} {answer.text[:200]}")
        return f"reloaded {self.model} as it was"

    def _answers_as_before(self, member: MemberRef, config: str) -> bool:
        """A good answer, from the version the config before the fault pinned (if any)."""
        answer = self._infer(member)
        if answer is None or answer.status_code != 200:
            return False
        pinned = json.loads(config).get("version_policy", {}).get("specific", {})
        versions = [str(v) for v in pinned.get("versions", [])]
        return not versions or answer.json().get("model_version") in versions


class ModelUnloaded(RepositoryFault):
    kind: Literal["model_unloaded"] = "model_unloaded"

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        done = {}
        for member in self.members:
            answer = self._post(member, f"/v2/repository/models/{self.model}/unload")
            done[member.name] = answer.status_code
        return {"unloaded": done}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        # unloading ends once in-flight requests finished: give it a moment
        deadline_s = time.monotonic() + 10
        while (ready := [m.name for m in self.members if self._ready(m)]) \
                and time.monotonic() < deadline_s:
            time.sleep(0.1)
        if ready:
            raise FaultError(f"{self.model} still ready on {ready} after the unload")
        return {"model_ready": dict.fromkeys((m.name for m in self.members), False)}


class VersionLoaded(RepositoryFault):
    """``version`` loaded through the repository API with the member's config, only its
    version policy changed. Triton keeps what it served when the new version fails to load:
    ``verify`` reports which version answers then, and what the load said."""

    kind: Literal["version_loaded"] = "version_loaded"
    version: int

    def target(self) -> str:
        return f"{self.stack} model {self.model} version {self.version} in {self.region}"

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        loads = {}
        for member, before in zip(self.members, self.restore_configs, strict=True):
            config = json.loads(before)
            config["version_policy"] = {"specific": {"versions": [self.version]}}
            answer = self._post(member, f"/v2/repository/models/{self.model}/load",
                                {"parameters": {"config": json.dumps(config)}})
            loads[member.name] = {"status": answer.status_code,
                                  "error": "" if answer.status_code == 200
                                  else answer.text[:300]}
        return {"version": self.version, "loads": loads}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        serving = {}
        for member in self.members:
            answer = self._infer(member)
            serving[member.name] = answer.json().get("model_version") \
                if answer is not None and answer.status_code == 200 else None
        if any(version is None for version in serving.values()):
            raise FaultError(f"after loading version {self.version}, {self.model} does not "
                             f"answer on every member: {serving}")
        return {"serving_versions": serving,
                "loaded": all(v == str(self.version) for v in serving.values())}


class BackendStalled(RepositoryFault):
    """The model's ``stall`` control file: every execution waits while it exists, the server
    and the model's readiness stay green."""

    kind: Literal["backend_stalled"] = "backend_stalled"
    control_dirs: tuple[str, ...]  # one per member, in the order of ``members``

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        for folder in self.control_dirs:
            Path(folder, "stall").touch()
        return {"stalled": [m.name for m in self.members]}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        observed = {}
        for member in self.members:
            answered = self._infer(member, timeout_s=_STALL_PROBE_S)
            observed[member.name] = {"inference": "no answer" if answered is None
                                     else answered.status_code,
                                     "model_ready": self._ready(member)}
        answering = [name for name, o in observed.items() if o["inference"] != "no answer"]
        if answering:
            raise FaultError(f"stalled, yet {answering} still answer inference: {observed}")
        return {"members": observed}

    def _restore(self) -> str:
        for folder in self.control_dirs:
            Path(folder, "stall").unlink(missing_ok=True)
        return "removed the stall"
