"""What a shifted client population changes in each request it sends, feature by feature:
a scale (a unit bug: cents for euros is ``{"amount": {"scale": 100}}``), an offset, a wrap
(a clock in another time zone: ``{"hour": {"add": 6, "modulo": 24}}``), a clip into the
field's range, or for a flag the share of requests that set it (``{"foreign":
{"share_true": 0.9}}``). Applied to the stack's own reference rows, so the population is the
training population with exactly that shift."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gameday.errors import FaultError

__all__ = ["FeatureShift", "InputShift", "parse_shift", "shifted"]


class FeatureShift(BaseModel):
    """One feature's change: ``value * scale + add``, then wrapped by ``modulo`` and clipped
    into [``low``, ``high``]; integers stay integers (rounded). A flag takes ``share_true``
    alone: each request sets it with that probability."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scale: float = Field(1.0, gt=0, le=1e9)
    add: float = Field(0.0, allow_inf_nan=False)
    modulo: float | None = Field(None, gt=0)
    low: float | None = None
    high: float | None = None
    share_true: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _one_kind(self) -> FeatureShift:
        numeric = (self.scale != 1.0 or self.add != 0.0 or self.modulo is not None
                   or self.low is not None or self.high is not None)
        if self.share_true is not None and numeric:
            raise ValueError("share_true is for a flag and takes no scale, add, modulo, low "
                             "or high")
        if not numeric and self.share_true is None:
            raise ValueError("changes nothing: give scale, add, modulo, low/high or share_true")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        return self

    def apply(self, value: Any, rng: np.random.Generator) -> Any:
        if self.share_true is not None:
            if not isinstance(value, bool):
                raise FaultError(f"share_true shifts a flag, not {value!r}")
            return bool(rng.random() < self.share_true)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FaultError(f"scale/add shift a number, not {value!r}")
        result = float(value) * self.scale + self.add
        if self.modulo is not None:
            result %= self.modulo
        if self.low is not None:
            result = max(result, self.low)
        if self.high is not None:
            result = min(result, self.high)
        return round(result) if isinstance(value, int) else round(result, 6)


InputShift = dict[str, FeatureShift]


def parse_shift(raw: Mapping[str, Any]) -> InputShift:
    """An experiment's ``shift`` argument; FaultError naming the feature and field if it is
    not one."""
    if not isinstance(raw, Mapping) or not raw:
        raise FaultError(f"shift: expected a mapping of feature -> change, got {raw!r}")
    shift: InputShift = {}
    for feature, change in raw.items():
        try:
            shift[str(feature)] = FeatureShift.model_validate(change)
        except ValidationError as exc:
            wrong = "; ".join(f"{'.'.join(map(str, ('shift', feature, *e['loc'])))}: "
                              f"{e['msg']}" for e in exc.errors())
            raise FaultError(wrong) from None
    return shift


def shifted(rows: list[dict[str, Any]], shift: InputShift, seed: int) -> list[dict[str, Any]]:
    """The rows with the shift applied (seeded: the same rows give the same population); a
    shifted feature that no row has is a FaultError naming it."""
    known = set(rows[0]) if rows else set()
    unknown = sorted(set(shift) - known)
    if unknown:
        raise FaultError(f"shift: no feature {', '.join(unknown)} in the requests; they have "
                         f"{', '.join(sorted(known)) or 'none'}")
    rng = np.random.default_rng(seed)
    return [{name: shift[name].apply(value, rng) if name in shift else value
             for name, value in row.items()} for row in rows]
