"""Queue burst: a region's Triton servers flooded by a side process (``gameday.platforms.local.
burst``) holding ``concurrency`` inference requests in flight to each, straight to its HTTP
port, until undone or the side process's own deadline.

What it does to one CPU Triton here (the fraud model, 1 instance, dynamic batching up to 64
with max_queue_delay 2 ms, the client on the same 2 cores; 100 sequential probes before and
during; ``tests/platforms/local/test_serving_load_faults.py``):

- 64 one-row requests in flight (the defaults): ~7k req/s, 3 to 47 pending at a scrape, queue
  p99 2 ms (the batch delay) -> 6-11 ms; probe p50 3.8 -> 8.0 ms, p99 5.7 -> 15.8 ms, all 200:
  the batcher folds the burst into batches of ~20;
- ``rows`` = 64 (each request a batch of its own: the batcher cannot fold them): 63 pending,
  queue p99 22-40 ms; probe p50 3.2 -> 21 ms, p99 6.4 -> 30 ms, all 200;
- a bounded queue (the suite's ``triton.max_queue_size``, 8): a full queue answers at once
  ``503 {"error":"[request id: <id_unknown>] Exceeds maximum queue size"}``: 99.4 % of the
  burst's answers and all 100 probes (in ~2 ms); the few admitted wait ~0.5 s (queue p99
  0.50 s in every bounded run: the batcher seems to wake only at its 500 ms idle wait). Triton
  2.51 counts none of the rejections: ``nv_inference_request_failure{reason="REJECTED"}``
  stays 0, only clients see them. With ``max_queue_size`` 64, 64 in flight fill it exactly:
  every probe is refused (p50 0.6 ms).

The undo took 0.1 s (0.3 s bounded); afterwards probe p50 3.3-3.7 ms again (right after a
bounded burst one probe took 0.5 s).

``verify`` holds once every member showed the burst: the side process's requests sent, and
either pending in the server's own metrics or rejected. ``undo`` stops the side process, then
waits until nothing is pending and the probe request answers within a second again.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import httpx
from pydantic import Field

from gameday.errors import FaultError
from gameday.platforms.local.faults.base import FaultContext, MemberRef
from gameday.platforms.local.faults.sideprocess import SideLoadFault
from gameday.tritonrecords import TritonSample, parse_triton_metrics

__all__ = ["QueueBurst", "repeated_rows"]

_START_WAIT_S = 10.0
_VERIFY_WAIT_S = 8.0  # Triton refreshes its metrics every second (--metrics-interval-ms)
_RECOVER_WAIT_S = 20.0
_PROBE_FAST_S = 1.0  # "answering quickly again"
_POLL_S = 0.25
_QUEUE_FULL = "503"  # what Triton answers when its queue is full (measured, above)


def repeated_rows(body: dict[str, Any], rows: int) -> dict[str, Any]:
    """A KServe v2 request body with every input's batch ``rows`` times as long (its first
    dimension and its data repeated)."""
    if rows == 1:
        return body
    inputs = []
    for tensor in body.get("inputs", []):
        shape = list(tensor.get("shape", []))
        if not shape or not isinstance(tensor.get("data"), list):
            raise FaultError(f"cannot repeat the rows of input {tensor.get('name')!r}: no "
                             "shape or no flat data list")
        inputs.append({**tensor, "shape": [shape[0] * rows, *shape[1:]],
                       "data": tensor["data"] * rows})
    return {**body, "inputs": inputs}


class QueueBurst(SideLoadFault):
    kind: Literal["queue_burst"] = "queue_burst"
    side_module = "gameday.platforms.local.burst"
    model: str
    members: tuple[MemberRef, ...]  # each with its "http" and "metrics" ports
    probe_path: str
    probe_body: dict[str, Any]
    concurrency: int = Field(64, ge=1, le=4096)  # in flight per member
    rows: int = Field(1, ge=1, le=4096)  # rows per request (the batch dimension)

    def target(self) -> str:
        return (f"{self.stack} servers in {self.region}: {self.concurrency} in flight each, "
                f"{self.rows} row(s) a request")

    def _address(self, member: MemberRef) -> str:
        return f"{member.address}:{member.ports['http']}"

    def inject(self, ctx: FaultContext) -> dict[str, Any]:
        side = self.side(ctx)
        body = side.write_input(repeated_rows(self.probe_body, self.rows))
        pid = side.start(["--path", self.probe_path, "--body-file", str(body),
                          "--concurrency", str(self.concurrency),
                          "--max-duration-s", str(self.max_duration_s),
                          *(self._address(m) for m in self.members)])
        side.wait_status("bursting", _START_WAIT_S)
        return {"burst_pid": pid, "concurrency_per_member": self.concurrency,
                "rows_per_request": self.rows, "max_duration_s": self.max_duration_s}

    def verify(self, ctx: FaultContext) -> dict[str, Any]:
        side = self.side(ctx)
        seen: dict[str, dict[str, Any]] = {
            m.name: {"pending_requests": 0, "rejected": 0, "sent": 0, "queue_p99_s": None}
            for m in self.members}
        deadline_s = time.monotonic() + _VERIFY_WAIT_S
        with httpx.Client(timeout=2, trust_env=False) as client:
            while True:
                if side.process() is None:
                    raise FaultError(f"the burst is not running: {side.log_tail()}")
                targets = (side.status() or {}).get("targets", {})
                for member in self.members:
                    self._observe(client, member, targets.get(self._address(member), {}),
                                  seen[member.name])
                quiet = [name for name, o in seen.items() if not o["sent"]
                         or not (o["pending_requests"] or o["rejected"])]
                if not quiet:
                    return {"members": seen}
                if time.monotonic() > deadline_s:
                    raise FaultError(f"burst, yet nothing pending or rejected on {quiet} "
                                     f"after {_VERIFY_WAIT_S:g} s: {seen}")
                time.sleep(_POLL_S)

    def _observe(self, client: httpx.Client, member: MemberRef, burst: dict[str, Any],
                 seen: dict[str, Any]) -> None:
        """Fold one scrape of the member and the burst's figures for it into ``seen``: the
        most pending at any scrape, the queue p99 at the last, what the burst was answered."""
        samples = self._samples(client, member)
        if samples:
            pending = sum(s.pending_requests for s in samples)
            seen["pending_requests"] = max(seen["pending_requests"], pending)
            queue = [s.queue_p99_us for s in samples if s.queue_p99_us is not None]
            seen["queue_p99_s"] = round(max(queue) * 1e-6, 6) if queue else None
        answered = {str(k): int(v) for k, v in burst.get("answered", {}).items()}
        seen.update(sent=int(burst.get("sent", 0)), answered=answered,
                    rejected=answered.get(_QUEUE_FULL, 0),
                    errors=burst.get("errors", {}))

    def _samples(self, client: httpx.Client, member: MemberRef) -> list[TritonSample]:
        url = f"http://{member.address}:{member.ports['metrics']}/metrics"
        try:
            answer = client.get(url)
            answer.raise_for_status()
            samples = parse_triton_metrics(answer.text, t_s=time.time(), member=member.name,
                                           region=self.region)
        except (httpx.HTTPError, ValueError):
            return []
        return [s for s in samples if s.model == self.model]

    def undo(self, ctx: FaultContext) -> str:
        stopped = self.side(ctx).stop()
        deadline_s = time.monotonic() + _RECOVER_WAIT_S
        failing = list(self.members)
        with httpx.Client(trust_env=False) as client:
            while failing and time.monotonic() < deadline_s:
                failing = [m for m in failing if not self._recovered(client, m)]
                if failing:
                    time.sleep(_POLL_S)
        if failing:
            raise FaultError(f"{stopped}, but {[m.name for m in failing]} still queue or do "
                             f"not answer the probe within {_PROBE_FAST_S:g} s")
        return f"{stopped}; {len(self.members)} {self.stack} members in {self.region} answer"

    def _recovered(self, client: httpx.Client, member: MemberRef) -> bool:
        try:
            answer = client.post(f"http://{self._address(member)}{self.probe_path}",
                                 json=self.probe_body, timeout=_PROBE_FAST_S)
        except httpx.HTTPError:
            return False
        samples = self._samples(client, member)
        return answer.status_code == 200 and bool(samples) \
            and sum(s.pending_requests for s in samples) == 0
