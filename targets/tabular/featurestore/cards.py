"""The cards the store holds features for, drawn from the project's own transaction generator
(seeded), and how a materializer tick moves them on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from targets.tabular.data import make_transactions
from targets.tabular.features import FEATURE_NAMES
from targets.tabular.featurestore.repo import CARD_COUNT

__all__ = ["CardStats", "make_cards", "next_tick"]

_AGE = FEATURE_NAMES.index("card_age_days")
_TX = FEATURE_NAMES.index("tx_last_24h")


@dataclass(frozen=True)
class CardStats:
    """card_id (1..n) and its features, one row per card."""

    card_id: np.ndarray
    card_age_days: np.ndarray
    tx_last_24h: np.ndarray


def make_cards(seed: int, n_cards: int = CARD_COUNT) -> CardStats:
    """Each card's features are one generated transaction's: the training distribution."""
    features = make_transactions(n_cards, seed).features
    return CardStats(card_id=np.arange(1, n_cards + 1, dtype=np.int64),
                     card_age_days=features[:, _AGE].astype(np.int64),
                     tx_last_24h=features[:, _TX].astype(np.int64))


def next_tick(cards: CardStats, rng: np.random.Generator) -> CardStats:
    """The cards a tick later: each card's last-24-hour count drawn again around the card's
    own level (a busy card stays busy, the population stays the training one); ages stay."""
    level = np.maximum(cards.tx_last_24h, 0.5)
    return CardStats(card_id=cards.card_id, card_age_days=cards.card_age_days,
                     tx_last_24h=rng.poisson(lam=level).astype(np.int64))
