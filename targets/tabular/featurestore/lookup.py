"""The service's online feature lookup: one POST to its region's Feast feature server
(``/get-online-features``) per request, over a pooled HTTP client, judged fresh, stale,
missing or down.

Feast's SQLite online store answers a row past the view's ttl as ``PRESENT``, so the age is
judged here as well, from the row's event timestamp against the suite's ttl; a status of
``OUTSIDE_MAX_AGE`` (an online store that checks) is stale too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx

from targets.tabular.featurestore.repo import CARD_FEATURES, FEATURE_VIEW

__all__ = ["CardFeatures", "FeatureLookup", "FeatureOutcome", "parse_online_features"]

_PATH = "/get-online-features"
_MISSING = {"NOT_FOUND", "NULL_VALUE", "INVALID"}


class FeatureOutcome(StrEnum):
    FRESH = "fresh"  # the store's values, younger than the ttl
    STALE = "stale"  # older than the ttl (or OUTSIDE_MAX_AGE): default features
    MISSING = "missing"  # the store has no value for the card: default features
    DOWN = "down"  # no answer in time, or an error: default features


@dataclass(frozen=True)
class CardFeatures:
    """One lookup's verdict; ``values`` only when fresh, ``age_s`` when the store answered."""

    outcome: FeatureOutcome
    values: dict[str, int] | None = None
    age_s: float | None = None


def parse_online_features(document: Any, ttl_s: float, now_s: float) -> CardFeatures:
    """Judge a ``/get-online-features`` answer for one card (columns by feature name: Feast
    orders them its own way)."""
    try:
        names = list(document["metadata"]["feature_names"])
        columns = {name: document["results"][index] for index, name in enumerate(names)}
        picked = {name: columns[name] for name in CARD_FEATURES}
        statuses = {str(column["statuses"][0]) for column in picked.values()}
        values = {name: column["values"][0] for name, column in picked.items()}
        stamps = [_epoch_s(str(column["event_timestamps"][0])) for column in picked.values()]
    except (KeyError, IndexError, TypeError, ValueError):
        return CardFeatures(FeatureOutcome.DOWN)
    if statuses & _MISSING or any(value is None for value in values.values()):
        return CardFeatures(FeatureOutcome.MISSING)
    age_s = max(0.0, now_s - min(stamps))
    if "OUTSIDE_MAX_AGE" in statuses or age_s > ttl_s:
        return CardFeatures(FeatureOutcome.STALE, age_s=age_s)
    return CardFeatures(FeatureOutcome.FRESH, {n: int(v) for n, v in values.items()}, age_s)


def _epoch_s(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


class FeatureLookup:
    """A region's feature server behind one pooled async client (no per-request connect)."""

    def __init__(self, url: str, timeout_s: float, ttl_s: float,
                 client: httpx.AsyncClient | None = None) -> None:
        self._ttl_s = ttl_s
        self._client = client or httpx.AsyncClient(
            base_url=url, timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32))
        self._features = [f"{FEATURE_VIEW}:{name}" for name in CARD_FEATURES]

    async def fetch(self, card_id: int) -> CardFeatures:
        try:
            response = await self._client.post(_PATH, json={
                "features": self._features, "entities": {"card_id": [card_id]}})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError):
            return CardFeatures(FeatureOutcome.DOWN)
        return parse_online_features(document, self._ttl_s, time.time())

    async def aclose(self) -> None:
        await self._client.aclose()
