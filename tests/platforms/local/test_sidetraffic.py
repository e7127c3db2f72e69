"""The side processes' stop (gameday.platforms.local.sidetraffic): SIGTERM ends them even when
a task loses its cancellation, as an ``asyncio.wait_for`` on Python 3.11 does when its inner
call finishes at the same moment (gh-86296; a CI run's population process then outlived
SIGTERM by more than 30 s)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from gameday.platforms.local.sidetraffic import cancel_all, run_until_stopped


class _Stats:
    state = "sending"

    def document(self) -> dict[str, object]:
        return {"state": self.state}


async def _deaf_once(swallowed: list[int]) -> None:
    """Swallows the first cancellation, as the 3.11 wait_for race does, then waits on."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        swallowed.append(1)
    await asyncio.Event().wait()


def test_a_task_that_loses_its_first_cancellation_is_cancelled_again() -> None:
    swallowed: list[int] = []

    async def scenario() -> bool:
        task = asyncio.create_task(_deaf_once(swallowed))
        await asyncio.sleep(0)
        await cancel_all([task])
        return task.cancelled()

    assert asyncio.run(scenario()) and swallowed == [1]


def test_sigterm_ends_the_loop_and_its_last_word_says_stopped_despite_a_deaf_task(
        tmp_path: Path) -> None:
    status = tmp_path / "status.json"
    swallowed: list[int] = []

    async def scenario() -> None:
        task = asyncio.create_task(_deaf_once(swallowed))
        asyncio.get_running_loop().call_later(0.2, os.kill, os.getpid(), signal.SIGTERM)
        await run_until_stopped([task], _Stats(), 60.0, status)

    asyncio.run(scenario())
    assert json.loads(status.read_text()) == {"state": "stopped"} and swallowed == [1]
