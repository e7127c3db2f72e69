"""Member hold: named members' process groups SIGKILLed (or SIGSTOPped), held until undone —
a host crash or freeze of one database node, where a region hold takes the whole region."""

from __future__ import annotations

from typing import Any, Literal

from gameday.platforms.local.control import SupervisorUnreachable
from gameday.platforms.local.faults.base import FaultContext, LocalFault, MemberRef
from gameday.platforms.local.faults.region import check_held

__all__ = ["MemberHold"]


class MemberHold(LocalFault):
    kind: Literal["member_hold"] = "member_hold"
    members: tuple[MemberRef, ...]
    freeze: bool = False

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.members]

    def target(self) -> str:
        return f"{', '.join(self.names)} ({'frozen' if self.freeze else 'killed'})"

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        stopped = ctx.call("stop_members", names=self.names, freeze=self.freeze)
        return {"stopped": [m["spec"]["name"] for m in stopped]}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        return check_held(ctx, self.members, freeze=self.freeze, what=", ".join(self.names),
                          names=set(self.names))

    def undo(self, ctx: FaultContext) -> str:
        try:
            ctx.call("restore_members", names=self.names)
        except SupervisorUnreachable:
            return f"{', '.join(self.names)}: no supervisor (nothing runs to restore)"
        return f"restored {', '.join(self.names)}"
