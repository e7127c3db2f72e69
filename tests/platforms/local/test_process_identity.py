"""A process is known by its pid and the kernel's start tick, so a step of the wall clock
(a VM restored from a snapshot, NTP's first sync) changes nothing: the owner of a platform is
still alive, a fault's side process is still found, and `down` still finds every process of
a member's group. The step is made where the wall clock enters psutil's ``create_time``: its
boot time, which the kernel derives from the wall clock (``btime`` in /proc/stat).

A record an earlier gameday wrote (psutil's ``create_time``) still names its process, so a
platform stood up before an upgrade still goes down whole."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest
from psutil import _pslinux

from gameday.platforms.local.owner import Owner, process_start_time
from gameday.platforms.local.state import kill_group


@pytest.fixture
def clock_step(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """From now on the wall clock reads 7 s earlier than the boot tick says (a step back),
    checked against psutil's own create_time."""
    step_s = -7.0
    stepped = _pslinux.boot_time() + step_s
    before = psutil.Process().create_time()
    monkeypatch.setattr(_pslinux, "boot_time", lambda: stepped)
    assert psutil.Process().create_time() == pytest.approx(before + step_s)
    yield


def _sleeper(*, new_group: bool = False) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                            start_new_session=new_group)


def test_an_owner_recorded_before_a_clock_step_is_still_alive_after_it(
        request: pytest.FixtureRequest) -> None:
    owner = Owner.me()
    request.getfixturevalue("clock_step")
    assert owner.alive()


def test_an_owner_whose_pid_now_names_a_later_process_is_dead() -> None:
    me = Owner.me()
    assert me.create_time is not None
    assert not Owner(pid=me.pid, create_time=me.create_time - 1).alive()
    assert not Owner(pid=me.pid, create_time=None).alive()


def test_an_owner_that_exited_is_dead_also_while_it_is_a_zombie() -> None:
    child = _sleeper()
    owner = Owner.of(child.pid)
    assert owner.alive()
    child.kill()
    process = psutil.Process(child.pid)
    deadline = time.monotonic() + 5
    while process.status() != psutil.STATUS_ZOMBIE:  # exited, not reaped yet
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not owner.alive()
    child.wait()
    assert not owner.alive() and process_start_time(child.pid) is None


def test_down_finds_a_group_recorded_before_a_clock_step(
        request: pytest.FixtureRequest) -> None:
    leader = _sleeper(new_group=True)
    try:
        started = process_start_time(leader.pid)
        request.getfixturevalue("clock_step")
        assert kill_group(leader.pid, started, grace_s=2)
        assert leader.wait(timeout=5) is not None
    finally:
        leader.kill()
        leader.wait()


def test_an_earlier_gameday_s_records_still_name_their_processes() -> None:
    leader = _sleeper(new_group=True)
    try:
        written = psutil.Process(leader.pid).create_time()  # as gameday wrote it before
        assert Owner(pid=leader.pid, create_time=written).alive()
        assert not Owner(pid=leader.pid, create_time=written - 1).alive()
        assert kill_group(leader.pid, written, grace_s=2)
        assert leader.wait(timeout=5) is not None
    finally:
        leader.kill()
        leader.wait()
