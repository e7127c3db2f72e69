"""The kind platform's fault ledger: ``faults.json`` in the platform's home, one typed record
per fault in force (what, owned by which process, since when). A fault is recorded before it
is injected, verified, and undone again if it did not take effect; whoever rolls it back —
the capability, ``reset_faults``, the roll-back of a dead owner's faults — calls its own
``undo``. There is no daemon on kind: a dead owner's faults are rolled back by the next
process that touches the ledger (every inject, and ``roll_back_orphans``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gameday.errors import FaultError, GamedayError, PlatformError
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.faultbase import KindFault
from gameday.platforms.kind.linkfaults import LinkToxic
from gameday.platforms.kind.podfaults import PodFreeze, WorkloadHold
from gameday.platforms.kind.regionfaults import NetworkCut, NodeStop
from gameday.platforms.local.owner import Owner

__all__ = ["FAULTS", "Fault", "FaultRecord", "KindLedger"]

FAULTS: dict[str, type[KindFault]] = {
    "node_stop": NodeStop,
    "network_cut": NetworkCut,
    "workload_hold": WorkloadHold,
    "pod_freeze": PodFreeze,
    "link_toxic": LinkToxic,
}

Fault = Annotated[NodeStop | NetworkCut | WorkloadHold | PodFreeze | LinkToxic,
                  Field(discriminator="kind")]


class FaultRecord(BaseModel):
    """A fault in force: what, since when, owned by which process (None: nobody's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    fault: Fault
    owner: Owner | None = None
    injected_s: float = Field(default_factory=time.time)

    def describe(self) -> str:
        owner = f"pid {self.owner.pid}" if self.owner else "no owner"
        if self.owner and not self.owner.alive():
            owner += ", ended"
        return f"{self.fault.kind}: {self.fault.target()} (owner {owner})"


class _LedgerFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    faults: list[FaultRecord] = []


class KindLedger:
    def __init__(self, env: KindEnv) -> None:
        self.env = env
        self.path = env.home / "faults.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[FaultRecord]]:
        """The records, for reading and changing in place, under an exclusive lock."""
        self.env.home.mkdir(parents=True, exist_ok=True)
        with (self.env.home / "faults.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            records = self._read()
            before = list(records)
            yield records
            if records != before:
                temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
                temporary.write_text(_LedgerFile(faults=records).model_dump_json(indent=2))
                temporary.replace(self.path)

    def _read(self) -> list[FaultRecord]:
        if not self.path.exists():
            return []
        try:
            return _LedgerFile.model_validate_json(self.path.read_text()).faults
        except (ValidationError, OSError) as exc:
            raise PlatformError(f"{self.path}: unreadable fault ledger ({exc}); the faults it "
                                "held must be undone by hand") from None

    def records(self) -> list[FaultRecord]:
        if not self.path.exists():  # a read makes no home (`gameday status` on a bare one)
            return []
        with self._locked() as records:
            return list(records)

    def _clear(self, record_id: str) -> None:
        with self._locked() as records:
            records[:] = [r for r in records if r.id != record_id]

    def inject(self, fault: KindFault) -> dict[str, Any]:
        """Record, inject, verify; what inject did and verify observed, for the journal.
        A fault that did not take effect is undone and cleared before the error is raised."""
        self.roll_back_orphans()
        record = FaultRecord.model_validate({"fault": fault.model_dump(), "owner": Owner.me()})
        with self._locked() as records:
            records.append(record)
        try:
            done = fault.inject(self.env)
            observed = fault.verify(self.env)
        except BaseException as exc:  # Ctrl-C included: an injected fault is always undone
            self._undo_failed(record, exc)
            if isinstance(exc, GamedayError) or not isinstance(exc, Exception):
                raise
            raise FaultError(f"{fault.kind} {fault.target()}: {exc}") from exc
        return {"fault_id": record.id, **done, **observed}

    def _undo_failed(self, record: FaultRecord, cause: BaseException) -> None:
        """Undo a fault whose inject or verify failed; it stays recorded if that fails too."""
        try:
            record.fault.undo(self.env)
        except Exception as exc:
            raise FaultError(f"{record.describe()}: {cause}; undoing it failed too, so it "
                             f"stays in the ledger for reset_faults: {exc}") from cause
        self._clear(record.id)

    def undo(self, which: Callable[[FaultRecord], bool]) -> list[str]:
        """Undo every recorded fault ``which`` selects, the newest first; each is cleared once
        undone, and one that could not be undone stays (a later reset tries again)."""
        undone, failed = [], []
        for record in sorted(self.records(), key=lambda r: -r.injected_s):
            if not which(record):
                continue
            try:
                undone.append(record.fault.undo(self.env))
            except Exception as exc:  # the others must still be undone; this one stays
                failed.append(f"{record.describe()}: {exc}")
                continue
            self._clear(record.id)
        if failed:
            raise FaultError(f"could not undo {len(failed)} fault(s), still injected: "
                             f"{'; '.join(failed)} (undone: {', '.join(undone) or 'none'})")
        return undone

    def roll_back_orphans(self) -> list[str]:
        """Undo the faults whose owner has ended (a run killed mid-fault)."""
        return self.undo(lambda r: r.owner is not None and not r.owner.alive())
