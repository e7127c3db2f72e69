"""What the kind platform's parts share: its home, how it runs commands, how it reaches each
region's cluster, where the cross-region fault proxy's API is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gameday.platforms.kind.commands import CommandRunner
from gameday.platforms.kind.kube import KubeApi
from gameday.platforms.kind.layout import TOXIPROXY_API_PORT

__all__ = ["KindEnv"]


@dataclass(frozen=True)
class KindEnv:
    home: Path  # the platform's own folder: its state, fault ledger and rendered edge files
    runner: CommandRunner  # kind, docker, kubectl
    kube: Callable[[str], KubeApi]  # region -> its cluster's API (own contexts only)
    toxiproxy_url: str = f"http://127.0.0.1:{TOXIPROXY_API_PORT}"
