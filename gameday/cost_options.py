"""What a suite prices its resources by (``prices``): per region, an hour of a vCPU busy, of a
GiB of resident memory and of a GPU allocated (``gameday.measure.cost`` applies them)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gameday.strict import Strict as _Strict
from gameday.strict import field_error as _field_error

__all__ = ["DEFAULT_PRICE_SOURCE", "PriceRegion", "PriceTable", "RegionPrices"]

PriceRegion = Literal["region-a", "region-b"]

# Google Cloud Compute Engine on-demand list prices (USD) as published in November 2024
# (cloud.google.com/compute/vm-instance-pricing: N2 vCPU and memory, resource-based;
# cloud.google.com/compute/gpus-pricing: NVIDIA T4). region-a is priced as us-central1 (Iowa),
# region-b as europe-west1 (Belgium). Google's "GB" of memory is 2**30 bytes, a GiB: the memory
# price is per GiB-hour, and the cost measure counts resident memory in GiB (2**30 bytes).
_US_CENTRAL1 = {"vcpu_hour": 0.031611, "gb_hour": 0.004237, "gpu_hour": 0.35}
_EUROPE_WEST1 = {"vcpu_hour": 0.034773, "gb_hour": 0.004661, "gpu_hour": 0.35}
DEFAULT_PRICE_SOURCE = (
    "Google Cloud Compute Engine on-demand list prices, November 2024: N2 vCPU and memory "
    "(per vCPU-hour, per GiB-hour) and NVIDIA T4 (per GPU-hour); region-a priced as "
    "us-central1, region-b as europe-west1")


class RegionPrices(_Strict):
    """One region's prices, in the table's currency."""

    vcpu_hour: float = Field(ge=0, description="one vCPU busy for an hour (CPU time used)")
    gb_hour: float = Field(ge=0, description="one GiB (2**30 bytes) resident for an hour")
    gpu_hour: float = Field(ge=0, description="one GPU allocated for an hour")


def _default_regions() -> dict[PriceRegion, RegionPrices]:
    return {"region-a": RegionPrices(**_US_CENTRAL1),
            "region-b": RegionPrices(**_EUROPE_WEST1)}


class PriceTable(_Strict):
    """Prices per region; both regions must be priced (a missing one would price its members
    at nothing, and its cost per request would look free)."""

    currency: str = Field("USD", min_length=1, max_length=8)
    source: str = Field(DEFAULT_PRICE_SOURCE, description="where the figures come from, dated")
    regions: dict[PriceRegion, RegionPrices] = Field(default_factory=_default_regions)

    @model_validator(mode="after")
    def _every_region(self) -> PriceTable:
        missing = [region for region in ("region-a", "region-b") if region not in self.regions]
        if missing:
            raise _field_error("prices.regions", f"expected prices for region-a and region-b, "
                                                 f"missing {', '.join(missing)}")
        return self

    def for_region(self, region: str) -> RegionPrices:
        """The region's prices; a part with no region of its own (the edge) is priced as
        region-a, where the harness runs it."""
        return self.regions["region-b" if region == "region-b" else "region-a"]
