"""The local platform's serving-load faults (``ServingLoadControl``), as a part of
``LocalPlatform``: which members a queue burst floods, and which GPU a memory hog takes."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import ValidationError

from gameday.errors import FaultError
from gameday.platforms.base import check_region
from gameday.platforms.local.faults import GpuMemoryHog, MemberRef, QueueBurst, SideLoadFault
from gameday.platforms.local.part import PlatformPart

__all__ = ["ServingLoadFaults"]

_METRICS_PORT = "metrics"
_F = TypeVar("_F", bound=SideLoadFault)


class ServingLoadFaults(PlatformPart):
    def burst_queue(self, region: str, stack: str, *, concurrency: int = 64, rows: int = 1,
                    max_duration_s: float = 300.0) -> dict[str, Any]:
        servers = self.model_servers(region, stack, "there is no inference API to burst")
        without = [m.name for m in servers.members if _METRICS_PORT not in m.ports]
        if without:
            raise FaultError(f"{without} have no {_METRICS_PORT} port: a burst must be seen "
                             "in the server's own queue metrics")
        members = tuple(MemberRef(name=m.name, address=m.address,
                                  ports={"http": m.ports[servers.port],
                                         _METRICS_PORT: m.ports[_METRICS_PORT]})
                        for m in servers.members)
        return self.ledger.inject(_fault(
            QueueBurst, region=region, stack=stack, model=servers.model, members=members,
            probe_path=servers.probe_path, probe_body=servers.probe_body,
            concurrency=concurrency, rows=rows, max_duration_s=max_duration_s))

    def exhaust_gpu_memory(self, region: str, stack: str, *, fraction: float = 0.95,
                           device: int = 0, max_duration_s: float = 300.0) -> dict[str, Any]:
        check_region(region)
        if not self.members(region=region, stack=stack):
            raise FaultError(f"no {stack} member in {region}")
        return self.ledger.inject(_fault(GpuMemoryHog, region=region, stack=stack,
                                         fraction=fraction, device=device,
                                         max_duration_s=max_duration_s))

    def stop_serving_load(self, region: str, stack: str) -> dict[str, Any]:
        undone = self.ledger.undo(lambda r: isinstance(r.fault, SideLoadFault)
                                  and r.fault.region == region and r.fault.stack == stack)
        return {"region": region, "stack": stack, "undone": undone}


def _fault(kind: type[_F], **fields: Any) -> _F:
    """The fault, or a FaultError naming the argument out of range."""
    try:
        return kind(**fields)
    except ValidationError as exc:
        wrong = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise FaultError(f"{kind.__name__}: {wrong}") from None
