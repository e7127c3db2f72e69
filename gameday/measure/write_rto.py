"""Write RTO of a database fault (DESIGN.md): from fault start to the first write acknowledged
by the new primary, with its parts — detect (the first failed write), promote (the standby
accepts writes, from its own ``pg_is_in_recovery()`` samples) and first acknowledged write.
All parts are seconds after the fault start; None when it never happened in the data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from gameday.measure.arrays import RequestArrays, Requests
from gameday.measure.split_brain import RoleSample

__all__ = ["WriteRto", "measure_write_rto"]


@dataclass(frozen=True, slots=True)
class WriteRto:
    fault_start_s: float
    write_rto_s: float | None  # ack of the first write the new primary acknowledged
    detect_s: float | None  # end of the first failed write ending at/after the fault start
    promote_s: float | None  # first sample of the new primary accepting writes
    failed_writes: int  # failed between the fault start and the first new-primary ack


def measure_write_rto(writes: Requests, promotions: Iterable[RoleSample], *,
                      fault_start_s: float, new_primary: str,
                      new_primary_region: str) -> WriteRto:
    """``writes``: the writer's request records (``region`` = who acknowledged, as the
    service or the edge names it); ``promotions``: role samples of the nodes."""
    arrays = RequestArrays.coerce(writes)
    after = arrays.end_s >= fault_start_s
    acked = after & arrays.ok & (arrays.region == new_primary_region)
    first_ack_s = float(arrays.end_s[acked].min()) if acked.any() else None
    failed = after & ~arrays.ok
    detect_s = float(arrays.end_s[failed].min()) - fault_start_s if failed.any() else None
    promoted = [s.t_s for s in promotions if s.node == new_primary and s.writable
                and s.t_s >= fault_start_s]
    until_s = np.inf if first_ack_s is None else first_ack_s
    return WriteRto(
        fault_start_s=fault_start_s,
        write_rto_s=None if first_ack_s is None else first_ack_s - fault_start_s,
        detect_s=detect_s,
        promote_s=min(promoted) - fault_start_s if promoted else None,
        failed_writes=int((failed & (arrays.end_s <= until_s)).sum()))
