"""The kind platform's file under its home, typed: what ``up`` stood up.

    kind-state.json   KindState (here): the stacks, replicas, kustomize Components, the side
                      containers it started, the fault proxy's links, the edge's ports and URLs
    edge/             the edge's rendered files (edgefiles.py)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from gameday.platforms.kind.plan import ProxyLink
from gameday.platforms.local.state import load_model, save_model
from gameday.platforms.local.topology import Ports

__all__ = ["STATE_FILE", "KindState", "LinkRecord"]

STATE_FILE = "kind-state.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LinkRecord(_Strict):
    """One Toxiproxy link as created (plan.ProxyLink)."""

    name: str
    stack: str
    component: str
    port: str
    region: str
    listen_port: int
    node_port: int

    @classmethod
    def of(cls, link: ProxyLink) -> Self:
        return cls(name=link.name, stack=link.stack, component=link.component, port=link.port,
                   region=link.region, listen_port=link.listen_port, node_port=link.node_port)


class KindState(_Strict):
    platform: Literal["kind"] = "kind"
    stacks: list[str]
    replicas: int
    components: list[str] = Field(default_factory=list, description="kustomize Components "
                                  "switched on: triton/gpu, tabular/feature-store")
    containers: list[str] = Field(default_factory=list, description="declared side "
                                  "containers it started (the edge's and Toxiproxy are fixed)")
    links: list[LinkRecord] = Field(default_factory=list)
    edge_ports: Ports = Ports()
    edge_urls: dict[str, str] = Field(default_factory=dict, description="stack -> its URL at "
                                      "the WAF entry")
    waf_mode: Literal["blocking", "detection", "off"] = Field(
        "blocking", description="the edge WAF's mode (how its audit log is read)")
    ready: bool = False
    updated_s: float = Field(default_factory=time.time)

    @staticmethod
    def path(home: Path) -> Path:
        return home / STATE_FILE

    @classmethod
    def load(cls, home: Path) -> Self | None:
        return load_model(cls.path(home), cls)

    def save(self, home: Path) -> None:
        self.updated_s = time.time()
        home.mkdir(parents=True, exist_ok=True)
        save_model(self.path(home), self)

    @classmethod
    def remove(cls, home: Path) -> None:
        cls.path(home).unlink(missing_ok=True)
