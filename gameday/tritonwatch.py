"""The Triton servers' own view during a run: scrape every member's Prometheus metrics in a
background thread and append what they say to ``triton.jsonl`` (``gameday.tritonrecords``),
so the report can split server time into queue and compute and show the batching achieved."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from gameday.poller import Poller
from gameday.tritonrecords import TritonSample, append_triton_samples, parse_triton_metrics

__all__ = ["SCRAPE_TIMEOUT_S", "TritonWatch"]

# A member that does not answer within this is skipped for the round: a frozen server must
# not hold up the others' samples (a round of four stays well within the 1 s interval).
SCRAPE_TIMEOUT_S = 0.5


class TritonWatch(Poller):
    """``start()`` scrapes every member every ``interval_s`` until ``stop()``.

    ``members``: (name, region, metrics URL) of each Triton server. A member that does not
    answer (its region is down, it is restarting) is skipped for that round, silently: during
    a region outage that is what is expected, and no event kind of the log says "a Triton
    server's metrics did not answer", so nothing is logged for it (and the watch takes no log).
    """

    def __init__(self, members: Sequence[tuple[str, str, str]], run_dir: Path, *,
                 interval_s: float = 1.0) -> None:
        super().__init__(interval_s=interval_s, name="triton-watch")
        self._members = tuple(members)
        self._run_dir = run_dir
        self._client = httpx.Client(timeout=SCRAPE_TIMEOUT_S, trust_env=False)

    def _closed(self) -> None:
        self._client.close()

    def poll_once(self) -> list[TritonSample]:
        """One round over every member: the samples scraped (and appended)."""
        samples: list[TritonSample] = []
        for name, region, url in self._members:
            samples += self._scrape(name, region, url)
        append_triton_samples(self._run_dir, samples)
        return samples

    def _scrape(self, name: str, region: str, url: str) -> list[TritonSample]:
        try:
            answer = self._client.get(url)
            answer.raise_for_status()
            return parse_triton_metrics(answer.text, t_s=time.time(), member=name,
                                        region=region)
        except (httpx.HTTPError, ValueError):  # down, restarting, or not Triton yet
            return []

