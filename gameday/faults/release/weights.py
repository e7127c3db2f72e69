"""The edge weights of a release: a canary's share of its region's traffic, the colours of a
blue-green switch. Pure arithmetic over HAProxy weights (0-256, roundrobin: a server's share is
its weight over the sum of the weights that take traffic)."""

from __future__ import annotations

from collections.abc import Iterable

from gameday.errors import FaultError

__all__ = ["MAX_WEIGHT", "canary_weights", "colour_weights"]

MAX_WEIGHT = 256
_REGION_TOTAL = 200  # each region's servers share about this much weight during a canary


def canary_weights(base: dict[str, int], regions: dict[str, str], canary: str,
                   share: float) -> dict[str, int]:
    """Weights that give ``canary`` ``share`` of its region's traffic and keep every region's
    part of the whole as it was (its total weight scaled alike): the canary takes its share
    from its own region's stable servers only.

    Share 0 takes the canary out; share 1 leaves its region's stable servers nothing."""
    if canary not in base:
        raise FaultError(f"canary {canary!r} is not one of the edge's servers {sorted(base)}")
    if not 0.0 <= share <= 1.0:
        raise FaultError(f"canary share {share}: expected 0-1")
    region = regions[canary]
    mates = [s for s in base if regions.get(s) == region]
    region_base = sum(base[s] for s in mates)
    stable_base = region_base - base[canary]
    if region_base == 0:
        raise FaultError(f"the servers of {region} take no traffic (weight 0): no canary")
    if stable_base == 0 and share < 1.0:
        raise FaultError(f"{canary} is the only server of {region} taking traffic: a canary "
                         "needs a stable server beside it")
    scale = _REGION_TOTAL / region_base
    weights = {s: _rounded(w * scale) for s, w in base.items() if regions.get(s) != region}
    canary_weight = round(_REGION_TOTAL * share)
    weights[canary] = canary_weight
    for server in mates:
        if server != canary:
            weights[server] = _rounded((_REGION_TOTAL - canary_weight) * base[server]
                                       / stable_base) if stable_base else 0
    return weights


def colour_weights(base: dict[str, int], live: Iterable[str]) -> dict[str, int]:
    """Blue-green: the ``live`` colour's servers take their base weight, the others none."""
    taking = set(live)
    unknown = taking - set(base)
    if unknown:
        raise FaultError(f"{sorted(unknown)} are not servers of the edge ({sorted(base)})")
    return {server: (weight if server in taking else 0) for server, weight in base.items()}


def _rounded(weight: float) -> int:
    if weight <= 0:
        return 0
    return min(MAX_WEIGHT, max(1, round(weight)))
