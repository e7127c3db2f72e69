"""Where each region's Feast repo lives and what it serves; shared by the build, the
materializer (both in the Feast venv) and the service (no Feast import here)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CARD_COUNT", "CARD_FEATURES", "DEFAULT_TTL_S", "FEATURE_SERVICE", "FEATURE_VIEW",
           "PROJECT", "REGIONS", "FeatureRepo"]

PROJECT = "gameday"
FEATURE_VIEW = "card_stats"
FEATURE_SERVICE = "card_features"
#: The per-card features the store serves, in place of the request's own values.
CARD_FEATURES: tuple[str, ...] = ("card_age_days", "tx_last_24h")
#: Cards are ids 1..CARD_COUNT (the load's payloads draw from the same range).
CARD_COUNT = 5000
#: The feature view's ttl at build time; a suite's ``tabular.feature_ttl_s`` re-applies it.
DEFAULT_TTL_S = 3600
REGIONS: tuple[str, ...] = ("region-a", "region-b")


@dataclass(frozen=True)
class FeatureRepo:
    """One region's Feast repo under ``<artifacts>/features/<region>``: its feature_store.yaml,
    registry, offline source (a folder of parquet parts) and SQLite online store."""

    root: Path

    @classmethod
    def of(cls, artifacts: Path, region: str) -> FeatureRepo:
        return cls(artifacts / "features" / region)

    @property
    def config_path(self) -> Path:
        return self.root / "feature_store.yaml"

    @property
    def registry_path(self) -> Path:
        return self.root / "data" / "registry.db"

    @property
    def online_path(self) -> Path:
        return self.root / "data" / "online.db"

    @property
    def source_dir(self) -> Path:
        """The offline source: ``base.parquet`` from the build, then one part per
        materializer tick."""
        return self.root / "data" / "card_stats"

    @property
    def stamp_path(self) -> Path:
        """Written last by the build: what it built (recipe), so a second run can say
        "up to date"."""
        return self.root / "built.json"

    @property
    def serving_root(self) -> Path:
        """The feature server's own repo: the same online store, its own registry (a copy the
        materializer publishes after each tick, ``publish_registry``). Feast >= 0.64 marks a
        view MATERIALIZING in its registry while it is being materialised, and a server
        reading that registry refuses to serve it meanwhile (feast-dev/feast#6780, open): with
        one shared registry every tick was an outage (500 on ~10 % of lookups here)."""
        return self.root / "serving"

    @property
    def serving_registry_path(self) -> Path:
        return self.root / "data" / "serving-registry.db"

    def publish_registry(self) -> None:
        """Copy the registry, its views AVAILABLE_ONLINE, to the server's (atomically)."""
        scratch = self.serving_registry_path.with_name(self.serving_registry_path.name + ".tmp")
        shutil.copyfile(self.registry_path, scratch)
        os.replace(scratch, self.serving_registry_path)

    def config_yaml(self, *, serving: bool = False) -> str:
        """feature_store.yaml: local provider, file offline store, SQLite online store; the
        feature server's (``serving``) reads the published copy of the registry."""
        registry = self.serving_registry_path if serving else self.registry_path
        return (f"project: {PROJECT}\n"
                f"provider: local\n"
                f"registry: {registry.resolve()}\n"
                f"online_store:\n  type: sqlite\n  path: {self.online_path.resolve()}\n"
                f"offline_store:\n  type: file\n"
                f"entity_key_serialization_version: 3\n")
