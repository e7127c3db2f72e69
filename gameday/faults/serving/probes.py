"""Steady-state probes that ask for real inference, not a health page.

Each returns data for the journal and a verdict field the experiment's tolerance checks
(``serving`` or ``within_slo``, e.g. ``{"type": "jsonpath", "path": "$.serving", "expect":
true}``), so a region that stops answering inference, or an edge that answers too slowly,
makes the hypothesis deviate.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from gameday.errors import FaultError
from gameday.faults.serving.samples import Sample, sample_for
from gameday.faults.target import Configuration, platform_for
from gameday.platforms.base import REGIONS, Member
from gameday.stacks import load_stack

__all__ = ["edge_serves_within_slo", "other_region_answers_inference",
           "region_answers_inference"]

Require = Literal["all", "any"]
_REGION_HEADER = "X-Served-By-Region"  # set on every answer (DESIGN: request record)


@dataclass(frozen=True)
class _Outcome:
    problem: str | None  # None: a valid answer
    latency_s: float
    region: str | None


def _endpoint_path(stack: str, endpoint: str) -> str:
    endpoints = load_stack(stack).endpoints
    if endpoint not in endpoints:
        raise FaultError(f"stack {stack!r} has no endpoint {endpoint!r}; "
                         f"expected one of {', '.join(sorted(endpoints))}")
    return endpoints[endpoint]


def _serving(stack: str, component: str | None) -> str:
    """``component``, or the component the stack's first edge route serves."""
    if component is not None:
        return component
    routes = load_stack(stack).routes
    if not routes:
        raise FaultError(f"stack {stack!r} has no edge route: name the component that serves")
    return routes[0].component


def _ask(client: httpx.Client, sample: Sample, url: str) -> _Outcome:
    started_s = time.perf_counter()
    try:
        answer = client.request(sample.method, url, json=sample.body)
    except httpx.TimeoutException:
        return _Outcome("timeout", time.perf_counter() - started_s, None)
    except httpx.HTTPError as exc:
        return _Outcome(f"{type(exc).__name__}: {exc}", time.perf_counter() - started_s, None)
    latency_s = time.perf_counter() - started_s
    return _Outcome(sample.check(answer), latency_s, answer.headers.get(_REGION_HEADER))


def _check_require(require: str) -> None:
    if require not in ("all", "any"):
        raise FaultError(f"require must be 'all' or 'any', got {require!r}")


def _members_answer(members: list[Member], stack: str, endpoint: str, require: str,
                    timeout_s: float) -> dict[str, Any]:
    """One inference request straight to each member (not through the edge)."""
    _check_require(require)
    path, sample = _endpoint_path(stack, endpoint), sample_for(stack, endpoint)
    with httpx.Client(timeout=timeout_s) as client:
        outcomes = {m.name: _ask(client, sample, f"{m.url}{path}") for m in members}
    failed = {name: o.problem for name, o in outcomes.items() if o.problem is not None}
    answered = len(members) - len(failed)
    enough = answered == len(members) if require == "all" else answered >= 1
    return {"stack": stack, "endpoint": endpoint, "require": require,
            "replicas": len(members), "answered": answered, "failed": failed,
            "serving": bool(members) and enough}


def region_answers_inference(region: str, stack: str = "tabular", endpoint: str = "predict",
                             require: Require = "all", timeout_s: float = 2.0,
                             component: str | None = None,
                             configuration: Configuration = None) -> dict[str, Any]:
    """Every replica (``require: all``) or at least one (``any``) of ``stack`` in ``region``
    answers a sample inference request with a valid answer. No replica at all: not serving.
    ``component``: the one that serves inference; default the stack's routed component."""
    members = platform_for(configuration).members(region=region, stack=stack,
                                                  component=_serving(stack, component))
    return {"region": region, **_members_answer(members, stack, endpoint, require, timeout_s)}


def other_region_answers_inference(region: str, stack: str = "tabular",
                                   endpoint: str = "predict", require: Require = "all",
                                   timeout_s: float = 2.0, component: str | None = None,
                                   configuration: Configuration = None) -> dict[str, Any]:
    """As ``region_answers_inference``, for the region(s) other than ``region``: the capacity
    that must take over when a fault takes ``region`` out."""
    if region not in REGIONS:
        raise FaultError(f"unknown region {region!r}; expected one of {', '.join(REGIONS)}")
    others = [r for r in REGIONS if r != region]
    platform = platform_for(configuration)
    members = [m for other in others for m in platform.members(
        region=other, stack=stack, component=_serving(stack, component))]
    return {"region": ", ".join(others), "other_than": region,
            **_members_answer(members, stack, endpoint, require, timeout_s)}


def edge_serves_within_slo(stack: str = "tabular", endpoint: str = "predict",
                           requests: int = 10, latency_threshold_s: float = 0.25,
                           percentile: float = 90.0, timeout_s: float = 2.0,
                           configuration: Configuration = None) -> dict[str, Any]:
    """``requests`` sequential inference requests through the global edge: all valid, and the
    ``percentile`` latency (nearest rank) within ``latency_threshold_s``.

    A latency SLO is a percentile, not a maximum: the one request HAProxy holds ~0.5 s for its
    connect retry at the instant a replica dies must not read as a deviation (measured: with
    the slowest of 5 judged, plain ``chaos run`` of replica-kill deviated in 1 of 2 runs)."""
    if requests < 1:
        raise FaultError(f"requests must be at least 1, got {requests}")
    if not 0 < percentile <= 100:
        raise FaultError(f"percentile must be in (0, 100], got {percentile}")
    url = platform_for(configuration).edge_url(stack) + _endpoint_path(stack, endpoint)
    sample = sample_for(stack, endpoint)
    with httpx.Client(timeout=timeout_s) as client:
        outcomes = [_ask(client, sample, url) for _ in range(requests)]
    failures = [o.problem for o in outcomes if o.problem is not None]
    latencies_s = sorted(o.latency_s for o in outcomes)
    judged_s = latencies_s[max(0, math.ceil(percentile / 100 * requests) - 1)]
    served_by = Counter(o.region for o in outcomes if o.region is not None)
    return {"url": url, "requests": requests, "ok": requests - len(failures),
            "failures": failures, "served_by": dict(served_by),
            "latency_max_s": round(latencies_s[-1], 4), "percentile": percentile,
            "latency_percentile_s": round(judged_s, 4),
            "latency_threshold_s": latency_threshold_s,
            "within_slo": not failures and judged_s <= latency_threshold_s}
