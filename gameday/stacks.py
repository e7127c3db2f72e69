"""Reference stacks declared as data: ``targets/<name>/stack.yaml`` read into a StackDef.

A stack says what one replica runs (command, environment, port), how to tell it is alive
(shallow) and able to serve (deep), and which endpoints it offers. Platforms turn a StackDef
into processes (local) or manifests (kind); nothing else hard-codes a stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

import targets
from gameday.config import read_document, validation_message
from gameday.errors import ConfigError

__all__ = ["TARGETS_DIR", "StackDef", "load_stack"]

TARGETS_DIR = Path(targets.__file__).resolve().parent


class StackDef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    octet: int = Field(ge=1, le=250, description="third octet of member addresses in a region")
    port: int = Field(ge=1024, le=65535)
    command: tuple[str, ...]
    env: dict[str, str] = Field(default_factory=dict)
    shallow_health_path: str = "/health"
    deep_health_path: str = "/ready"
    endpoints: dict[str, str]
    replay_safe: bool = Field(False, description="the edge may retry a request on another server")
    start_timeout_s: float = 60.0
    restart: Literal["always", "on-failure", "never"] = "always"


def load_stack(name: str) -> StackDef:
    path = TARGETS_DIR / name / "stack.yaml"
    if not path.is_file():
        known = sorted(p.parent.name for p in TARGETS_DIR.glob("*/stack.yaml"))
        raise ConfigError(f"unknown stack {name!r}; known stacks: {', '.join(known)}")
    try:
        return StackDef.model_validate(read_document(path))
    except ValidationError as exc:
        field, message = validation_message(exc)
        raise ConfigError(message, source=str(path), field=field) from None
