"""Break the model: hot-load an incompatible model into a region's members; restore champion.

This is the "lying health" failure real serving engines have: the process runs and its shallow
``/health`` says ok, yet every inference fails. Whether the edge notices depends on whether its
health check is deep (``/ready`` runs one inference) or shallow. The platform verifies the
break (the stack's probe request fails on every member) and undoes it the same way wherever
the rollback happens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gameday.errors import FaultError
from gameday.faults.target import Configuration, capability
from gameday.platforms.base import ModelControl

__all__ = ["break_model", "restore_model"]

_REPO = Path(__file__).resolve().parents[3]
_INCOMPATIBLE = _REPO / "artifacts" / "models" / "fraud-incompatible"


def break_model(region: str, stack: str = "tabular", model_path: str | None = None,
                configuration: Configuration = None) -> dict[str, Any]:
    """Every member of ``stack`` in ``region`` loads a model whose input signature is wrong."""
    path = Path(model_path) if model_path else _INCOMPATIBLE
    if not path.is_dir():
        raise FaultError(f"no incompatible model at {path}; run `make setup`")
    done = capability(configuration, ModelControl).break_model(region, stack, str(path))
    return {"fault": "model-broken", "region": region, "model": str(path), **done}


def restore_model(region: str, stack: str = "tabular",
                  configuration: Configuration = None) -> dict[str, Any]:
    return capability(configuration, ModelControl).restore_model(region, stack)
