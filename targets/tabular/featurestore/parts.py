"""The offline source's parquet parts: the build's base rows and each materializer tick's
fresh rows (Feast venv: pandas 2 writes them)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pandas as pd

from targets.tabular.featurestore.cards import CardStats

__all__ = ["write_part"]


def write_part(source_dir: Path, name: str, cards: CardStats, at: datetime) -> Path:
    """One parquet file of every card's features at ``at``, written whole then renamed, so a
    reader never sees half a part."""
    source_dir.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"card_id": cards.card_id, "card_age_days": cards.card_age_days,
                          "tx_last_24h": cards.tx_last_24h,
                          "event_timestamp": pd.Timestamp(at).tz_convert("UTC")})
    path = source_dir / f"{name}.parquet"
    scratch = source_dir / f".{name}.parquet.tmp"
    frame.to_parquet(scratch, index=False)
    os.replace(scratch, path)
    return path
