"""Recovery point objective of one database fault, measured exactly as DESIGN.md defines it.

A writer sends numbered writes and records which were acknowledged, and when. After the
failover the harness audits the surviving primary (SQL, not through the service) for every
sequence number present. Then:

- lost = acknowledged but absent from the surviving store;
- unknown = present but never acknowledged (the write in flight at the crash: not a loss);
- RPO time = fault start − ack time of the oldest lost write (0 when nothing is lost). A lost
  write acknowledged *after* the fault started (an isolated old primary that kept accepting)
  gives a negative time; such writes are also counted apart, as ``lost_after_fault``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gameday.errors import MeasurementError

__all__ = ["Rpo", "measure_rpo"]


@dataclass(frozen=True, slots=True)
class Rpo:
    fault_start_s: float
    acknowledged: int
    present: int
    lost: tuple[int, ...]  # sequence numbers, ascending
    unknown: tuple[int, ...]  # present, never acknowledged
    lost_after_fault: int  # lost writes acknowledged after the fault started
    rpo_s: float  # 0 when nothing is lost
    oldest_lost_ack_s: float | None

    @property
    def lost_count(self) -> int:
        return len(self.lost)


def measure_rpo(acknowledged: Mapping[int, float], present: Iterable[int], *,
                fault_start_s: float) -> Rpo:
    """``acknowledged``: sequence number → ack time (epoch s) of every acknowledged write;
    ``present``: every sequence number the audit found in the surviving store."""
    if any(seq < 0 for seq in acknowledged):
        raise MeasurementError("sequence numbers must be >= 0")
    found = set(present)
    lost = tuple(sorted(seq for seq in acknowledged if seq not in found))
    unknown = tuple(sorted(found - set(acknowledged)))
    oldest_ack_s = min((acknowledged[seq] for seq in lost), default=None)
    return Rpo(
        fault_start_s=fault_start_s, acknowledged=len(acknowledged), present=len(found),
        lost=lost, unknown=unknown,
        lost_after_fault=sum(1 for seq in lost if acknowledged[seq] > fault_start_s),
        rpo_s=0.0 if oldest_ack_s is None else fault_start_s - oldest_ack_s,
        oldest_lost_ack_s=oldest_ack_s)
