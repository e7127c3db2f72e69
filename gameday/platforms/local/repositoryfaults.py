"""The local platform's serving faults through a model repository (``ModelRepositoryControl``),
as a part of ``LocalPlatform``: which members, which model, where their control files are."""

from __future__ import annotations

from typing import Any

import httpx

from gameday.errors import FaultError
from gameday.platforms.local.faults import (
    BackendStalled,
    MemberRef,
    ModelUnloaded,
    RepositoryFault,
    VersionLoaded,
)
from gameday.platforms.local.part import PlatformPart
from gameday.platforms.local.topology import member_data_dir

__all__ = ["RepositoryFaults"]


class RepositoryFaults(PlatformPart):
    def unload_model(self, region: str, stack: str) -> dict[str, Any]:
        return self.ledger.inject(ModelUnloaded(**self._repository(region, stack)))

    def load_model_version(self, region: str, stack: str, version: int) -> dict[str, Any]:
        return self.ledger.inject(VersionLoaded(**self._repository(region, stack),
                                                version=version))

    def stall_backend(self, region: str, stack: str) -> dict[str, Any]:
        where = self._repository(region, stack)
        definition = self.topology().request.stack(stack).model_repository
        assert definition is not None  # _repository checked it
        folders = tuple(str(member_data_dir(self.home.root, m.name) / definition.control_dir)
                        for m in where["members"])
        return self.ledger.inject(BackendStalled(**where, control_dirs=folders))

    def restore_serving(self, region: str, stack: str) -> dict[str, Any]:
        undone = self.ledger.undo(lambda r: isinstance(r.fault, RepositoryFault)
                                  and r.fault.region == region and r.fault.stack == stack)
        return {"region": region, "stack": stack, "undone": undone}

    def _repository(self, region: str, stack: str) -> dict[str, Any]:
        servers = self.model_servers(region, stack, "it has no model repository API to fault")
        members = tuple(MemberRef(name=m.name, address=m.address,
                                  ports={servers.port: m.ports[servers.port]})
                        for m in servers.members)
        return {"region": region, "stack": stack, "model": servers.model,
                "members": members, "probe_path": servers.probe_path,
                "probe_body": servers.probe_body,
                "restore_configs": tuple(_config(m, servers.model) for m in members)}


def _config(member: MemberRef, model: str) -> str:
    """The member's model config as it serves now (JSON): what the undo loads again."""
    try:
        answer = httpx.get(f"{member.url}/v2/models/{model}/config", timeout=5)
    except httpx.HTTPError as exc:
        raise FaultError(f"{member.name}: reading the {model} config failed: {exc}") from None
    if answer.status_code != 200:
        raise FaultError(f"{member.name}: {model} is not loaded ({answer.status_code}): "
                         "undo the fault in force first (restore_serving)")
    return answer.text
