"""RPO from an acknowledgement ledger and an audit of the surviving store (plain data)."""

from __future__ import annotations

import random

import pytest

from gameday.errors import MeasurementError
from gameday.measure.rpo import measure_rpo


def test_nothing_lost_is_rpo_zero_and_the_write_in_flight_is_unknown_not_lost() -> None:
    acked = {seq: 100.0 + seq * 0.01 for seq in range(50)}
    present = [*range(50), 50]  # 50 reached the store, its ack never came back
    rpo = measure_rpo(acked, present, fault_start_s=101.0)
    assert rpo.lost == () and rpo.rpo_s == 0.0 and rpo.oldest_lost_ack_s is None
    assert rpo.unknown == (50,) and rpo.acknowledged == 50 and rpo.present == 51


def test_rpo_time_runs_from_the_oldest_lost_ack_to_the_fault_start() -> None:
    acked = {seq: 100.0 + seq * 0.01 for seq in range(100)}
    present = [seq for seq in range(100) if seq not in (91, 93, 94)]
    rpo = measure_rpo(acked, present, fault_start_s=101.0)
    assert rpo.lost == (91, 93, 94) and rpo.lost_count == 3
    assert rpo.rpo_s == pytest.approx(101.0 - 100.91)
    assert rpo.lost_after_fault == 0


def test_writes_acked_after_the_fault_and_lost_are_counted_apart() -> None:
    """An isolated old primary that kept acknowledging: its writes are lost, after the fault."""
    acked = {1: 99.0, 2: 100.5, 3: 101.5, 4: 102.0}
    rpo = measure_rpo(acked, [1, 2], fault_start_s=101.0)
    assert rpo.lost == (3, 4) and rpo.lost_after_fault == 2
    assert rpo.rpo_s == pytest.approx(-0.5)  # as defined: every loss came after the start


def test_the_lost_count_matches_an_independent_count_of_missing_acknowledged_rows() -> None:
    rng = random.Random(7)
    acked = {seq: 10.0 + seq / 1000 for seq in range(5000) if rng.random() < 0.98}
    present = {seq for seq in range(5000) if seq < 4200 or rng.random() < 0.5}
    independent = sum(1 for seq in acked if seq not in present)
    assert measure_rpo(acked, present, fault_start_s=14.5).lost_count == independent > 0


def test_a_negative_sequence_number_is_a_measurement_error() -> None:
    with pytest.raises(MeasurementError, match="sequence numbers"):
        measure_rpo({-1: 1.0}, [], fault_start_s=0.0)
