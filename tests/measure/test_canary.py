"""When the serving canary first noticed a fault in the target region."""

from __future__ import annotations

import pytest

from gameday.canaries import CanarySample
from gameday.measure.canary import first_canary_failure_s

T0_S = 1_800_000_000.0


def _sample(offset_s: float, region: str, ok: bool, latency_s: float = 0.01) -> CanarySample:
    return CanarySample(t_s=T0_S + offset_s, member=f"triton-server-{region[-1]}1",
                        region=region, stack="triton", ok=ok, latency_s=latency_s,
                        status=200 if ok else 0)


def test_the_first_failure_in_the_region_after_the_start_counts_when_it_gave_up() -> None:
    samples = [_sample(1.0, "region-a", False),  # before the fault: not this fault's
               _sample(10.0, "region-a", True), _sample(10.2, "region-b", False),
               _sample(10.5, "region-a", False, latency_s=1.0),  # a timeout: fails at +11.5
               _sample(11.0, "region-a", False, latency_s=0.002)]  # refused at +11.002
    assert first_canary_failure_s(samples, "region-a", T0_S + 10.0) == pytest.approx(1.002)


def test_no_failure_in_the_region_is_none() -> None:
    samples = [_sample(10.0, "region-a", True), _sample(11.0, "region-b", False)]
    assert first_canary_failure_s(samples, "region-a", T0_S + 10.0) is None


def test_a_failure_after_the_fault_ended_is_not_this_faults() -> None:
    samples = [_sample(10.0, "region-a", True), _sample(20.0, "region-a", False)]
    assert first_canary_failure_s(samples, "region-a", T0_S + 10.0, T0_S + 15.0) is None
