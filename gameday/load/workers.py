"""What the master and the workers of one generator say to each other (plain data, no Locust).

One open-model schedule, several generator processes (DESIGN.md, "Scale beyond one
machine"): the master (``gameday.load.master``) computes the one-process schedule and sends
worker i of n the sends i, i + n, i + 2n, ... (``Share.of_worker``) with the start time it
decided, as a Locust custom message; each worker (``gameday.load.worker``) paces its share,
records into ``requests-<generator>.w<i>.csv`` and answers with its totals. A worker that
stops answering Locust's heartbeats is lost, and the load's end says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gameday.errors import LoadError
from gameday.load.plan import LoadPlan, Share, is_loopback_host

__all__ = ["DONE", "READY", "REFUSED", "SHARE", "STOP", "Assignment", "merge_totals",
           "require_loopback_master"]

READY = "gameday_ready"  # worker -> master: joined, listening for its share (detail: pid, host)
SHARE = "gameday_share"  # master -> worker: its Assignment
STOP = "gameday_stop"  # master -> worker: stop now (detail: why)
REFUSED = "gameday_refused"  # master -> worker: no share for you (the plan has enough)
DONE = "gameday_done"  # worker -> master: its load_end totals, and which worker it was

# summed over the workers; the lag percentiles are the worst worker's (an upper bound)
_SUMMED = ("sent", "late", "scheduled", "recorded", "ok", "gave_up", "cancelled", "abandoned",
           "cpu_s")
_WORST = ("lag_p50_s", "lag_p99_s", "lag_max_s")


@dataclass(frozen=True, slots=True)
class Assignment:
    """One worker's part of a generator's run: the plan, the generator's name, its share of
    the schedule and the start (UNIX epoch) every worker paces from."""

    plan: LoadPlan
    name: str
    share: Share
    t0_s: float

    def to_message(self) -> dict[str, Any]:
        share = self.share
        return {"plan": self.plan.to_json(), "name": self.name, "worker": share.worker,
                "first": share.first, "stride": share.stride, "total": share.total,
                "t0_s": self.t0_s,
                # float64 bytes: the master's schedule exactly, whatever numpy a host has
                "offsets": np.ascontiguousarray(share.offsets_s, dtype="<f8").tobytes()}

    @classmethod
    def from_message(cls, data: object) -> Assignment:
        if not isinstance(data, dict):
            raise LoadError(f"{SHARE}: expected an object, got {type(data).__name__}")
        try:
            offsets = np.frombuffer(data["offsets"], dtype="<f8").astype(np.float64)
            share = Share(int(data["worker"]), int(data["first"]), int(data["stride"]),
                          int(data["total"]), offsets)
            return cls(LoadPlan.from_json(data["plan"], source=SHARE), str(data["name"]),
                       share, float(data["t0_s"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise LoadError(f"{SHARE}: malformed assignment: {exc}") from None


def merge_totals(per_worker: list[dict[str, Any]]) -> dict[str, Any]:
    """The generator's ``load_end`` figures from its workers' own."""
    merged: dict[str, Any] = {key: sum(totals.get(key) or 0 for totals in per_worker)
                              for key in _SUMMED}
    for key in _WORST:
        values = [totals[key] for totals in per_worker if totals.get(key) is not None]
        merged[key] = max(values) if values else None
    merged["saturated"] = any(totals.get("saturated") for totals in per_worker)
    return merged


def require_loopback_master(host: str, *, allow_remote: bool) -> None:
    """A worker joins a master on this host unless told, explicitly, that it may leave it."""
    if not allow_remote and not is_loopback_host(host):
        raise LoadError(f"master host {host!r} is not loopback (127.0.0.0/8, ::1 or "
                        "localhost); pass --allow-remote to join a master on another host")
