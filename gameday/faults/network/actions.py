"""Network fault actions: isolate a region (nftables, else the proxy's timeout toxic), link latency.

Isolation cuts a region's address block off from the edge and the other region while its
processes keep running. Each action proves the fault took effect: a partition that blocks
nothing raises FaultError instead of passing.
"""

from __future__ import annotations

from typing import Any

from gameday.errors import FaultError
from gameday.faults.checks import eventually
from gameday.faults.network.links import add_toxic, link_round_trip_s, region_links, remove_toxic
from gameday.faults.target import (
    Configuration,
    capability,
    forget_fault,
    platform_for,
    remember_fault,
)
from gameday.platforms.base import REGIONS, LinkControl, NetworkControl

__all__ = ["add_link_latency", "heal_region", "isolate_region", "remove_link_latency"]

_ISOLATION_TOXIC = "gameday_isolation"
_LATENCY_TOXIC = "gameday_latency"
_DIRECTIONS = ("ingress", "egress", "both")


def isolate_region(region: str, direction: str = "both",
                   configuration: Configuration = None) -> dict[str, Any]:
    """Cut ``region`` off in the kernel; fall back to a timeout toxic where nft is unusable."""
    if direction not in _DIRECTIONS:
        raise FaultError(f"direction must be one of {', '.join(_DIRECTIONS)}, got {direction!r}")
    if region not in REGIONS:
        raise FaultError(f"unknown region {region!r}")
    platform = platform_for(configuration)
    usable, reason = platform.isolation_available() if isinstance(platform, NetworkControl) \
        else (False, f"the {platform.name} platform has no kernel-level isolation")
    if not usable or not isinstance(platform, NetworkControl):
        return _isolate_with_toxic(region, configuration, reason)
    done = platform.isolate_region(region, direction)  # type: ignore[arg-type]
    observed = platform.isolation_observed(region)
    expected = {"into_region": direction in ("ingress", "both"),
                "out_of_region": direction in ("egress", "both")}
    # A dropped SYN-ACK blocks the connect too, so a one-way cut may block both probes.
    if not any(observed[key] for key, want in expected.items() if want):
        platform.heal_region(region)
        raise FaultError(f"isolate_region {region}: nft rules in place but nothing is blocked "
                         f"(observed {observed})")
    return {"fault": "region-isolation", "method": "nftables", **done, "observed": observed}


def _isolate_with_toxic(region: str, configuration: Configuration, reason: str) -> dict[str, Any]:
    links = region_links(capability(configuration, LinkControl), region)
    remember_fault(configuration, "toxics", name=_ISOLATION_TOXIC, region=region)
    for stream in ("upstream", "downstream"):
        add_toxic(links, name=f"{_ISOLATION_TOXIC}_{stream}", toxic_type="timeout",
                  stream=stream, attributes={"timeout": 0})
    if link_round_trip_s(links[0], timeout_s=1.0) is not None:
        raise FaultError(f"isolate_region {region}: timeout toxic in place but link answers")
    return {"fault": "region-isolation", "method": "fault-proxy timeout toxic",
            "why_not_nftables": reason, "links": [p.name for p in links],
            "note": "only the edge→region links are cut; region↔region traffic is not"}


def heal_region(region: str, configuration: Configuration = None) -> dict[str, Any]:
    """Undo ``isolate_region`` whichever way it was done; verified: the region is reachable."""
    platform = platform_for(configuration)
    healed: dict[str, Any] = {"region": region}
    if isinstance(platform, NetworkControl) and platform.isolation_available()[0]:
        healed.update(platform.heal_region(region))
    if isinstance(platform, LinkControl):
        links = region_links(platform, region)
        healed["toxics_removed"] = sum(remove_toxic(links, f"{_ISOLATION_TOXIC}_{s}")
                                       for s in ("upstream", "downstream"))
        forget_fault(configuration, "toxics", name=_ISOLATION_TOXIC, region=region)
        if not eventually(lambda: link_round_trip_s(links[0], timeout_s=1.0) is not None, 10):
            raise FaultError(f"heal_region {region}: links into the region still do not answer")
    return healed


def add_link_latency(region: str, latency_ms: int = 100, jitter_ms: int = 0,
                     stream: str = "downstream", stack: str | None = None,
                     configuration: Configuration = None) -> dict[str, Any]:
    """Latency (+ jitter) on every fault-proxy link into ``region``, verified by timing."""
    links = region_links(capability(configuration, LinkControl), region, stack)
    before_s = link_round_trip_s(links[0])
    remember_fault(configuration, "toxics", name=_LATENCY_TOXIC, region=region)
    add_toxic(links, name=_LATENCY_TOXIC, toxic_type="latency", stream=stream,
              attributes={"latency": latency_ms, "jitter": jitter_ms})
    after_s = link_round_trip_s(links[0], timeout_s=2 + latency_ms / 1000)
    if after_s is None or after_s < 0.8 * latency_ms / 1000:
        remove_toxic(links, _LATENCY_TOXIC)
        raise FaultError(f"add_link_latency {region}: round trip {after_s} s after adding "
                         f"{latency_ms} ms; the toxic did not take effect")
    return {"fault": "link-latency", "region": region, "latency_ms": latency_ms,
            "jitter_ms": jitter_ms, "stream": stream, "links": [p.name for p in links],
            "round_trip_before_s": before_s, "round_trip_after_s": after_s}


def remove_link_latency(region: str, stack: str | None = None,
                        configuration: Configuration = None) -> dict[str, Any]:
    links = region_links(capability(configuration, LinkControl), region, stack)
    removed = remove_toxic(links, _LATENCY_TOXIC)
    forget_fault(configuration, "toxics", name=_LATENCY_TOXIC, region=region)
    return {"region": region, "toxics_removed": removed}
