"""Steady-state probes that read a region's Triton servers' own metrics (their metrics port,
not through the edge): how long requests wait in the scheduler's queue, and the batch size
the dynamic batcher achieves.

Each returns data for the journal and a verdict field the experiment's tolerance checks
(``within_slo`` or ``batching``, e.g. ``{"type": "jsonpath", "path": "$.within_slo",
"expect": true}``). A server whose metrics do not answer fails the verdict: a region that
cannot say how it queues is not known to hold its SLO.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from gameday.errors import FaultError
from gameday.faults.target import Configuration, platform_for
from gameday.platforms.base import Member
from gameday.tritonrecords import TritonSample, parse_triton_metrics

__all__ = ["batching_at_least", "queue_time_within"]

# Triton's summaries hold these quantiles; the samples keep the queue's p50 and p99
_QUEUE_QUANTILES = {50.0: "queue_p50_us", 99.0: "queue_p99_us"}
_US = 1e-6


def _metrics_url(member: Member) -> str:
    if "metrics" not in member.ports:
        raise FaultError(f"member {member.name} has no metrics port; its ports are "
                         f"{', '.join(sorted(member.ports)) or 'none'}")
    return f"http://{member.address}:{member.ports['metrics']}/metrics"


def _scrape(client: httpx.Client, member: Member) -> tuple[list[TritonSample], str | None]:
    """The member's samples, or what went wrong (None: it answered)."""
    try:
        answer = client.get(_metrics_url(member))
        answer.raise_for_status()
        return parse_triton_metrics(answer.text, t_s=time.time(), member=member.name,
                                    region=member.region), None
    except httpx.HTTPError as exc:
        return [], f"{type(exc).__name__}: {exc}"
    except ValueError as exc:
        return [], f"not Prometheus metrics: {exc}"


def _servers(region: str, stack: str, configuration: Configuration) -> list[Member]:
    return platform_for(configuration).members(region=region, stack=stack, component="server")


def queue_time_within(region: str, stack: str = "triton", percentile: float = 99,
                      threshold_s: float = 0.05, timeout_s: float = 2.0,
                      configuration: Configuration = None) -> dict[str, Any]:
    """Every Triton server of ``region`` reports its queue-time ``percentile`` (Triton's own
    summary over its recent requests: 50 or 99) within ``threshold_s``. A server with no
    recent request has no queue time (None) and holds; no server at all does not."""
    field = _QUEUE_QUANTILES.get(float(percentile))
    if field is None:
        known = ", ".join(f"{each:g}" for each in _QUEUE_QUANTILES)
        raise FaultError(f"percentile must be one of {known}, got {percentile}")
    members = _servers(region, stack, configuration)
    queue_s: dict[str, float | None] = {}
    failed: dict[str, str] = {}
    with httpx.Client(timeout=timeout_s, trust_env=False) as client:
        for member in members:
            samples, problem = _scrape(client, member)
            if problem is not None:
                failed[member.name] = problem
                continue
            values = [v for s in samples if (v := getattr(s, field)) is not None]
            queue_s[member.name] = round(max(values) * _US, 6) if values else None
    worst = max((v for v in queue_s.values() if v is not None), default=None)
    return {"region": region, "stack": stack, "percentile": percentile,
            "threshold_s": threshold_s, "servers": len(members), "queue_s": queue_s,
            "failed": failed, "queue_percentile_s": worst,
            "within_slo": bool(members) and not failed
            and (worst is None or worst <= threshold_s)}


def _counts(samples: list[TritonSample]) -> tuple[int, int]:
    return (sum(s.inference_count for s in samples), sum(s.exec_count for s in samples))


def _grown(before: int, after: int) -> int:
    """A counter's growth; one that went down restarted from zero (a restarted server)."""
    return after if after < before else after - before


def batching_at_least(region: str, stack: str = "triton", min_batch: float = 2.0,
                      window_s: float = 2.0, timeout_s: float = 2.0,
                      configuration: Configuration = None) -> dict[str, Any]:
    """The batch size ``region``'s Triton servers achieved over ``window_s`` (two scrapes
    that far apart): inferences (batch rows) / model executions, over every server, at least
    ``min_batch``. No execution in the window means no batching to speak of: it fails."""
    if window_s <= 0:
        raise FaultError(f"window_s must be positive, got {window_s}")
    members = _servers(region, stack, configuration)
    failed: dict[str, str] = {}
    with httpx.Client(timeout=timeout_s, trust_env=False) as client:
        first = {m.name: _scrape(client, m) for m in members}
        time.sleep(window_s)
        second = {m.name: _scrape(client, m) for m in members}
    per_server: dict[str, float | None] = {}
    inferences = executions = 0
    for member in members:
        (before, problem), (after, again) = first[member.name], second[member.name]
        if problem or again:
            failed[member.name] = str(problem or again)
            continue
        (rows_0, runs_0), (rows_1, runs_1) = _counts(before), _counts(after)
        rows, runs = _grown(rows_0, rows_1), _grown(runs_0, runs_1)
        inferences, executions = inferences + rows, executions + runs
        per_server[member.name] = round(rows / runs, 3) if runs else None
    batch = inferences / executions if executions else None
    return {"region": region, "stack": stack, "min_batch": min_batch, "window_s": window_s,
            "servers": len(members), "inferences": inferences, "executions": executions,
            "batch_size": None if batch is None else round(batch, 3),
            "batch_size_by_server": per_server, "failed": failed,
            "batching": bool(members) and not failed and batch is not None
            and batch >= min_batch}
