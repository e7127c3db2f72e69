"""Stop conditions of a suite: what aborts a scenario and rolls its fault back (in the style
of AWS FIS stop conditions and chaosaddons safeguards). Checked by ``gameday.safeguards``, a
Chaos Toolkit control, while the scenario's method runs.

- ``burn_rate``: the error budget burns too fast. Either an alert of one of the suite's
  OpenSLO SLOs (``slo`` + ``alert``: its threshold, and its windows scaled onto the run as the
  report scales them, ``gameday.measure.budget``), or given here: ``target`` (the objective,
  e.g. 0.99), ``threshold`` (burn-rate factor, e.g. 14.4), ``long_window_s`` and
  ``short_window_s`` (default 1/12 of the long one, at least 0.5 s), ``latency_le_s`` (a good
  answer is ok and at most that slow; default: ok). Fires when the burn rate over both
  windows, ending now, is at least the threshold.
- ``probe``: a Chaos Toolkit probe (with its ``tolerance``), run every ``every_s``; a probe
  that raises or misses its tolerance fires.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from gameday.strict import Strict as _Strict
from gameday.strict import relative_field_error as _field_error

__all__ = ["BurnStop", "StopCondition"]


class BurnStop(_Strict):
    slo: str = ""
    alert: str = ""
    target: float | None = Field(None, gt=0, lt=1)
    threshold: float | None = Field(None, gt=0)
    long_window_s: float | None = Field(None, gt=0)
    short_window_s: float | None = Field(None, gt=0)
    latency_le_s: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_form(self) -> BurnStop:
        named = bool(self.slo or self.alert)
        inline = [self.target, self.threshold, self.long_window_s]
        if named:
            if not (self.slo and self.alert):
                raise _field_error("alert" if self.slo else "slo",
                                   "an OpenSLO alert is named by both `slo` and `alert`")
            if any(v is not None for v in (*inline, self.short_window_s, self.latency_le_s)):
                raise _field_error("target", "give either `slo` + `alert` or the burn rate's "
                                             "own target, threshold and windows, not both")
        elif any(v is None for v in inline):
            missing = ["target", "threshold", "long_window_s"][
                [v is None for v in inline].index(True)]
            raise _field_error(missing, "required key is missing (or name an OpenSLO alert "
                                        "with `slo` and `alert`)")
        return self


class StopCondition(_Strict):
    name: str = ""
    burn_rate: BurnStop | None = None
    probe: dict[str, Any] | None = None
    every_s: float = Field(1.0, ge=0.1, description="how often a probe runs")

    @model_validator(mode="after")
    def _one_kind(self) -> StopCondition:
        if (self.burn_rate is None) == (self.probe is None):
            raise _field_error("burn_rate", "give exactly one of `burn_rate` and `probe`")
        if self.probe is not None:
            if self.probe.get("type") != "probe":
                raise _field_error("probe.type", "a guard is a Chaos Toolkit probe: expected "
                                                 "`type: probe`")
            # imported here: chaoslib imports requests (and ssl), and a load generator that
            # reads a suite must import nothing ssl before gevent monkey-patches
            from chaoslib.activity import ensure_activity_is_valid

            try:
                ensure_activity_is_valid(self.probe)
            except Exception as exc:  # chaoslib raises its own and bare errors
                raise _field_error("probe", f"not a valid Chaos Toolkit probe: {exc}") \
                    from None
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.burn_rate is not None:
            burn = self.burn_rate
            return f"{burn.slo}/{burn.alert}" if burn.slo else f"burn>={burn.threshold:g}x"
        return str((self.probe or {}).get("name", "probe"))
