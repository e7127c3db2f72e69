"""The failure-rates file (schema ``gameday.failure_rates/1``; the shipped one is
``gameday/data/failure_rates.yaml``): per failure class a published rate with its source and
the experiments that measure it, and that rate per month for the tested setup.

Per-unit rate (events per unit per month) = ``rate`` as written, or
``observed.events / (observed.units × observed.days) × 30`` (a month is 30 days, the error
budget's default period, ``gameday.measure.budget.DEFAULT_PERIOD_S``). For ``unit: deploy``
``rate`` is per deploy. Rate per month of the setup = per-unit rate × the fleet's count of
the unit: ``setup`` 1, ``region`` regions, ``host`` hosts, ``gpu`` GPUs, ``database_primary``
primaries, ``model_dependency`` model endpoints the service depends on, ``deploy`` deploys
per month. A fleet count the file leaves null is counted from the run's suite
(``fleet_of``); deploys per month never is (None: the class has no rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationError, model_validator

from gameday.config import REGIONS, Suite, read_document, validation_message
from gameday.errors import ConfigError
from gameday.measure.budget import DEFAULT_PERIOD_S
from gameday.strict import Strict, field_error, relative_field_error

__all__ = ["DEFAULT_RATES_FILE", "MONTH_DAYS", "SCHEMA", "Fleet", "FleetCounts", "Observed",
           "RateEntry", "RatesFile", "Source", "Unit", "fleet_of", "load_rates",
           "per_unit_rate", "rate_per_month"]

SCHEMA = "gameday.failure_rates/1"
DEFAULT_RATES_FILE = Path(__file__).resolve().parents[1] / "data" / "failure_rates.yaml"
MONTH_DAYS = DEFAULT_PERIOD_S / 86400.0

Unit = Literal["setup", "region", "host", "gpu", "database_primary", "model_dependency",
               "deploy"]
ClassName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Experiment = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$")]
Text = Annotated[str, StringConstraints(min_length=1)]


class Observed(Strict):
    """``events`` seen on ``units`` units (GPUs, hosts, regions) over ``days`` days."""

    events: float = Field(ge=0)
    units: float = Field(gt=0)
    days: float = Field(gt=0)


class Source(Strict):
    short: Text  # the name a table shows
    title: Text
    url: Text
    quote: Text  # the figure as the source states it
    read_via: str = ""  # where the quote was read, when not at ``url`` itself


class RateEntry(Strict):
    title: Text
    unit: Unit
    rate: float | None = Field(None, ge=0)
    observed: Observed | None = None
    derivation: str = ""
    source: Source | None = None
    user_supplied: bool = False
    scenarios: list[Experiment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sourced(self) -> RateEntry:
        if self.rate is not None and self.observed is not None:
            raise relative_field_error("observed", "give `rate` or `observed`, not both")
        if self.user_supplied:
            return self
        if self.source is None:
            raise relative_field_error("source", "a published rate needs its source (short, "
                                       "title, url, quote), or say `user_supplied: true`")
        if self.rate is None and self.observed is None:
            raise relative_field_error("rate", "expected `rate` or `observed` (or "
                                       "`user_supplied: true` with no default)")
        return self


class FleetCounts(Strict):
    """What the per-unit rates are multiplied by; null: counted from the run's suite."""

    regions: int | None = Field(None, ge=0)
    hosts: int | None = Field(None, ge=0)
    gpus: int | None = Field(None, ge=0)
    database_primaries: int | None = Field(None, ge=0)
    model_dependencies: int | None = Field(None, ge=0)
    deploys_per_month: float | None = Field(None, ge=0)


class RatesFile(Strict):
    schema_: Literal["gameday.failure_rates/1"] = Field(alias="schema")
    fleet: FleetCounts = FleetCounts()
    classes: dict[ClassName, RateEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_class_per_experiment(self) -> RatesFile:
        seen: dict[str, str] = {}
        for name, entry in self.classes.items():
            for experiment in entry.scenarios:
                if experiment in seen:
                    raise field_error(f"classes.{name}.scenarios",
                                      f"{experiment!r} already measures {seen[experiment]!r}: "
                                      "an experiment measures one class")
                seen[experiment] = name
        return self


@dataclass(frozen=True, slots=True)
class Fleet:
    """The tested setup's counts; ``counted``: the ones taken from the suite, not the file."""

    regions: int
    hosts: int
    gpus: int
    database_primaries: int
    model_dependencies: int
    deploys_per_month: float | None
    counted: tuple[str, ...] = ()

    def count(self, unit: Unit) -> float | None:
        counts: dict[Unit, float | None] = {
            "setup": 1, "region": self.regions, "host": self.hosts, "gpu": self.gpus,
            "database_primary": self.database_primaries,
            "model_dependency": self.model_dependencies, "deploy": self.deploys_per_month}
        return counts[unit]


def fleet_of(suite: Suite, counts: FleetCounts) -> Fleet:
    """The file's counts, and where it leaves one null the suite's: every serving replica
    (``replicas`` per region per stack) stands for a host; a triton stack's replicas for one
    GPU each; a rag stack has one PostgreSQL primary and one model endpoint it depends on
    (its embedder, or an OpenAI-compatible generator)."""
    regions = len(REGIONS)
    suite_counts = {
        "regions": regions,
        "hosts": suite.replicas * regions * len(suite.stacks),
        "gpus": suite.replicas * regions if "triton" in suite.stacks else 0,
        "database_primaries": 1 if "rag" in suite.stacks else 0,
        "model_dependencies": 1 if "rag" in suite.stacks else 0,
    }
    given = {name: getattr(counts, name) for name in suite_counts}
    resolved = {name: suite_counts[name] if value is None else value
                for name, value in given.items()}
    return Fleet(**resolved, deploys_per_month=counts.deploys_per_month,
                 counted=tuple(name for name, value in given.items() if value is None))


def per_unit_rate(entry: RateEntry) -> float | None:
    if entry.rate is not None:
        return entry.rate
    if entry.observed is None:
        return None
    observed = entry.observed
    return observed.events / (observed.units * observed.days) * MONTH_DAYS


def rate_per_month(entry: RateEntry, fleet: Fleet) -> float | None:
    """Expected incidents per month of the setup; None: no rate, or no count for its unit."""
    rate, count = per_unit_rate(entry), fleet.count(entry.unit)
    return None if rate is None or count is None else rate * count


def load_rates(path: Path | None = None) -> RatesFile:
    """Read and check a rates file (the shipped one by default); a problem is a ConfigError
    naming the file and the field."""
    path = DEFAULT_RATES_FILE if path is None else path
    raw = read_document(path)
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping at the top level", source=str(path))
    try:
        return RatesFile.model_validate(raw)
    except ValidationError as exc:
        field, message = validation_message(exc)
        raise ConfigError(message, source=str(path), field=field) from None
