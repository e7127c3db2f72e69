"""The model registry the members read (MLflow, at the tracking URI their environment names):
its aliases, read and moved by a release. mlflow is imported on first use (seconds)."""

from __future__ import annotations

import os
from typing import Any

from gameday.errors import FaultError

__all__ = ["aliases", "restore_aliases", "set_alias", "version_of"]


def _client(tracking_uri: str) -> Any:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri, tracking_uri)


def aliases(tracking_uri: str, model: str) -> dict[str, str]:
    """Alias -> version of registered model ``model``."""
    from mlflow.exceptions import MlflowException

    try:
        found = _client(tracking_uri).get_registered_model(model).aliases
    except MlflowException as exc:
        raise FaultError(f"model registry {tracking_uri}: {model}: {exc.message}") from None
    return {str(alias): str(version) for alias, version in found.items()}


def version_of(tracking_uri: str, model: str, alias_or_version: str) -> str:
    """The registry version an alias (``bad-errors``) or a version (``4``) names."""
    if alias_or_version.isdigit():
        return alias_or_version
    known = aliases(tracking_uri, model)
    if alias_or_version not in known:
        raise FaultError(f"model registry: {model} has no alias {alias_or_version!r}; it has "
                         f"{', '.join(sorted(known)) or 'none'}")
    return known[alias_or_version]


def set_alias(tracking_uri: str, model: str, alias: str, version: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        _client(tracking_uri).set_registered_model_alias(model, alias, version)
    except MlflowException as exc:
        raise FaultError(f"model registry: {model}@{alias} -> v{version}: "
                         f"{exc.message}") from None


def restore_aliases(tracking_uri: str, model: str, wanted: dict[str, str]) -> dict[str, str]:
    """Point every alias of ``wanted`` back at its version; the ones that had moved."""
    now = aliases(tracking_uri, model)
    moved = {alias: version for alias, version in wanted.items() if now.get(alias) != version}
    for alias, version in moved.items():
        set_alias(tracking_uri, model, alias, version)
    return moved
