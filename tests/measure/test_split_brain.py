"""Split brain from every node's writable samples (plain data)."""

from __future__ import annotations

import time

import pytest

from gameday.measure.split_brain import RoleSample, measure_split_brain


def _every_100ms(node: str, start_s: float, end_s: float, writable: bool) -> list[RoleSample]:
    count = round((end_s - start_s) / 0.1)
    return [RoleSample(start_s + i * 0.1, node, writable) for i in range(count)]


def test_a_clean_failover_has_no_instant_with_two_writable_nodes() -> None:
    samples = [*_every_100ms("pg-a", 0.0, 5.0, True), *_every_100ms("pg-a", 5.0, 10.0, False),
               *_every_100ms("pg-b", 0.0, 5.5, False), *_every_100ms("pg-b", 5.5, 10.0, True)]
    result = measure_split_brain(samples, max_age_s=0.25)
    assert not result.happened and result.seconds == 0.0
    assert result.unobserved_s == pytest.approx(0.0, abs=1e-9)


def test_an_old_primary_still_writable_after_promotion_is_a_window_with_both_nodes() -> None:
    samples = [*_every_100ms("pg-a", 0.0, 7.0, True), *_every_100ms("pg-a", 7.0, 10.0, False),
               *_every_100ms("pg-b", 0.0, 5.0, False), *_every_100ms("pg-b", 5.0, 10.0, True)]
    result = measure_split_brain(samples, max_age_s=0.25)
    assert result.happened and len(result.windows) == 1
    window = result.windows[0]
    assert window.nodes == ("pg-a", "pg-b")
    assert window.start_s == pytest.approx(5.0) and window.end_s == pytest.approx(7.0)
    assert result.seconds == pytest.approx(2.0)


def test_a_node_that_stops_answering_is_unobserved_not_safe_and_not_writable() -> None:
    samples = [*_every_100ms("pg-a", 0.0, 2.0, True),  # then silent (frozen) until 6 s
               *_every_100ms("pg-a", 6.0, 8.0, False),
               *_every_100ms("pg-b", 0.0, 8.0, False)]
    result = measure_split_brain(samples, max_age_s=0.25)
    assert not result.happened
    assert result.unobserved_s == pytest.approx(6.0 - 1.9 - 0.25, abs=0.01)


def test_no_samples_is_no_split_brain_and_nothing_observed() -> None:
    result = measure_split_brain([])
    assert not result.happened and result.unobserved_s == 0.0


def test_a_probe_without_an_answer_ends_the_nodes_last_state_at_once() -> None:
    """Promote mode: the standby is promoted 0.3 s after the primary stops answering, sooner
    than ``max_age_s``; the primary's last 'writable' must not hold through its silence."""
    samples = [*_every_100ms("pg-a", 0.0, 5.0, True),
               *[RoleSample(5.0 + i * 0.1, "pg-a", None) for i in range(50)],
               *_every_100ms("pg-b", 0.0, 5.3, False), *_every_100ms("pg-b", 5.3, 10.0, True)]
    result = measure_split_brain(samples, max_age_s=0.5)
    assert not result.happened
    # pg-a silent from 5 s to its last unanswered probe (9.9 s) and that probe's hold (0.5 s)
    assert result.unobserved_s == pytest.approx(5.4, abs=0.01)


def test_an_hour_of_samples_is_judged_in_seconds_not_hours() -> None:
    """18,000 samples per node; the scan this replaced was quadratic (~75 s here)."""
    samples = [*_every_100ms("pg-a", 0.0, 1800.0, True),
               *_every_100ms("pg-a", 1800.0, 3600.0, False),
               *_every_100ms("pg-b", 0.05, 1800.05, False),
               *_every_100ms("pg-b", 1800.05, 3600.05, True)]
    started = time.perf_counter()
    result = measure_split_brain(samples, max_age_s=0.5)
    assert time.perf_counter() - started < 10.0
    assert not result.happened
