"""Load faults on a region's Triton servers, each done by a side process that keeps its own
deadline (``max_duration_s``) so it ends even if nothing is left to roll it back:

- ``burst_queue``: ``concurrency`` inference requests in flight to each server of the region,
  straight to its HTTP port: the scheduler's queue fills, queue time and latency rise; with
  the suite's ``triton.max_queue_size`` the full queue rejects requests (HTTP 503) instead;
- ``exhaust_gpu_memory``: ``fraction`` of a GPU's free memory taken and held, so the server's
  next allocation fails; refused where there is no GPU driver.

``stop_serving_load`` undoes either: the side process stopped, the servers answering quickly.
"""

from __future__ import annotations

from typing import Any

from gameday.faults.target import Configuration, capability
from gameday.platforms.base import ServingLoadControl

__all__ = ["burst_queue", "exhaust_gpu_memory", "stop_serving_load"]


def burst_queue(region: str, concurrency: int = 64, stack: str = "triton", rows: int = 1,
                max_duration_s: float = 300.0,
                configuration: Configuration = None) -> dict[str, Any]:
    done = capability(configuration, ServingLoadControl).burst_queue(
        region, stack, concurrency=int(concurrency), rows=int(rows),
        max_duration_s=float(max_duration_s))
    return {"fault": "queue-burst", "region": region, **done}


def exhaust_gpu_memory(region: str, fraction: float = 0.95, stack: str = "triton",
                       device: int = 0, max_duration_s: float = 300.0,
                       configuration: Configuration = None) -> dict[str, Any]:
    done = capability(configuration, ServingLoadControl).exhaust_gpu_memory(
        region, stack, fraction=float(fraction), device=int(device),
        max_duration_s=float(max_duration_s))
    return {"fault": "gpu-memory-exhausted", "region": region, **done}


def stop_serving_load(region: str, stack: str = "triton",
                      configuration: Configuration = None) -> dict[str, Any]:
    return capability(configuration, ServingLoadControl).stop_serving_load(region, stack)
