"""The local platform's input-drift fault (``InputDriftControl``), as a part of
``LocalPlatform``: which members a shifted client population sends to, and where."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from gameday.errors import FaultError
from gameday.platforms.base import check_region
from gameday.platforms.local.faults import MemberRef, ShiftedInputs
from gameday.platforms.local.part import PlatformPart
from gameday.platforms.shift import InputShift

__all__ = ["InputDriftFaults"]


class InputDriftFaults(PlatformPart):
    def shift_inputs(self, region: str, stack: str, shift: InputShift, *,
                     rate_per_s: float = 100.0, seed: int = 7,
                     max_duration_s: float = 300.0) -> dict[str, Any]:
        check_region(region)
        definition = self.topology().request.stack(stack)
        drift = definition.drift
        if drift is None:
            raise FaultError(f"stack {stack} declares no drift (path, reference_path, "
                             "endpoint): nothing to shift the inputs of")
        members = self.members(region=region, stack=stack, component=drift.component)
        if not members:
            raise FaultError(f"no {stack}.{drift.component} member in {region}")
        try:
            fault = ShiftedInputs(
                region=region, stack=stack, shift=shift, rate_per_s=rate_per_s, seed=seed,
                max_duration_s=max_duration_s, path=definition.endpoints[drift.endpoint],
                reference_path=drift.reference_path,
                members=tuple(MemberRef(name=m.name, address=m.address,
                                        ports={"http": m.ports[drift.port]}) for m in members))
        except ValidationError as exc:
            wrong = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                              for e in exc.errors())
            raise FaultError(f"shift_inputs: {wrong}") from None
        return self.ledger.inject(fault)

    def restore_inputs(self, region: str, stack: str) -> dict[str, Any]:
        undone = self.ledger.undo(lambda r: isinstance(r.fault, ShiftedInputs)
                                  and r.fault.region == region and r.fault.stack == stack)
        return {"region": region, "stack": stack, "undone": undone}
