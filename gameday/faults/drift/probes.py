"""What a region's model servers' own drift monitors say now (their ``drift.path``, straight
to each member, not through the edge): for the journal, as a method step after the shift, and
for a tolerance (``{"type": "jsonpath", "path": "$.dataset_drift", "expect": false}`` before
a shift). A member that does not answer is reported, and counts as not drifting.
"""

from __future__ import annotations

from typing import Any

import httpx

from gameday.errors import FaultError
from gameday.faults.target import Configuration, platform_for
from gameday.stacks import load_stack

__all__ = ["drift_status"]

_TIMEOUT_S = 2.0


def drift_status(region: str, stack: str = "tabular",
                 configuration: Configuration = None) -> dict[str, Any]:
    """Per member of ``stack`` in ``region``: whether its dataset drifts, which features do
    (by their method) and over how many inputs; ``dataset_drift`` is true when any does."""
    drift = load_stack(stack).drift
    if drift is None:
        raise FaultError(f"stack {stack} declares no drift: it does not judge its inputs")
    members = platform_for(configuration).members(region=region, stack=stack,
                                                  component=drift.component)
    if not members:
        raise FaultError(f"no {stack}.{drift.component} member in {region}")
    seen: dict[str, dict[str, Any]] = {}
    with httpx.Client(timeout=_TIMEOUT_S, trust_env=False) as client:
        for member in members:
            url = f"http://{member.address}:{member.ports[drift.port]}{drift.path}"
            try:
                answer = client.get(url)
                answer.raise_for_status()
                seen[member.name] = _judged(answer.json())
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                seen[member.name] = {"error": f"{type(exc).__name__}: {exc}"}
    return {"region": region, "stack": stack, "members": seen,
            "dataset_drift": any(m.get("dataset_drift") for m in seen.values())}


def _judged(report: dict[str, Any]) -> dict[str, Any]:
    features = report["features"]
    return {"dataset_drift": report["dataset_drift"], "window_rows": report["window_rows"],
            "drifted": sorted(f"{f['name']} ({f['method']})" for f in features
                              if f["drifted"]),
            "psi_alert": sorted(f["name"] for f in features if f["psi_level"] == "alert")}
