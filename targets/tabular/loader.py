"""Loads a fraud model for serving: a registry URI resolved through MLflow, or a local model dir."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import sklearn

from targets.tabular.drift import TrainingProfile
from targets.tabular.home import PROFILE_FILE

__all__ = ["LoadedModel", "ModelLoadError", "ModelLoader", "ScoringModel"]

# models:/<name>@<alias> or models:/<name>/<version>
_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


class ModelLoadError(Exception):
    """A model URI could not be resolved or loaded; the message names the URI and the cause."""


class ScoringModel(Protocol):
    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to score, with where it came from. Swapped whole, never mutated."""

    uri: str
    version: str
    alias: str | None
    estimator: ScoringModel
    profile: TrainingProfile | None

    def fraud_scores(self, rows: np.ndarray) -> np.ndarray:
        """P(fraud) per row; raises whatever the model raises on input it cannot take."""
        # Transaction already refused NaN and infinity, so sklearn's finiteness scan
        # (about 40 % of a single-row predict) is pure overhead here.
        with sklearn.config_context(assume_finite=True):
            return np.asarray(self.estimator.predict_proba(rows))[:, 1]


class ModelLoader:
    """Resolves model URIs against one MLflow registry; mlflow is imported on first use.

    `import mlflow` is most of a replica's start-up time, so nothing imports it before a
    model is actually loaded.
    """

    def __init__(self, tracking_uri: str, model_home: Path) -> None:
        self._tracking_uri = tracking_uri
        self._model_home = model_home
        self._client: Any = None

    def load(self, uri: str) -> LoadedModel:
        """Load `models:/fraud@champion`, `models:/fraud/2`, or a model directory path."""
        try:
            match = _REGISTRY_URI.match(uri)
            if match:
                return self._load_registered(uri, match)
            return self._load_directory(uri)
        except ModelLoadError:
            raise
        except Exception as exc:  # a load boundary: MLflow, skops, sklearn and OS errors alike
            raise ModelLoadError(f"cannot load model {uri!r}: {exc}") from exc

    def _load_registered(self, uri: str, match: re.Match[str]) -> LoadedModel:
        client = self._mlflow_client()
        name, alias = match["name"], match["alias"]
        if alias is not None:
            version = client.get_model_version_by_alias(name, alias).version
        else:
            version = client.get_model_version(name, match["version"]).version
        import mlflow.artifacts

        location = client.get_model_version_download_uri(name, version)
        model_dir = Path(mlflow.artifacts.download_artifacts(artifact_uri=location))
        return _load_from(model_dir, uri=uri, version=str(version), alias=alias)

    def _load_directory(self, uri: str) -> LoadedModel:
        path = Path(uri.removeprefix("file://"))
        model_dir = path if path.is_absolute() else self._model_home / path
        if not (model_dir / "MLmodel").is_file():
            raise ModelLoadError(f"cannot load model {uri!r}: no MLflow model at {model_dir}")
        return _load_from(model_dir, uri=uri, version=model_dir.name, alias=None)

    def _mlflow_client(self) -> Any:
        if self._client is None:
            os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
            os.environ.setdefault("DO_NOT_TRACK", "1")
            from mlflow import MlflowClient

            self._client = MlflowClient(self._tracking_uri, self._tracking_uri)
        return self._client


def _load_from(model_dir: Path, *, uri: str, version: str, alias: str | None) -> LoadedModel:
    import mlflow.sklearn

    estimator = mlflow.sklearn.load_model(str(model_dir))
    return LoadedModel(uri, version, alias, estimator, _profile_in(model_dir))


def _profile_in(model_dir: Path) -> TrainingProfile | None:
    """The training distribution saved with the model (train.py puts it in extra_files/)."""
    for candidate in (model_dir / "extra_files" / PROFILE_FILE, model_dir / PROFILE_FILE):
        if candidate.is_file():
            return TrainingProfile.from_dict(json.loads(candidate.read_text()))
    return None
