"""A canary's weights give it its share of its region and keep the regions' parts; a
blue-green switch gives the live colour its weights and the other none."""

from __future__ import annotations

import pytest

from gameday.errors import FaultError
from gameday.faults.release.weights import MAX_WEIGHT, canary_weights, colour_weights

REGIONS = {"a1": "region-a", "a2": "region-a", "a3": "region-a", "b1": "region-b",
           "b2": "region-b"}


def _share(weights: dict[str, int], server: str, region: str) -> float:
    mates = [s for s in weights if REGIONS[s] == region]
    return weights[server] / sum(weights[s] for s in mates)


@pytest.mark.parametrize("share", [0.05, 0.1, 0.25, 0.5, 1.0])
def test_the_canary_gets_its_share_of_its_region_and_the_regions_keep_their_parts(
        share: float) -> None:
    base = {"a1": 1, "a2": 1, "a3": 1, "b1": 3, "b2": 3}
    weights = canary_weights(base, REGIONS, "a1", share)
    assert _share(weights, "a1", "region-a") == pytest.approx(share, abs=0.005)
    region_a = sum(weights[s] for s in ("a1", "a2", "a3"))
    region_b = sum(weights[s] for s in ("b1", "b2"))
    assert region_a / region_b == pytest.approx(3 / 6, rel=0.02)
    assert weights["a2"] == weights["a3"]
    assert all(0 <= w <= MAX_WEIGHT for w in weights.values())


def test_share_zero_takes_the_canary_out_and_its_mates_take_all() -> None:
    weights = canary_weights({"a1": 1, "a2": 1, "b1": 1}, REGIONS, "a1", 0.0)
    assert weights["a1"] == 0 and weights["a2"] > 0 and weights["b1"] > 0


def test_a_canary_alone_in_its_region_or_unknown_is_refused() -> None:
    with pytest.raises(FaultError, match="only server of region-a"):
        canary_weights({"a1": 1, "a2": 0, "b1": 1}, REGIONS, "a1", 0.1)
    with pytest.raises(FaultError, match="not one of the edge's servers"):
        canary_weights({"a1": 1, "b1": 1}, REGIONS, "zz", 0.1)
    with pytest.raises(FaultError, match="expected 0-1"):
        canary_weights({"a1": 1, "a2": 1}, REGIONS, "a1", 1.5)


def test_the_live_colour_takes_its_base_weights_the_other_none() -> None:
    base = {"a1": 1, "a2": 1, "b1": 2, "b2": 2}
    assert colour_weights(base, ["a2", "b2"]) == {"a1": 0, "a2": 1, "b1": 0, "b2": 2}
    with pytest.raises(FaultError, match="not servers of the edge"):
        colour_weights(base, ["c1"])
