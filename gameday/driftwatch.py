"""The input-drift watch during a run: each model server's own ``/drift`` (its recent inputs
against its training data) asked every ``interval_s``, appended to ``drift.jsonl``
(``gameday.driftsamples``), so the report can say when drift was first seen after a fault.

One watch a member, each in its own thread, as the canary: a stalled server holds only its own
watch. The member's address is read from the platform each round, so a restarted member is
followed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from gameday.driftsamples import (
    DRIFT_FILE,
    DriftSample,
    FeatureSample,
    append_drift_samples,
)
from gameday.platforms.base import Member
from gameday.poller import Poller
from gameday.stacks import DriftDef

__all__ = ["DRIFT_TIMEOUT_S", "DriftWatch"]

DRIFT_TIMEOUT_S = 1.0  # the comparison takes milliseconds; a second is a stalled server


class DriftWatch(Poller):
    """``start()`` asks ``member``'s ``/drift`` every ``interval_s`` until ``stop()``; a member
    that is not listed is skipped for the round, one that does not answer is recorded so."""

    def __init__(self, member: str, members: Callable[[], Sequence[Member]], drift: DriftDef,
                 run_dir: Path, *, interval_s: float = 0.5,
                 timeout_s: float = DRIFT_TIMEOUT_S) -> None:
        super().__init__(interval_s=interval_s, name=f"drift-{member}")
        self._member, self._members, self._drift = member, members, drift
        self._run_dir, self._timeout_s = run_dir, timeout_s
        self._client = httpx.Client(trust_env=False)
        (run_dir / DRIFT_FILE).touch()  # watched: the report says "none" rather than nothing

    def _closed(self) -> None:
        self._client.close()

    def poll_once(self) -> DriftSample | None:
        """One sample (appended), or None when the member is not listed."""
        member = self._listed()
        if member is None:
            return None
        url = f"http://{member.address}:{member.ports[self._drift.port]}{self._drift.path}"
        asked_s = time.time()
        try:
            answer = self._client.get(url, timeout=self._timeout_s)
            sample = _sample(asked_s, member, answer.status_code,
                             answer.json() if answer.status_code == 200 else {})
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            sample = _sample(asked_s, member, 0, {})
        append_drift_samples(self._run_dir, [sample])
        return sample

    def _listed(self) -> Member | None:
        try:
            return next((m for m in self._members() if m.name == self._member), None)
        except Exception:  # the platform's state mid-write: next round
            return None


def _sample(asked_s: float, member: Member, status: int, answer: dict[str, Any]) -> DriftSample:
    """The sample of one answer (an empty one when there was none)."""
    dataset = answer.get("dataset_drift")
    return DriftSample(
        t_s=asked_s, member=member.name, region=member.region, stack=member.stack,
        status=status, window_rows=int(answer.get("window_rows", 0)),
        inputs_total=int(answer.get("inputs_total", 0)),
        dataset_drift=None if dataset is None else bool(dataset),
        drifted_features=int(answer.get("drifted_features", 0)),
        features=tuple(FeatureSample.from_json(f) for f in answer.get("features", ())))
