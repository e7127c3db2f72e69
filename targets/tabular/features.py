"""The fraud model's input: the seven transaction features, their order and their validation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FEATURE_NAMES", "FRAUD_THRESHOLD", "SAMPLE_TRANSACTION", "Transaction",
           "row_payload"]

#: Column order of every model input matrix; training and serving share it.
FEATURE_NAMES: tuple[str, ...] = (
    "amount",
    "hour",
    "merchant_risk",
    "distance_km",
    "card_age_days",
    "foreign",
    "tx_last_24h",
)

#: Score at or above which a transaction is called fraud (served and reported as recall@0.5).
FRAUD_THRESHOLD = 0.5


class Transaction(BaseModel):
    """One card transaction to score; unknown keys are refused so a client typo is a 422."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: float = Field(ge=0, allow_inf_nan=False, description="amount in the card currency")
    hour: int = Field(ge=0, le=23, description="local hour of day")
    merchant_risk: float = Field(ge=0, le=1, allow_inf_nan=False)
    distance_km: float = Field(ge=0, allow_inf_nan=False, description="distance from home")
    card_age_days: int = Field(ge=0)
    foreign: bool
    tx_last_24h: int = Field(ge=0, description="transactions on the card in the last 24 h")

    def as_row(self) -> list[float]:
        """The features as floats in FEATURE_NAMES order."""
        return [
            self.amount,
            float(self.hour),
            self.merchant_risk,
            self.distance_km,
            float(self.card_age_days),
            1.0 if self.foreign else 0.0,
            float(self.tx_last_24h),
        ]


def row_payload(row: Sequence[float]) -> dict[str, Any]:
    """A model input row (FEATURE_NAMES order) as the JSON body /predict takes: the integer
    and boolean features as such."""
    values: dict[str, Any] = dict(zip(FEATURE_NAMES, (float(v) for v in row), strict=True))
    for integer in ("hour", "card_age_days", "tx_last_24h"):
        values[integer] = int(values[integer])
    values["foreign"] = bool(values["foreign"])
    return values


#: The fixed transaction the deep readiness check scores.
SAMPLE_TRANSACTION = Transaction(
    amount=42.5,
    hour=14,
    merchant_risk=0.2,
    distance_km=3.0,
    card_age_days=400,
    foreign=False,
    tx_last_24h=2,
)
