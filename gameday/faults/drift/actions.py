"""Input drift on a region's members of a stack that compares its inputs with its training
data (``drift`` in its stack.yaml): a side process, the shifted client population, sends them
real requests whose inputs are the training rows with ``shift`` applied, open loop at
``rate_per_s`` each, until the rollback or its own deadline (``max_duration_s``).

``shift`` maps a feature to its change (``gameday.platforms.shift``)::

    {"amount": {"scale": 100}, "hour": {"add": 6, "modulo": 24},
     "merchant_risk": {"add": 0.3, "low": 0, "high": 1}, "foreign": {"share_true": 0.9}}

``restore_inputs`` stops the population; the servers' windows then fill with the ordinary
traffic again (how long their alarm takes to clear is measured, not waited for).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gameday.faults.target import Configuration, capability
from gameday.measure.drift import INPUT_DRIFT_FAULT
from gameday.platforms.base import InputDriftControl
from gameday.platforms.shift import parse_shift

__all__ = ["restore_inputs", "shift_inputs"]


def shift_inputs(region: str, shift: Mapping[str, Any], stack: str = "tabular",
                 rate_per_s: float = 100.0, seed: int = 7, max_duration_s: float = 300.0,
                 configuration: Configuration = None) -> dict[str, Any]:
    done = capability(configuration, InputDriftControl).shift_inputs(
        region, stack, parse_shift(shift), rate_per_s=float(rate_per_s), seed=int(seed),
        max_duration_s=float(max_duration_s))
    return {"fault": INPUT_DRIFT_FAULT, "region": region, **done}


def restore_inputs(region: str, stack: str = "tabular",
                   configuration: Configuration = None) -> dict[str, Any]:
    return capability(configuration, InputDriftControl).restore_inputs(region, stack)
