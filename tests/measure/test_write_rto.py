"""Write RTO and its parts from a write stream and role samples (plain data)."""

from __future__ import annotations

import pytest

from gameday.measure.split_brain import RoleSample
from gameday.measure.write_rto import measure_write_rto
from gameday.records import RequestRecord


def _write(seq: int, t_s: float, *, ok: bool, region: str) -> RequestRecord:
    return RequestRecord(scheduled_s=t_s, start_s=t_s, end_s=t_s + 0.005, stack="db",
                         endpoint="write", region=region if ok else "", status=200 if ok else 0,
                         ok=ok, error_kind="" if ok else "connection", seq=seq)


def test_write_rto_runs_to_the_first_ack_of_the_new_primary_with_its_parts() -> None:
    writes = [_write(i, 10 + i * 0.1, ok=True, region="region-a") for i in range(50)]  # <15 s
    writes += [_write(50 + i, 15 + i * 0.1, ok=False, region="") for i in range(3)]  # 15.0–15.2
    writes += [_write(53 + i, 15.3 + i * 0.1, ok=True, region="region-b") for i in range(20)]
    promotions = [RoleSample(14.9, "pg-b", False), RoleSample(15.25, "pg-b", True)]
    result = measure_write_rto(writes, promotions, fault_start_s=15.0, new_primary="pg-b",
                               new_primary_region="region-b")
    assert result.detect_s == pytest.approx(0.005)
    assert result.promote_s == pytest.approx(0.25)
    assert result.write_rto_s == pytest.approx(0.305)
    assert result.failed_writes == 3


def test_no_write_ever_acknowledged_by_the_new_primary_is_none_not_zero() -> None:
    writes = [_write(i, 15 + i * 0.1, ok=False, region="") for i in range(5)]
    result = measure_write_rto(writes, [], fault_start_s=15.0, new_primary="pg-b",
                               new_primary_region="region-b")
    assert result.write_rto_s is None and result.promote_s is None
    assert result.failed_writes == 5
