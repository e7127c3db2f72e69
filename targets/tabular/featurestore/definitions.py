"""The Feast objects of a region's repo: the card entity, its offline source, the
``card_stats`` feature view and the ``card_features`` service (Feast venv only)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.types import Int64

from targets.tabular.featurestore.repo import FEATURE_SERVICE, FEATURE_VIEW

__all__ = ["definitions"]


def definitions(source_dir: Path, ttl_s: int) -> list[Entity | FileSource | FeatureView
                                                       | FeatureService]:
    """What ``FeatureStore.apply`` registers (what ``feast apply`` finds in a repo's files)."""
    card = Entity(name="card", join_keys=["card_id"], value_type=ValueType.INT64,
                  description="a payment card")
    source = FileSource(name="card_stats_source", path=str(source_dir.resolve()),
                        timestamp_field="event_timestamp")
    view = FeatureView(name=FEATURE_VIEW, entities=[card], ttl=timedelta(seconds=ttl_s),
                       schema=[Field(name="card_age_days", dtype=Int64),
                               Field(name="tx_last_24h", dtype=Int64)],
                       source=source, online=True)
    service = FeatureService(name=FEATURE_SERVICE, features=[view])
    return [card, source, view, service]
