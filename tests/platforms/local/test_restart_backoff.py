"""The restart backoff grows while a member crash-loops and starts over once it has been
healthy for a while, so the tenth replica kill of a game day recovers like the first."""

from __future__ import annotations

import time

import pytest

from gameday.platforms.base import MemberState
from gameday.platforms.local.platform import LocalPlatform


def _kill_and_time_restart(platform: LocalPlatform, name: str) -> float:
    """Seconds from the kill until the member runs under a new pid."""
    old = next(m.pid for m in platform.members() if m.name == name)
    killed_s = time.monotonic()
    platform.kill_member(name)
    while True:
        member = next(m for m in platform.members() if m.name == name)
        if member.pid != old and member.state in (MemberState.STARTING, MemberState.HEALTHY):
            return time.monotonic() - killed_s
        assert time.monotonic() - killed_s < 30, member
        time.sleep(0.02)


def _wait_healthy(platform: LocalPlatform, name: str) -> None:
    deadline_s = time.monotonic() + 60
    while next(m for m in platform.members() if m.name == name).state != MemberState.HEALTHY:
        assert time.monotonic() < deadline_s
        time.sleep(0.05)


@pytest.mark.e2e  # a minute of waiting out real back-off delays; make test-e2e
def test_backoff_grows_in_a_crash_loop_and_resets_after_a_healthy_spell(
        local_platform: LocalPlatform) -> None:
    name = "tabular-api-b2"
    looping = []
    for _ in range(3):  # killed again as soon as it is healthy: a crash loop
        _wait_healthy(local_platform, name)
        looping.append(_kill_and_time_restart(local_platform, name))
    _wait_healthy(local_platform, name)
    time.sleep(10.5)  # healthy for longer than the stable spell
    after_spell = _kill_and_time_restart(local_platform, name)
    _wait_healthy(local_platform, name)
    print(f"restart delays in a crash loop {[round(d, 2) for d in looping]} s, "
          f"after a healthy spell {after_spell:.2f} s")
    assert looping[2] >= 1.0  # the third restart in a loop waits the 1.0 s backoff at least
    assert after_spell < looping[2] - 0.3  # back to the 0.2 s one (was 2.0 s before the fix)
