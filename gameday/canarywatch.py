"""The serving canary during a run: one real inference to each model server every
``interval_s``, with a short timeout, appended to ``canary.jsonl`` (``gameday.canaries``), so
the report can say when a canary noticed a fault that the edge's health check did not.

One watch a member, each in its own thread: a stalled server holds only its own canary for
the timeout, not the others'. The member's address is read from the platform each round, so a
restarted member is followed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from gameday.canaries import CanarySample, append_canary_samples
from gameday.modelprobe import ModelProbe
from gameday.platforms.base import Member
from gameday.poller import Poller

__all__ = ["CANARY_TIMEOUT_S", "CanaryWatch"]

CANARY_TIMEOUT_S = 1.0  # a good model answers in milliseconds; a second is a stall


class CanaryWatch(Poller):
    """``start()`` sends ``member``'s canary every ``interval_s`` until ``stop()``; a member
    that is not listed (removed, or its region's state mid-write) is skipped for the round."""

    def __init__(self, member: str, members: Callable[[], Sequence[Member]],
                 probe: ModelProbe, run_dir: Path, *, interval_s: float = 0.5,
                 timeout_s: float = CANARY_TIMEOUT_S) -> None:
        super().__init__(interval_s=interval_s, name=f"canary-{member}")
        self._member, self._members, self._probe = member, members, probe
        self._run_dir, self._timeout_s = run_dir, timeout_s
        self._client = httpx.Client(trust_env=False)

    def _closed(self) -> None:
        self._client.close()

    def poll_once(self) -> CanarySample | None:
        """One canary (appended), or None when the member is not listed."""
        member = self._listed()
        if member is None:
            return None
        url = f"http://{member.address}:{member.ports[self._probe.port]}{self._probe.infer_path}"
        sent_s = time.time()
        try:
            status = self._client.post(url, json=self._probe.infer_body,
                                       timeout=self._timeout_s).status_code
        except httpx.HTTPError:
            status = 0
        sample = CanarySample(t_s=sent_s, member=member.name, region=member.region,
                              stack=member.stack, ok=status == 200,
                              latency_s=time.time() - sent_s, status=status)
        append_canary_samples(self._run_dir, [sample])
        return sample

    def _listed(self) -> Member | None:
        try:
            return next((m for m in self._members() if m.name == self._member), None)
        except Exception:  # the platform's state mid-write: next round
            return None
