"""What each cold start of a model server took, and what the users got meanwhile
(``gameday.coldstarts``: phases observed by the cold-start watch).

Per cold start, from its process start: to live, to model ready, to the first successful
inference (the watch's probe) and that inference's own latency; then from the request records:
the first good answer the member's region gave after the process start (the users' view), and
the requests scheduled from the process start to the first successful inference that got no
good answer, from any region (what users lost while it started; during a fault window these
overlap the fault's own count).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gameday.coldstarts import ColdStart
from gameday.measure.arrays import RequestArrays

__all__ = ["ColdStartFigures", "cold_start_figures"]


@dataclass(frozen=True, slots=True)
class ColdStartFigures:
    member: str
    region: str
    process_start_s: float
    to_live_s: float | None
    to_model_ready_s: float | None
    to_first_inference_s: float | None
    first_inference_latency_s: float | None
    probe_failures: int
    gave_up: bool
    to_first_region_answer_s: float | None  # the first good answer from its region
    requests_while_starting: int
    failed_while_starting: int


def cold_start_figures(starts: Sequence[ColdStart],
                       requests: RequestArrays) -> tuple[ColdStartFigures, ...]:
    return tuple(_figures(start, requests) for start in starts)


def _figures(start: ColdStart, requests: RequestArrays) -> ColdStartFigures:
    t0_s = start.process_start_s

    def since(t_s: float | None) -> float | None:
        return None if t_s is None else max(0.0, t_s - t0_s)

    region_good = requests.ok & (requests.region == start.region) & (requests.scheduled_s >= t0_s)
    first_region_s = float(requests.end_s[region_good].min()) if region_good.any() else None
    until_s = start.first_inference_s if start.first_inference_s is not None \
        else float(requests.scheduled_s[-1]) if len(requests) else t0_s
    starting = (requests.scheduled_s >= t0_s) & (requests.scheduled_s <= until_s)
    return ColdStartFigures(
        member=start.member, region=start.region, process_start_s=t0_s,
        to_live_s=since(start.live_s), to_model_ready_s=since(start.model_ready_s),
        to_first_inference_s=since(start.first_inference_s),
        first_inference_latency_s=start.first_inference_latency_s,
        probe_failures=start.probe_failures, gave_up=start.gave_up,
        to_first_region_answer_s=since(first_region_s),
        requests_while_starting=int(np.count_nonzero(starting)),
        failed_while_starting=int(np.count_nonzero(starting & ~requests.ok)))
