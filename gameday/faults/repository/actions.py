"""Serving faults through a model repository (Triton's, KServe v2), for a region's members:

- ``unload_model``: the model is unloaded (a bad deploy that removes it): inference fails with
  "unknown model", the server stays live;
- ``load_model_version``: another version is loaded in place (a hot-swap; Triton serves the
  old version until the new one is ready), or a broken release that fails to load (Triton
  keeps the old one: the journal says what the load answered and which version serves);
- ``stall_backend``: every execution hangs while the server and the model's readiness stay
  green (the lying health of vllm#7633 and sglang#853).

``restore_serving`` undoes any of them: the model as the member's config says, answering.
"""

from __future__ import annotations

from typing import Any

from gameday.faults.target import Configuration, capability
from gameday.platforms.base import ModelRepositoryControl

__all__ = ["load_model_version", "restore_serving", "stall_backend", "unload_model"]


def unload_model(region: str, stack: str = "triton",
                 configuration: Configuration = None) -> dict[str, Any]:
    done = capability(configuration, ModelRepositoryControl).unload_model(region, stack)
    return {"fault": "model-unloaded", "region": region, **done}


def load_model_version(region: str, version: int, stack: str = "triton",
                       configuration: Configuration = None) -> dict[str, Any]:
    done = capability(configuration, ModelRepositoryControl).load_model_version(
        region, stack, int(version))
    return {"fault": "version-loaded", "region": region, **done}


def stall_backend(region: str, stack: str = "triton",
                  configuration: Configuration = None) -> dict[str, Any]:
    done = capability(configuration, ModelRepositoryControl).stall_backend(region, stack)
    return {"fault": "backend-stalled", "region": region, **done}


def restore_serving(region: str, stack: str = "triton",
                    configuration: Configuration = None) -> dict[str, Any]:
    return capability(configuration, ModelRepositoryControl).restore_serving(region, stack)
