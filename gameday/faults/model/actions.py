"""Break the model: hot-load an incompatible model into a region's replicas; restore champion.

This is the "lying health" failure real serving engines have: the process runs and its shallow
``/health`` says ok, yet every inference fails. Whether the edge notices depends on whether its
health check is deep (``/ready`` runs one inference) or shallow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from gameday.errors import FaultError
from gameday.faults.checks import http_status
from gameday.faults.target import Configuration, forget_fault, platform_for, remember_fault
from gameday.platforms.base import Member

__all__ = ["break_model", "restore_model"]

_REPO = Path(__file__).resolve().parents[3]
_INCOMPATIBLE = _REPO / "artifacts" / "models" / "fraud-incompatible"
_SAMPLE = {"amount": 42.0, "hour": 13, "merchant_risk": 0.2, "distance_km": 3.0,
           "card_age_days": 400, "foreign": False, "tx_last_24h": 2}


def _load(member: Member, uri: str) -> dict[str, Any]:
    try:
        answer = httpx.post(f"{member.url}/admin/model", json={"uri": uri}, timeout=60)
    except httpx.HTTPError as exc:
        raise FaultError(f"{member.name}: model load of {uri} failed: {exc}") from None
    if answer.status_code != 200:
        raise FaultError(f"{member.name}: model load of {uri} refused: "
                         f"{answer.status_code} {answer.text[:200]}")
    return dict(answer.json())


def _predict_status(member: Member) -> int | None:
    return http_status(f"{member.url}/predict", method="POST", json=_SAMPLE, timeout_s=2)


def _replicas(region: str, stack: str, configuration: Configuration) -> list[Member]:
    members = platform_for(configuration).members(region=region, stack=stack, role="replica")
    if not members:
        raise FaultError(f"no {stack} replica in {region}")
    return members


def break_model(region: str, stack: str = "tabular", model_path: str | None = None,
                configuration: Configuration = None) -> dict[str, Any]:
    """Every replica in ``region`` loads a model whose input signature does not match."""
    path = Path(model_path) if model_path else _INCOMPATIBLE
    if not path.is_dir():
        raise FaultError(f"no incompatible model at {path}; run `make setup`")
    members = _replicas(region, stack, configuration)
    remember_fault(configuration, "model", region=region, stack=stack,
                   members=[[m.address, m.port] for m in members],
                   restore_uri="models:/fraud@champion")
    for member in members:
        _load(member, str(path))
    observed = {m.name: {"health": http_status(f"{m.url}/health"), "predict": _predict_status(m)}
                for m in members}
    if any(o["predict"] == 200 for o in observed.values()):
        raise FaultError(f"break_model {region}: inference still works: {observed}")
    return {"fault": "model-broken", "region": region, "model": str(path), "observed": observed}


def restore_model(region: str, stack: str = "tabular", uri: str = "models:/fraud@champion",
                  configuration: Configuration = None) -> dict[str, Any]:
    members = _replicas(region, stack, configuration)
    loaded = {m.name: _load(m, uri) for m in members}
    forget_fault(configuration, "model", region=region, stack=stack)
    failing = [m.name for m in members if _predict_status(m) != 200]
    if failing:
        raise FaultError(f"restore_model {region}: inference still fails on {failing}")
    return {"restored": uri, "region": region, "loaded": loaded}
