"""Input drift: a shifted client population sends a region's members of a stack real requests
whose inputs are the stack's training rows with a shift applied (``gameday.platforms.shift``),
open loop at ``rate_per_s`` to each member, from a side process
(``gameday.platforms.local.population``) that keeps its own deadline.

The rows come from a member's ``reference_path`` (the reference sample its drift test
compares against), so the unshifted population would be the training distribution itself:
whatever the members then call drift is the shift's doing. ``verify`` holds once every member
answered shifted requests (an answer other than 200, such as a 422 for a shift that leaves a
field's range, fails it, naming what came back). ``undo`` stops the side process; the members'
input windows keep the shifted rows until newer inputs replace them (that tail is measured,
not hidden).
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any, Literal

import httpx
from pydantic import Field

from gameday.errors import FaultError
from gameday.platforms.local.faults.base import FaultContext, MemberRef
from gameday.platforms.local.faults.sideprocess import SideLoadFault
from gameday.platforms.shift import FeatureShift, shifted

__all__ = ["ShiftedInputs"]

_START_WAIT_S = 10.0
_VERIFY_WAIT_S = 8.0
_VERIFY_ANSWERS = 5  # shifted answers per member that prove it takes the population
_POLL_S = 0.1
_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


class ShiftedInputs(SideLoadFault):
    kind: Literal["shifted_inputs"] = "shifted_inputs"
    side_module = "gameday.platforms.local.population"
    members: tuple[MemberRef, ...] = Field(min_length=1)  # each with its "http" port
    path: str  # where the requests go (the stack's endpoint)
    reference_path: str
    shift: dict[str, FeatureShift] = Field(min_length=1)
    rate_per_s: float = Field(100.0, gt=0, le=10_000)  # to each member
    seed: int = 7

    def target(self) -> str:
        return (f"{self.stack} members in {self.region}: {self.rate_per_s:g} shifted "
                f"requests/s each ({', '.join(sorted(self.shift))})")

    def _address(self, member: MemberRef) -> str:
        if ipaddress.ip_address(member.address) not in _LOOPBACK:
            raise FaultError(f"{member.name} at {member.address}: only 127.0.0.0/8 targets "
                             "(the network rule)")
        return f"{member.address}:{member.ports['http']}"

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        addresses = [self._address(m) for m in self.members]
        rows = self._reference(self.members[0])
        side = self.side(ctx)
        body = side.write_input({"bodies": shifted(rows, self.shift, self.seed)})
        pid = side.start(["--path", self.path, "--body-file", str(body),
                          "--rate-per-s", str(self.rate_per_s),
                          "--max-duration-s", str(self.max_duration_s), *addresses])
        side.wait_status("sending", _START_WAIT_S)
        return {"population_pid": pid, "rate_per_s_per_member": self.rate_per_s,
                "reference_rows": len(rows), "max_duration_s": self.max_duration_s,
                "shift": {name: change.model_dump(exclude_defaults=True)
                          for name, change in self.shift.items()}}

    def _reference(self, member: MemberRef) -> list[dict[str, Any]]:
        url = f"http://{self._address(member)}{self.reference_path}"
        try:
            answer = httpx.get(url, timeout=10, trust_env=False)
            answer.raise_for_status()
            rows = answer.json()["transactions"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise FaultError(f"{member.name}: no reference rows from {url}: {exc}") from None
        if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
            raise FaultError(f"{member.name} serves no reference sample at {url} (a model "
                             "trained before profiles carried one? run `make setup`)")
        return rows

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        side = self.side(ctx)
        deadline_s = time.monotonic() + _VERIFY_WAIT_S
        while True:
            if side.process() is None:
                raise FaultError(f"the shifted population is not running: {side.log_tail()}")
            targets = (side.status() or {}).get("targets", {})
            seen = {m.name: targets.get(self._address(m), {}) for m in self.members}
            refused = {name: figures["answered"] for name, figures in seen.items()
                       if sum(figures.get("answered", {}).values()) >= _VERIFY_ANSWERS
                       and not figures["answered"].get("200")}
            if refused:
                raise FaultError(f"the shifted requests are refused (HTTP status: count): "
                                 f"{refused}; does the shift leave a field's range?")
            waiting = [name for name, figures in seen.items()
                       if figures.get("answered", {}).get("200", 0) < _VERIFY_ANSWERS]
            if not waiting:
                return {"members": seen}
            if time.monotonic() > deadline_s:
                raise FaultError(f"shifted requests not answered by {waiting} after "
                                 f"{_VERIFY_WAIT_S:g} s: {seen}")
            time.sleep(_POLL_S)

    def undo(self, ctx: FaultContext) -> str:
        side = self.side(ctx)
        last = side.status() or {}
        stopped = side.stop()
        sent = sum(int(t.get("sent", 0)) for t in last.get("targets", {}).values())
        return f"{stopped}; about {sent} shifted requests sent to {self.stack} in {self.region}"
