"""Reading a Prometheus text exposition in tests: one metric's samples, summed."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

__all__ = ["metric_sum"]


def metric_sum(url: str, name: str, labels: Mapping[str, str] | None = None) -> float:
    """The sum of the samples of ``name`` at ``url`` whose labels include ``labels``."""
    wanted = labels or {}
    total = 0.0
    for line in httpx.get(url, timeout=5).text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, label_text = head.partition("{")
        if metric != name:
            continue
        found = dict(part.split("=", 1) for part in label_text.rstrip("}").split(",") if part)
        if all(found.get(k, "").strip('"') == v for k, v in wanted.items()):
            total += float(value)
    return total
