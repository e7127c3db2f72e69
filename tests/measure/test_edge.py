from __future__ import annotations

import pytest

from gameday.measure import edge_intervals, first_marked_down_s
from gameday.records import EdgeServerSample


def sample(t_s: float, server: str = "a-0", *, up: bool = True, admin: str = "ready",
           region: str = "region-a") -> EdgeServerSample:
    return EdgeServerSample(t_s, "tabular", server, region, up, admin, "L7OK" if up else "L4CON")


def test_each_change_opens_an_interval_that_lasts_until_the_next_one():
    samples = [sample(0.0), sample(10.0, up=False), sample(14.0), sample(20.0, admin="maint")]
    intervals = edge_intervals(samples, end_s=30.0)
    assert [(i.state, i.start_s, i.end_s) for i in intervals] == [
        ("up", 0.0, 10.0), ("down", 10.0, 14.0), ("up", 14.0, 20.0), ("maint", 20.0, 30.0)]
    assert intervals[1].check == "L4CON"


def test_repeated_samples_of_one_state_merge_and_servers_are_kept_apart():
    samples = [sample(0.0, "b-0", region="region-b"), sample(0.0), sample(5.0),
               sample(6.0, "b-0", region="region-b", up=False)]
    intervals = edge_intervals(list(reversed(samples)), end_s=8.0)
    assert [(i.server, i.state, i.start_s, i.end_s) for i in intervals] == [
        ("a-0", "up", 0.0, 8.0), ("b-0", "up", 0.0, 6.0), ("b-0", "down", 6.0, 8.0)]


def test_maintenance_wins_over_health_and_a_draining_server_is_told_apart():
    intervals = edge_intervals([sample(0.0, up=False, admin="maint"),
                                sample(1.0, admin="drain"), sample(2.0, up=False,
                                                                   admin="drain")], end_s=3.0)
    assert [i.state for i in intervals] == ["maint", "drain", "down"]


def test_the_edge_marks_the_faulted_region_down_after_the_fault_start():
    samples = [sample(0.0), sample(4.0, up=False),  # an earlier blip does not count
               sample(5.0), sample(11.2, up=False), sample(11.0, "b-0", region="region-b",
                                                           up=False)]
    intervals = edge_intervals(samples, end_s=20.0)
    assert first_marked_down_s(intervals, "region-a", after_s=10.0) == pytest.approx(1.2)
    assert first_marked_down_s(intervals, "region-a", after_s=12.0) is None
    assert first_marked_down_s([], "region-a", after_s=10.0) is None
    # a mark after the fault ended is another fault's, not this one's
    assert first_marked_down_s(intervals, "region-a", after_s=10.0, before_s=11.0) is None
