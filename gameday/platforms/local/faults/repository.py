"""Serving faults through a model repository (KServe v2, Triton's): a region's model unloaded,
another version loaded (a hot-swap, or a broken release that fails to load), the backend
stalled while every health check stays green. Each undo restores the model as the member's
own config says (the suite's version; a stall is just lifted) and checks that it answers.
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
        failing = list(self.members)
        while failing and time.monotonic() < deadline_s:
            failing = [m for m in failing if (a := self._infer(m)) is None
                       or a.status_code != 200]
            if failing:
                time.sleep(0.2)
        if failing:
            raise FaultError(f"{done}, but inference fails on {[m.name for m in failing]}")
        return f"{done} on {len(self.members)} {self.stack} members in {self.region}"

    def _restore(self) -> str:
        """Load the model as the member's own config says (the suite's version)."""
        for member in self.members:
            answer = self._post(member, f"/v2/repository/models/{self.model}/load")
            if answer.status_code != 200:
                raise FaultError(f"{member.name}: reloading {self.model} refused: "
                                 f"{answer.status_code} {answer.text[:200]}")
        return f"reloaded {self.model} from its config"


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
        for member in self.members:
            config = self._config(member)
            config["version_policy"] = {"specific": {"versions": [self.version]}}
            answer = self._post(member, f"/v2/repository/models/{self.model}/load",
                                {"parameters": {"config": json.dumps(config)}})
            loads[member.name] = {"status": answer.status_code,
                                  "error": "" if answer.status_code == 200
                                  else answer.text[:300]}
        return {"version": self.version, "loads": loads}

    def _config(self, member: MemberRef) -> dict[str, Any]:
        try:
            answer = httpx.get(f"{member.url}/v2/models/{self.model}/config", timeout=5)
        except httpx.HTTPError as exc:
            raise FaultError(f"{member.name}: reading the {self.model} config failed: "
                             f"{exc}") from None
        if answer.status_code != 200:
            raise FaultError(f"{member.name}: no {self.model} config: {answer.status_code}")
        config: dict[str, Any] = answer.json()
        return config

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
