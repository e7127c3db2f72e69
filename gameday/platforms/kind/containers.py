"""The containers the kind platform runs beside its clusters: those declared in
``clusters/containers/*.yaml`` (the rag stack's etcd witness), one strict model per file, with
the ``docker run`` that starts one on the kind network, its ports published on 127.0.0.1 only;
and the proxies of the Toxiproxy container, created through its published API.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gameday.config import StackName, validation_message
from gameday.errors import ConfigError, PlatformError
from gameday.platforms.kind.layout import DOCKER_NETWORK

if TYPE_CHECKING:
    from gameday.platforms.kind.plan import ProxyCall

__all__ = ["CONTAINERS_DIR", "Publish", "SideContainer", "create_proxy", "load_containers",
           "run_argv"]

CONTAINERS_DIR = Path("containers")  # under layout.CLUSTERS_DIR
_NAME = r"^[a-z0-9][a-z0-9_.-]{0,62}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Publish(_Strict):
    """A container port published on the host, always at 127.0.0.1."""

    host_port: int = Field(ge=1024, le=65535)
    container_port: int = Field(ge=1, le=65535)


class SideContainer(_Strict):
    name: str = Field(pattern=_NAME, description="the container's name on the kind network")
    image: str = Field(min_length=1)
    stacks: tuple[StackName, ...] = Field(min_length=1, description="run when the suite has "
                                          "one of these stacks")
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    publish: tuple[Publish, ...] = ()

    def wanted(self, stacks: Sequence[str]) -> bool:
        return any(stack in stacks for stack in self.stacks)


def load_containers(folder: Path) -> list[SideContainer]:
    """Every declared container, in file-name order; a file that does not parse, or a name
    declared twice, is a ConfigError naming the file and field. No folder: none."""
    found: list[SideContainer] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"not YAML: {exc}", source=str(path)) from None
        try:
            container = SideContainer.model_validate(raw)
        except ValidationError as exc:
            field, message = validation_message(exc)
            raise ConfigError(message, source=str(path), field=field) from None
        if any(other.name == container.name for other in found):
            raise ConfigError(f"container {container.name!r} is declared twice",
                              source=str(path), field="name")
        found.append(container)
    return found


def run_argv(container: SideContainer) -> tuple[str, ...]:
    """``docker run -d`` of the container on the kind network (its peers reach it by name)."""
    argv = ["docker", "run", "-d", "--name", container.name, "--network", DOCKER_NETWORK]
    for port in container.publish:
        argv += ["-p", f"127.0.0.1:{port.host_port}:{port.container_port}"]
    for key, value in sorted(container.env.items()):
        argv += ["-e", f"{key}={value}"]
    return (*argv, container.image, *container.args)


def create_proxy(call: ProxyCall, timeout_s: float = 30.0) -> None:
    """Create one proxy; Toxiproxy has just started, so its API is retried for a while. An
    existing proxy of the same name (409) is replaced, so its link is the planned one."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            reply = httpx.post(call.url, json=call.link.body(), timeout=5.0)
            if reply.status_code == 409:
                httpx.delete(f"{call.url}/{call.link.name}", timeout=5.0)
                reply = httpx.post(call.url, json=call.link.body(), timeout=5.0)
            reply.raise_for_status()
            return
        except httpx.TransportError as exc:
            if time.monotonic() > deadline:
                raise PlatformError(f"Toxiproxy's API at {call.url} did not answer within "
                                    f"{timeout_s:g} s: {exc}") from None
            time.sleep(0.5)
        except httpx.HTTPStatusError as exc:
            raise PlatformError(f"`{call.line}` was refused: {exc.response.status_code} "
                                f"{exc.response.text.strip()}") from None
