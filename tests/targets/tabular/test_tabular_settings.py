"""Settings come from the platform's environment, once, with the registry under the model home."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from targets.tabular.settings import Settings


def test_settings_take_the_platform_environment() -> None:
    settings = Settings.from_env(
        {
            "GAMEDAY_REGION": "region-b",
            "GAMEDAY_REPLICA": "tabular-b2",
            "GAMEDAY_MODEL_URI": "models:/fraud@challenger",
            "GAMEDAY_MODEL_HOME": "/srv/artifacts",
            "MLFLOW_TRACKING_URI": "sqlite:////srv/artifacts/mlflow/mlflow.db",
            "GAMEDAY_DRIFT_WINDOW": "500",
        }
    )
    assert (settings.region, settings.replica) == ("region-b", "tabular-b2")
    assert settings.model_uri == "models:/fraud@challenger"
    assert settings.model_home == Path("/srv/artifacts")
    assert settings.drift_window == 500


def test_without_environment_the_champion_is_served_from_the_local_registry() -> None:
    settings = Settings.from_env({"GAMEDAY_MODEL_HOME": "/srv/artifacts"})
    assert settings.model_uri == "models:/fraud@champion"
    assert settings.tracking_uri == "sqlite:////srv/artifacts/mlflow/mlflow.db"


def test_a_bad_drift_window_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="drift_window"):
        Settings.from_env({"GAMEDAY_DRIFT_WINDOW": "0"})
