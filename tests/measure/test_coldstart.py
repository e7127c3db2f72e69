"""Cold-start figures from a watched start and the request records around it."""

from __future__ import annotations

import pytest

from gameday.coldstarts import ColdStart
from gameday.measure.arrays import RequestArrays
from gameday.measure.coldstart import cold_start_figures
from gameday.records import RequestRecord

T0_S = 1_800_000_000.0


def _start(**changes: object) -> ColdStart:
    fields: dict[str, object] = dict(
        member="triton-server-a1", region="region-a", stack="triton", pid=42,
        process_start_s=T0_S + 10.0, live_s=T0_S + 12.5, model_ready_s=T0_S + 12.5,
        first_inference_s=T0_S + 12.6, first_inference_latency_s=0.04, probe_failures=1,
        gave_up=False)
    return ColdStart(**{**fields, **changes})  # type: ignore[arg-type]


def _requests() -> RequestArrays:
    """10 req/s for 20 s: region-b serves until +13 s, region-a after; the requests scheduled
    from +10.0 to +10.9 s fail (the failover had not happened yet)."""
    records = []
    for step in range(200):
        t_s = T0_S + step * 0.1
        if 100 <= step < 110:
            records.append(RequestRecord(t_s, t_s, t_s + 2.0, "triton", "infer", "", 0, False,
                                         "timeout"))
            continue
        region = "region-a" if step < 100 or step >= 130 else "region-b"
        records.append(RequestRecord(t_s, t_s, t_s + 0.01, "triton", "infer", region, 200,
                                     True, model_version="1"))
    return RequestArrays.of(records)


def test_phases_count_from_the_process_start_and_users_losses_until_the_first_inference(
        ) -> None:
    (figures,) = cold_start_figures([_start()], _requests())
    assert figures.to_live_s == pytest.approx(2.5)
    assert figures.to_model_ready_s == pytest.approx(2.5)
    assert figures.to_first_inference_s == pytest.approx(2.6)
    assert figures.first_inference_latency_s == pytest.approx(0.04)
    assert figures.probe_failures == 1 and not figures.gave_up
    # region-a's first good answer after the start: the request scheduled at +13.0 s
    assert figures.to_first_region_answer_s == pytest.approx(3.01)
    # scheduled from +10.0 to +12.6 s: 27 requests, the first ten failed
    assert figures.requests_while_starting == 27
    assert figures.failed_while_starting == 10


def test_a_start_that_never_served_counts_losses_to_the_end_of_the_records() -> None:
    start = _start(live_s=None, model_ready_s=None, first_inference_s=None,
                   first_inference_latency_s=None, gave_up=True)
    (figures,) = cold_start_figures([start], _requests())
    assert figures.to_live_s is None and figures.to_first_inference_s is None
    assert figures.gave_up
    assert figures.requests_while_starting == 100 and figures.failed_while_starting == 10
