"""What a forecast (``gameday.measure.forecast``) takes from a run folder, and nothing else:
each scenario's experiment (``suite.json``), its measured recovery (``summary.json``
``scenarios[].rto``) and RPO (``scenarios[].database.rpo``), and the availability objective
of the suite; and the forecast of a run folder with a rates file.

The objective is the strictest (highest) availability SLO of the suite whose scope is not
``during_faults`` (a floor the suite sets for the fault itself, not a monthly objective);
none: ``DEFAULT_OBJECTIVE``. A missing, unreadable or foreign file is a ConfigError naming
it (and the field), as bad input is everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gameday.config import AvailabilitySlo, Suite, validation_message
from gameday.errors import ConfigError
from gameday.measure.failure_rates import DEFAULT_RATES_FILE, Fleet, fleet_of, load_rates
from gameday.measure.forecast import Forecast, ScenarioImpact, class_impacts, forecast
from gameday.measure.slo import slo_name

__all__ = ["DEFAULT_OBJECTIVE", "SUITE_FILE", "SUMMARY_FILE", "RunMeasurements",
           "forecast_of_run", "read_run"]

SUMMARY_FILE = "summary.json"
SUITE_FILE = "suite.json"
DEFAULT_OBJECTIVE = 0.999  # three nines, when the suite states no availability objective

M = TypeVar("M", bound=BaseModel)


class _Document(BaseModel):
    """A part of summary.json: its schema adds keys and never renames them, so extra keys
    are ignored here (unlike a user's file)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class _Rto(_Document):
    rto_s: float | None = None
    recovered: bool = False
    requests: int = Field(0, ge=0)
    bad_requests: int = Field(0, ge=0)
    failed_requests: int = Field(0, ge=0)


class _Rpo(_Document):
    measured: bool = False
    lost: int | None = Field(None, ge=0)
    rpo_s: float | None = None


class _Database(_Document):
    rpo: _Rpo = _Rpo()


class _Scenario(_Document):
    name: str
    fault_start_s: float | None = None
    rto: _Rto = _Rto()
    database: _Database | None = None


class _Summary(_Document):
    schema_: Literal["gameday.summary/1"] = Field(alias="schema")
    scenarios: list[_Scenario]


@dataclass(frozen=True, slots=True)
class RunMeasurements:
    run_dir: Path
    suite: Suite
    scenarios: tuple[ScenarioImpact, ...]
    objective: float
    objective_from: str  # the SLO it came from, or why the default


def read_run(run_dir: Path) -> RunMeasurements:
    summary_path, suite_path = run_dir / SUMMARY_FILE, run_dir / SUITE_FILE
    if not run_dir.is_dir() or not summary_path.is_file():
        raise ConfigError(f"not a run folder (no {SUMMARY_FILE}; `gameday report` rebuilds it "
                          "from a run's records)", source=str(run_dir))
    if not suite_path.is_file():
        raise ConfigError(f"not a run folder (no {SUITE_FILE})", source=str(run_dir))
    suite = _read(suite_path, Suite)
    summary = _read(summary_path, _Summary)
    experiments = {scenario.name: scenario.experiment.stem for scenario in suite.scenarios}
    objective, objective_from = _objective(suite)
    return RunMeasurements(
        run_dir=run_dir, suite=suite,
        scenarios=tuple(_impact(scenario, experiments.get(scenario.name, ""))
                        for scenario in summary.scenarios),
        objective=objective, objective_from=objective_from)


def _read(path: Path, model: type[M]) -> M:
    """The file's JSON as ``model``; a problem names the file and the field."""
    try:
        document = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"not valid JSON: {exc}", source=str(path)) from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        field, message = validation_message(exc)
        raise ConfigError(message, source=str(path), field=field) from None


def _impact(scenario: _Scenario, experiment: str) -> ScenarioImpact:
    rto = scenario.rto
    rpo = scenario.database.rpo if scenario.database else None
    measured_rpo = rpo is not None and rpo.measured
    return ScenarioImpact(
        scenario=scenario.name, experiment=experiment,
        fault_started=scenario.fault_start_s is not None,
        recovered=rto.recovered and rto.rto_s is not None,
        rto_s=rto.rto_s if rto.recovered else None, requests=rto.requests,
        failed_requests=rto.failed_requests, bad_requests=rto.bad_requests,
        lost_writes=rpo.lost if rpo is not None and measured_rpo else None,
        rpo_s=rpo.rpo_s if rpo is not None and measured_rpo else None)


def _objective(suite: Suite) -> tuple[float, str]:
    judged = [slo for slo in suite.slos
              if isinstance(slo, AvailabilitySlo) and slo.scope != "during_faults"]
    if not judged:
        return DEFAULT_OBJECTIVE, (f"the suite has no availability SLO outside faults: "
                                   f"{DEFAULT_OBJECTIVE:g} assumed")
    strictest = max(judged, key=lambda slo: slo.objective)
    return strictest.objective, f"the suite's SLO {slo_name(strictest)}"


def forecast_of_run(run_dir: Path, *, rates_file: Path | None = None, months: int = 10_000,
                    seed: int = 0, objective: float | None = None,
                    untested_impact_s: float | None = None,
                    count_slow: bool = False) -> tuple[RunMeasurements, Forecast]:
    """The forecast of one run folder with a rates file (the shipped one by default);
    ``objective`` overrides the suite's."""
    measured = read_run(run_dir)
    rates = load_rates(rates_file)
    fleet = fleet_of(measured.suite, rates.fleet)
    impacts, unclaimed = class_impacts(rates, fleet, measured.scenarios, count_slow=count_slow)
    target = measured.objective if objective is None else objective
    context = [
        f"Rates: {rates_file or DEFAULT_RATES_FILE}"
        f"{'' if rates_file else ' (shipped with gameday)'}; docs/forecast.md gives each "
        "source and how its rate was derived.",
        _fleet_line(fleet),
        f"Objective {target:g}: "
        f"{measured.objective_from if objective is None else 'given (--objective)'}; the "
        "error budget is (1 − objective) × 30 days.",
    ]
    if count_slow:
        context.append("Requests slower than the suite's latency SLO count as failed "
                       f"({measured.suite.measurement.latency_slo_s:g} s, --count-slow).")
    if unclaimed:
        context.append(f"Scenarios of the run no class claims, not in the forecast: "
                       f"{', '.join(unclaimed)}.")
    result = forecast(impacts, objective=target, months=months, seed=seed,
                      untested_impact_s=untested_impact_s, context=context)
    return measured, result


def _fleet_line(fleet: Fleet) -> str:
    deploys = "not given" if fleet.deploys_per_month is None else f"{fleet.deploys_per_month:g}"
    counted = f" ({', '.join(fleet.counted)} counted from the suite: each serving replica " \
        "a host, each Triton server a GPU)" if fleet.counted else ""
    return (f"Setup: {fleet.regions} regions, {fleet.hosts} hosts, {fleet.gpus} GPUs, "
            f"{fleet.database_primaries} database primaries, {fleet.model_dependencies} model "
            f"dependencies{counted}; deploys per month {deploys}.")
