"""The few ``docker`` commands the kind platform's faults issue on its node containers, and how
they read ``docker inspect`` back; every one goes through the ``CommandRunner``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from gameday.errors import FaultError
from gameday.platforms.kind.commands import CommandRunner

__all__ = ["NetworkAddress", "network_addresses", "statuses"]

_INSPECT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class NetworkAddress:
    """A container's addresses on one Docker network ("" where it has none)."""

    ipv4: str
    ipv6: str = ""

    def connect_flags(self) -> tuple[str, ...]:
        """``docker network connect`` flags that give the container these addresses back."""
        return (*(("--ip", self.ipv4) if self.ipv4 else ()),
                *(("--ip6", self.ipv6) if self.ipv6 else ()))


def statuses(runner: CommandRunner, containers: Sequence[str]) -> dict[str, str]:
    """Each container's ``.State.Status`` (running, exited, paused, ...), one inspect for all."""
    result = runner.run(["docker", "inspect", "-f", "{{.State.Status}}", *containers],
                        timeout_s=_INSPECT_TIMEOUT_S)
    lines = result.stdout.split()
    if len(lines) != len(containers):
        raise FaultError(f"`{result.line}` answered {result.stdout.strip()!r}: expected one "
                         f"status per container")
    return dict(zip(containers, lines, strict=True))


def network_addresses(runner: CommandRunner, container: str) -> dict[str, NetworkAddress]:
    """Network name -> the container's addresses on it, from ``docker inspect``."""
    result = runner.run(["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}",
                         container], timeout_s=_INSPECT_TIMEOUT_S)
    try:
        networks = json.loads(result.stdout or "null") or {}
    except json.JSONDecodeError:
        raise FaultError(f"`{result.line}` did not answer JSON: {result.stdout[:200]!r}") \
            from None
    return {name: NetworkAddress(ipv4=str(attached.get("IPAddress") or ""),
                                 ipv6=str(attached.get("GlobalIPv6Address") or ""))
            for name, attached in networks.items()}
