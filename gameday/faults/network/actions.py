"""Network fault actions: isolate a region (nftables, else the proxy's timeout toxic), link latency.

Isolation cuts a region's address block off from the edge and the other region while its
processes keep running. The platform proves each fault took effect: a partition that blocks
nothing raises FaultError instead of passing.
"""

from __future__ import annotations

from typing import Any, Literal

from gameday.errors import FaultError
from gameday.faults.target import Configuration, capability, platform_for
from gameday.platforms.base import REGIONS, LinkControl, NetworkControl, ToxicSpec

__all__ = ["add_link_latency", "heal_region", "isolate_region", "remove_link_latency"]

_ISOLATION_TOXIC = "gameday_isolation"
_LATENCY_TOXIC = "gameday_latency"
_DIRECTIONS = ("ingress", "egress", "both")
_STREAMS = ("upstream", "downstream")
Method = Literal["auto", "nftables", "toxic"]


def isolate_region(region: str, direction: str = "both", method: Method = "auto",
                   configuration: Configuration = None) -> dict[str, Any]:
    """Cut ``region`` off in the kernel; ``auto`` falls back to a timeout toxic where nft is
    unusable, ``toxic`` forces that fallback, ``nftables`` refuses it."""
    if direction not in _DIRECTIONS:
        raise FaultError(f"direction must be one of {', '.join(_DIRECTIONS)}, got {direction!r}")
    if region not in REGIONS:
        raise FaultError(f"unknown region {region!r}")
    if method not in ("auto", "nftables", "toxic"):
        raise FaultError(f"method must be auto, nftables or toxic, got {method!r}")
    platform = platform_for(configuration)
    usable, reason = platform.isolation_available() if isinstance(platform, NetworkControl) \
        else (False, f"the {platform.name} platform has no kernel-level isolation")
    if method == "toxic":
        usable, reason = False, "the experiment asked for the fault-proxy method"
    if not usable or not isinstance(platform, NetworkControl):
        if method == "nftables":
            raise FaultError(f"isolate_region {region}: nftables asked for but {reason}")
        return _isolate_with_toxic(region, configuration, reason)
    done = platform.isolate_region(region, direction)  # type: ignore[arg-type]
    return {"fault": "region-isolation", "method": "nftables", **done}


def _isolate_with_toxic(region: str, configuration: Configuration, reason: str) -> dict[str, Any]:
    links = capability(configuration, LinkControl)
    done = [links.add_link_toxic(region, ToxicSpec(
        name=f"{_ISOLATION_TOXIC}_{stream}", type="timeout", stream=stream,  # type: ignore[arg-type]
        attributes={"timeout": 0})) for stream in _STREAMS]
    return {"fault": "region-isolation", "method": "fault-proxy timeout toxic",
            "why_not_nftables": reason, "links": links.link_proxies(region),
            "fault_ids": [d["fault_id"] for d in done],
            "note": "only the links through the fault proxy are cut; region↔region traffic "
                    "that does not cross it is not"}


def heal_region(region: str, configuration: Configuration = None) -> dict[str, Any]:
    """Undo ``isolate_region`` whichever way it was done."""
    platform = platform_for(configuration)
    healed: dict[str, Any] = {"region": region}
    if isinstance(platform, NetworkControl) and platform.isolation_available()[0]:
        healed.update(platform.heal_region(region))
    if isinstance(platform, LinkControl):
        healed["toxics_removed"] = sum(
            platform.remove_link_toxic(region, f"{_ISOLATION_TOXIC}_{s}") for s in _STREAMS)
    return healed


def add_link_latency(region: str, latency_ms: int = 100, jitter_ms: int = 0,
                     stream: str = "downstream", stack: str | None = None,
                     configuration: Configuration = None) -> dict[str, Any]:
    """Latency (+ jitter) on every fault-proxy link into ``region``, verified by timing."""
    if stream not in _STREAMS:
        raise FaultError(f"stream must be upstream or downstream, got {stream!r}")
    done = capability(configuration, LinkControl).add_link_toxic(region, ToxicSpec(
        name=_LATENCY_TOXIC, type="latency", stream=stream,  # type: ignore[arg-type]
        attributes={"latency": latency_ms, "jitter": jitter_ms}), stack=stack)
    return {"fault": "link-latency", "region": region, "latency_ms": latency_ms,
            "jitter_ms": jitter_ms, "stream": stream, **done}


def remove_link_latency(region: str, stack: str | None = None,
                        configuration: Configuration = None) -> dict[str, Any]:
    removed = capability(configuration, LinkControl).remove_link_toxic(region, _LATENCY_TOXIC,
                                                                       stack=stack)
    return {"region": region, "toxics_removed": removed}
