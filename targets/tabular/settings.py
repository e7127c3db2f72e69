"""The service's settings, read once from the environment the platform starts it with."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from targets.tabular.home import CHAMPION_URI, ModelHome

__all__ = ["Settings"]


class Settings(BaseModel):
    """Who this replica is and which model it serves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = Field(default="local", min_length=1)
    replica: str = Field(default="tabular", min_length=1)
    model_uri: str = Field(default=CHAMPION_URI, min_length=1)
    model_home: Path = Path("artifacts")
    tracking_uri: str = Field(min_length=1)
    drift_window: int = Field(default=1000, ge=1, description="inputs the PSI is computed over")
    answer_max_age_s: int = Field(default=0, ge=0, description="the edge may cache a score this "
                                  "long (Cache-Control); 0: answers are not cacheable")
    feature_url: str = Field(default="", description="the region's Feast feature server; "
                             "empty: no feature store, the request's own features are scored")
    feature_timeout_ms: int = Field(default=100, ge=1, le=60_000, description="past this a "
                                    "lookup is down: scored with default features")
    feature_ttl_s: int = Field(default=3600, ge=1, description="a card's features older than "
                               "this are stale: scored with default features")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """GAMEDAY_REGION, GAMEDAY_REPLICA, GAMEDAY_MODEL_URI, GAMEDAY_MODEL_HOME,
        MLFLOW_TRACKING_URI (default: the SQLite registry under the model home),
        GAMEDAY_DRIFT_WINDOW, GAMEDAY_ANSWER_MAX_AGE_S, GAMEDAY_FEATURE_URL,
        GAMEDAY_FEATURE_TIMEOUT_MS, GAMEDAY_FEATURE_TTL_S."""
        home = Path(environ.get("GAMEDAY_MODEL_HOME", "artifacts"))
        values: dict[str, object] = {
            "model_home": home,
            "tracking_uri": environ.get("MLFLOW_TRACKING_URI") or ModelHome(home).tracking_uri,
        }
        for key, env_name in (
            ("region", "GAMEDAY_REGION"),
            ("replica", "GAMEDAY_REPLICA"),
            ("model_uri", "GAMEDAY_MODEL_URI"),
            ("drift_window", "GAMEDAY_DRIFT_WINDOW"),
            ("answer_max_age_s", "GAMEDAY_ANSWER_MAX_AGE_S"),
            ("feature_url", "GAMEDAY_FEATURE_URL"),
            ("feature_timeout_ms", "GAMEDAY_FEATURE_TIMEOUT_MS"),
            ("feature_ttl_s", "GAMEDAY_FEATURE_TTL_S"),
        ):
            if env_name in environ:
                values[key] = environ[env_name]
        return cls.model_validate(values)
