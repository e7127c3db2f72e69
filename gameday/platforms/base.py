"""The Platform interface: what run orchestration and faults may ask of any platform.

A platform stands stacks up in two regions behind a global edge, tells where things are
(``members``, ``edge_url``) and tears everything down. Faults need more: the optional
capabilities ``RegionControl``, ``LinkControl`` and ``NetworkControl`` below. A fault asks
``isinstance(platform, RegionControl)`` and never looks processes up by name patterns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from gameday.records import EdgeServerSample

__all__ = [
    "EDGE",
    "REGIONS",
    "REGION_BLOCKS",
    "Direction",
    "EdgeObserver",
    "FaultLedger",
    "LinkControl",
    "Member",
    "NetworkControl",
    "Platform",
    "Progress",
    "RegionControl",
    "StackRequest",
]

REGIONS = ("region-a", "region-b")
EDGE = "edge"
REGION_BLOCKS = {"region-a": "127.10.0.0/16", "region-b": "127.20.0.0/16", EDGE: "127.0.0.1/32"}

Direction = Literal["ingress", "egress", "both"]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class StackRequest:
    """What to stand up: which stacks, how many replicas per region, how the edge checks them."""

    stacks: tuple[str, ...] = ("tabular",)
    replicas: int = 2
    edge_health_check: Literal["shallow", "deep"] = "deep"


@dataclass(frozen=True)
class Member:
    """One running unit of a stack (a process locally, a pod on kind)."""

    name: str
    region: str
    stack: str
    role: str
    address: str
    port: int
    pid: int | None
    state: str  # waiting | starting | healthy | unhealthy | exited | held-down | frozen | stopped

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"


@runtime_checkable
class Platform(Protocol):
    name: str

    def up(self, request: StackRequest, *, progress: Progress,
           tie_to_caller: bool = False) -> None:
        """Stand ``request`` up. ``tie_to_caller``: the platform tears itself down by itself
        when the calling process dies (a run that owned the platform and was SIGKILLed)."""
        ...

    def experiment_configuration(self) -> dict[str, str]:
        """The Chaos Toolkit configuration keys through which a provider finds this platform
        (``gameday_platform``, ``gameday_home``): the home is resolved once, here."""
        ...

    def down(self, *, progress: Progress) -> list[str]: ...

    def is_up(self) -> bool: ...

    def members(self, *, region: str | None = None, stack: str | None = None,
                role: str | None = None) -> list[Member]: ...

    def edge_url(self, stack: str) -> str: ...

    def reset_faults(self) -> list[str]: ...


@runtime_checkable
class RegionControl(Platform, Protocol):
    """Outages of a whole region or of one member; the platform keeps them down until restored."""

    def stop_region(self, region: str, *, freeze: bool) -> list[Member]: ...

    def restore_region(self, region: str) -> list[Member]: ...

    def kill_member(self, name: str) -> Member: ...


@runtime_checkable
class FaultLedger(Platform, Protocol):
    """Faults in force, each owned by the process that injected it; the platform rolls back
    the faults of an owner that died without doing so."""

    def record_fault(self, kind: str, **detail: Any) -> str: ...

    def clear_fault(self, kind: str, **match: Any) -> None: ...


@runtime_checkable
class LinkControl(Platform, Protocol):
    """Toxiproxy-API fault proxy on every cross-region link."""

    def proxy_api_url(self) -> str: ...

    def link_proxies(self, region: str, stack: str | None = None) -> list[str]: ...


@runtime_checkable
class EdgeObserver(Platform, Protocol):
    """The global edge's own view of every server behind it (health and admin state)."""

    def edge_server_states(self) -> list[EdgeServerSample]: ...


@runtime_checkable
class NetworkControl(Platform, Protocol):
    """Kernel-level isolation of a region's address block."""

    def isolation_available(self) -> tuple[bool, str]: ...

    def isolation_observed(self, region: str) -> dict[str, bool]: ...

    def isolate_region(self, region: str, direction: Direction) -> dict[str, object]: ...

    def heal_region(self, region: str) -> dict[str, object]: ...


