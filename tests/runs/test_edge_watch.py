"""The run's edge watch writes each server's first sample and every change of its state, and
notes a failing edge once without stopping. (The real edge's view during an outage is checked
in test_region_outage_run.py.)"""

from __future__ import annotations

import time
from pathlib import Path

from gameday.edgewatch import EdgeWatch
from gameday.platforms.base import Member, Progress, StackRequest
from gameday.records import (
    EdgeServerSample,
    EventKind,
    EventLog,
    read_edge_samples,
    read_events,
)


class _ScriptedEdge:
    """An EdgeObserver whose answers the test scripts: a list of states, or an exception."""

    name = "scripted"

    def __init__(self, answers: list[list[tuple[str, bool, str, str]] | Exception]) -> None:
        self.answers = answers
        self.polls = 0

    def edge_server_states(self) -> list[EdgeServerSample]:
        answer = self.answers[min(self.polls, len(self.answers) - 1)]
        self.polls += 1
        if isinstance(answer, Exception):
            raise answer
        return [EdgeServerSample(t_s=time.time(), backend="tabular", server=server,
                                 region="region-a", up=up, admin=admin, check=check)
                for server, up, admin, check in answer]

    # the rest of the Platform interface, unused by the watch
    def up(self, request: StackRequest, *, progress: Progress,
           tie_to_caller: bool = False) -> None: ...
    def experiment_configuration(self) -> dict[str, str]: return {}
    def down(self, *, progress: Progress) -> list[str]: return []
    def is_up(self) -> bool: return True
    def members(self, *, region: str | None = None, stack: str | None = None,
                component: str | None = None) -> list[Member]: return []
    def edge_url(self, stack: str) -> str: return ""
    def reset_faults(self) -> list[str]: return []
    def check_prerequisites(self) -> None: return None


UP = ("a1", True, "ready", "L7OK")
DOWN = ("a1", False, "ready", "L4CON")
B_UP = ("b1", True, "ready", "L7OK")


def test_only_first_samples_and_changes_are_written(tmp_path: Path) -> None:
    edge = _ScriptedEdge([[UP, B_UP], [UP, B_UP], [DOWN, B_UP], [DOWN, B_UP], [UP, B_UP]])
    watch = EdgeWatch(edge, tmp_path, EventLog(tmp_path / "events.jsonl"))
    written = [watch.poll_once() for _ in range(5)]
    assert [len(batch) for batch in written] == [2, 0, 1, 0, 1]
    samples = read_edge_samples(tmp_path)
    assert [(s.server, s.up, s.check) for s in samples] == [
        ("a1", True, "L7OK"), ("b1", True, "L7OK"), ("a1", False, "L4CON"), ("a1", True, "L7OK")]


def test_a_failing_edge_is_noted_once_and_the_watch_goes_on(tmp_path: Path) -> None:
    edge = _ScriptedEdge([OSError("no admin socket"), OSError("still none"), [UP]])
    watch = EdgeWatch(edge, tmp_path, EventLog(tmp_path / "events.jsonl"), interval_s=0.01)
    watch.start()
    deadline = time.monotonic() + 5
    while not read_edge_samples(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    watch.stop()
    failed = [e for e in read_events(tmp_path) if e.kind == EventKind.EDGE_WATCH_FAILED]
    assert len(failed) == 1 and "no admin socket" in failed[0].detail["message"]
    assert [(s.server, s.up) for s in read_edge_samples(tmp_path)] == [("a1", True)]
    polls = edge.polls
    time.sleep(0.1)
    assert edge.polls == polls  # stopped


def _watching(edge: _ScriptedEdge, tmp_path: Path, *, polls: int) -> EdgeWatch:
    """A started watch that has polled ``polls`` times (the run's watch polled all along)."""
    watch = EdgeWatch(edge, tmp_path, EventLog(tmp_path / "events.jsonl"), interval_s=0.01)
    watch.start()
    deadline = time.monotonic() + 5
    while edge.polls < polls and time.monotonic() < deadline:
        time.sleep(0.005)
    return watch


def test_settle_returns_once_a_server_taken_down_is_up_again(tmp_path: Path) -> None:
    edge = _ScriptedEdge([[UP, B_UP]] * 3 + [[DOWN, B_UP]] * 20 + [[UP, B_UP]])
    watch = _watching(edge, tmp_path, polls=5)  # a1 seen down
    try:
        assert watch.settle(timeout_s=30, interval_s=0.01) == []
        assert edge.polls > 23  # it waited for the poll that saw a1 up again
    finally:
        watch.stop()
    assert [s.up for s in read_edge_samples(tmp_path) if s.server == "a1"] == [True, False, True]


def test_settle_names_what_stays_down_and_ignores_what_was_never_up_or_was_removed(
        tmp_path: Path) -> None:
    never_up = ("new1", False, "ready", "L4CON")
    removed = ("a2", True, "ready", "L7OK")
    edge = _ScriptedEdge([[UP, B_UP, never_up, removed],
                          [UP, B_UP, never_up, ("a2", False, "drain", "L7OK")],
                          [DOWN, B_UP, never_up]])  # a2 deleted from the edge
    watch = _watching(edge, tmp_path, polls=4)
    try:
        assert watch.settle(timeout_s=0.2, interval_s=0.01) == ["tabular/a1"]
    finally:
        watch.stop()
