"""The fault ledger seen from a client of the supervisor: inject a fault (recorded with its
owner first, then done, then verified — undone again if it did not take effect) and undo
faults, always through the fault's own ``undo``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from gameday.errors import FaultError, GamedayError
from gameday.platforms.local import control
from gameday.platforms.local.faults import Fault, FaultContext, FaultRecord
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.owner import Owner
from gameday.platforms.local.state import State

__all__ = ["Ledger"]


class Ledger:
    def __init__(self, home: LocalHome, proxy_api_url: Callable[[], str]) -> None:
        self.home = home
        self._proxy_api_url = proxy_api_url

    def context(self) -> FaultContext:
        def call(op: str, **arguments: Any) -> Any:
            return control.call(self.home, op, **arguments)

        try:
            url = self._proxy_api_url()
        except GamedayError:
            url = ""
        return FaultContext(home=self.home, proxy_api_url=url, call=call)

    def records(self) -> list[FaultRecord]:
        try:
            return State.model_validate(control.call(self.home, "status", timeout_s=5)).faults
        except control.SupervisorUnreachable:
            state = State.load(self.home)
            return state.faults if state else []

    def inject(self, fault: Fault) -> dict[str, Any]:
        """Record, inject, verify; what inject did and verify observed, for the journal."""
        record = FaultRecord(fault=fault, owner=Owner.me())
        control.call(self.home, "record_fault", record=record.model_dump(mode="json"))
        ctx = self.context()
        try:
            done = fault.inject(ctx)
            observed = fault.verify(ctx)
        except Exception as exc:
            try:
                fault.undo(ctx)
            finally:
                control.call(self.home, "clear_fault", fault_id=record.id)
            if isinstance(exc, GamedayError):
                raise
            raise FaultError(f"{fault.kind} {fault.target()}: {exc}") from exc
        return {"fault_id": record.id, **done, **observed}

    def replace(self, record: FaultRecord) -> None:
        control.call(self.home, "record_fault", record=record.model_dump(mode="json"))

    def undo(self, which: Callable[[FaultRecord], bool]) -> list[str]:
        """Undo every recorded fault ``which`` selects, the newest first (a model broken
        before its region was killed is restored once the region is back); each is cleared
        once undone."""
        ctx = self.context()
        undone, failed = [], []
        for record in sorted(self.records(), key=lambda r: -r.injected_s):
            if not which(record):
                continue
            try:
                undone.append(record.fault.undo(ctx))
            except Exception as exc:  # the others must still be undone; this one stays
                failed.append(f"{record.describe()}: {exc}")
                continue
            with contextlib.suppress(control.SupervisorUnreachable):
                control.call(self.home, "clear_fault", fault_id=record.id)
        if failed:
            raise FaultError(f"could not undo {len(failed)} fault(s), still injected: "
                             f"{'; '.join(failed)} (undone: {', '.join(undone) or 'none'})")
        return undone
