"""Typed configuration: suites, load profiles, SLOs, price tables.

Loaded once at the edge (``load_suite``) and passed down as objects. Every model forbids
unknown keys, so a misspelt key is an error naming the file and field, never a silent default.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gameday.autoscale.options import AutoscalingOptions
from gameday.cost_options import PriceTable, RegionPrices
from gameday.edge_options import EdgeOptions
from gameday.errors import ConfigError
from gameday.openslo import read_openslo_file
from gameday.slos import (
    DATABASE_SLOS,
    AvailabilitySlo,
    DegradedShareSlo,
    LatencySlo,
    OpenSlo,
    QualitySlo,
    RpoSlo,
    RtoSlo,
    Slo,
    SplitBrainSlo,
    TtftSlo,
    WafSlo,
    WriteRtoSlo,
)
from gameday.stack_options import (
    PATRONI_MIN_TTL_S,
    DatabaseOptions,
    PatroniOptions,
    RagOptions,
    TabularOptions,
    TritonOptions,
    is_loopback_url,
)
from gameday.stop_options import StopCondition
from gameday.strict import FIELD_ERROR as _FIELD_ERROR
from gameday.strict import RELATIVE_FIELD_ERROR
from gameday.strict import Strict as _Strict
from gameday.strict import field_error as _field_error

__all__ = [
    "ATTACK_ENDPOINT",
    "DATABASE_SLOS",
    "INGEST_ENDPOINT",
    "NO_SLOS",
    "PATRONI_MIN_TTL_S",
    "REGIONS",
    "AvailabilitySlo",
    "BlastRadius",
    "DatabaseOptions",
    "DegradedShareSlo",
    "GameDayOptions",
    "LatencySlo",
    "LoadProfile",
    "Measurement",
    "PatroniOptions",
    "PriceTable",
    "QualitySlo",
    "RagOptions",
    "RegionPrices",
    "RpoSlo",
    "RtoSlo",
    "Scenario",
    "Slo",
    "SplitBrainSlo",
    "Suite",
    "TritonOptions",
    "TtftSlo",
    "WafSlo",
    "WriteRtoSlo",
    "is_loopback_url",
    "load_suite",
    "validation_message",
]

REGIONS = ("region-a", "region-b")
INGEST_ENDPOINT = "ingest"  # the rag stack's numbered document ingests
ATTACK_ENDPOINT = "attack"  # the labelled set of benign requests and attacks (the edge's WAF)




class LoadProfile(_Strict):
    """Open-model load (arrival rate) against one stack endpoint through the global edge, or
    (``target: database``) numbered writes straight to the stack's database, the RPO ledger.
    A suite may mix several (a list): each runs in a generator of its own, from one start.
    ``steps`` change the rate during the run (a surge ×4 for 20 s, then back to the base:
    ``[{at_s: 20, factor: 4}, {at_s: 40, factor: 1}]``); ``workers`` generator processes
    share one schedule (Locust's master/worker mode). ``target: edge-no-waf`` sends the same
    load through the edge's second entry, the same nginx without ModSecurity (the WAF's cost,
    measured in the same run); ``distinct_bodies`` makes the bodies repeat (a pool of that
    many), so the edge's cache meets the same request again."""

    class RateStep(_Strict):
        """From ``at_s`` seconds after the warm-up's end, the rate is ``rate_per_s``, or
        ``factor`` × the profile's base ``rate_per_s`` (exactly one of the two)."""

        at_s: float = Field(ge=0, description="seconds after the warm-up ends")
        rate_per_s: float | None = Field(None, gt=0, le=20000)
        factor: float | None = Field(None, gt=0, description="× the profile's rate_per_s")

        @model_validator(mode="after")
        def _one_rate(self) -> LoadProfile.RateStep:
            if (self.rate_per_s is None) == (self.factor is None):
                raise LoadProfile._invalid("a step gives exactly one of rate_per_s or factor")
            return self

        def rate_for(self, base_rate_per_s: float) -> float:
            return self.rate_per_s if self.rate_per_s is not None \
                else base_rate_per_s * (self.factor or 0.0)

    name: str = Field("", pattern=r"^([a-z0-9][a-z0-9-]*)?$",
                      description="the generator's name (default: the endpoint)")
    model: Literal["open"] = "open"
    target: Literal["edge", "edge-no-waf", "database"] = Field(
        "edge", description="edge: through the global edge (WAF and cache); edge-no-waf: the "
                            "same nginx without ModSecurity and cache; database: numbered "
                            "writes straight to the stack's database")
    stack: str = "tabular"
    endpoint: str = "predict"
    arrival: Literal["constant", "poisson"] = "poisson"
    rate_per_s: float = Field(50.0, gt=0, le=20000)
    duration_s: float = Field(40.0, gt=0, le=24 * 3600)
    warmup_s: float = Field(3.0, ge=0, le=600)
    seed: int = 7
    timeout_s: float = Field(2.0, gt=0, le=120)
    concurrency: int = Field(300, ge=1, le=10000)
    lag_bound_s: float = Field(0.010, gt=0, description="a send later than this is 'dropped'")
    connections: int = Field(8, ge=1, le=64, description="database target: client connections")
    follows: str = Field("", description="rag probe: the ingest load whose documents it asks "
                                         "about (by name)")
    follow_lag_s: float = Field(5.0, ge=0, le=600, description="rag probe: ask about the "
                                "document the followed load sent this long before")
    steps: list[LoadProfile.RateStep] = Field(
        default_factory=list, description="rate changes after the warm-up (a surge)")
    workers: int = Field(1, ge=1, le=64, description="generator processes sharing the schedule")
    distinct_bodies: int | None = Field(
        None, description="the body pool's size, 1..4096 (default: a body per send, up to "
                          "4096): fewer make answers repeat, for the edge's cache; rag ask: "
                          "request i asks what request i mod n asked; attack: the first n "
                          "requests of the labelled mix")

    @property
    def generator(self) -> str:
        return self.name or self.endpoint

    @staticmethod
    def _invalid(message: str) -> Exception:
        """The message as it is, at the field's path (a ValueError reads "Value error, ...")."""
        from pydantic_core import PydanticCustomError  # the edit of this class keeps to it

        return PydanticCustomError("value_error", message)

    @field_validator("steps")
    @classmethod
    def _check_steps(cls, steps: list[LoadProfile.RateStep],
                     info: Any) -> list[LoadProfile.RateStep]:
        duration_s, rate_per_s = info.data.get("duration_s"), info.data.get("rate_per_s")
        if steps and info.data.get("target") == "database":
            raise cls._invalid("the database writer sends at one rate: no steps")
        previous_s: float | None = None
        for index, step in enumerate(steps):
            if previous_s is not None and step.at_s <= previous_s:
                raise cls._invalid(f"steps must be in strictly increasing at_s: step {index} "
                                   f"is at {step.at_s:g} s, after one at {previous_s:g} s")
            if duration_s is not None and step.at_s >= duration_s:
                raise cls._invalid(f"step {index} at {step.at_s:g} s is not inside "
                                   f"duration_s ({duration_s:g} s after the warm-up)")
            if rate_per_s is not None and step.rate_for(rate_per_s) > 20000:
                raise cls._invalid(f"step {index} asks for {step.rate_for(rate_per_s):g} "
                                   "req/s; the bound is 20000")
            previous_s = step.at_s
        return steps

    @field_validator("workers")
    @classmethod
    def _check_workers(cls, workers: int, info: Any) -> int:
        if workers > 1 and info.data.get("target") == "database":
            raise cls._invalid("the database writer runs in one process: workers must be 1")
        return workers

    @field_validator("distinct_bodies")
    @classmethod
    def _check_distinct_bodies(cls, count: int | None, info: Any) -> int | None:
        if count is None:
            return None
        if not 1 <= count <= 4096:  # the load's body pool holds at most 4096 (load.payloads)
            raise cls._invalid(f"distinct_bodies: expected 1..4096 (the body pool's size), "
                               f"got {count}")
        if info.data.get("target") == "database" or info.data.get("endpoint") == INGEST_ENDPOINT:
            raise cls._invalid("numbered writes are each their own: no distinct_bodies")
        return count


class Scenario(_Strict):
    """One Chaos Toolkit experiment, started ``offset_s`` after the load's warm-up ended."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    experiment: Path
    offset_s: float = Field(10.0, ge=0)
    target_region: Literal["region-a", "region-b"] = "region-a"
    configuration: dict[str, Any] = Field(default_factory=dict)
    stop_conditions: list[StopCondition] | None = Field(
        None, description="what aborts this scenario (default: the suite's stop_conditions)")


class GameDayOptions(_Strict):
    """``gameday gameday``: what the operator sets out to learn (asked for at the start when
    the suite does not say)."""

    hypothesis: str = Field("", description="the game day's hypothesis, for the run folder "
                            "and the report")


class Measurement(_Strict):
    bucket_s: float = Field(1.0, gt=0)
    stability_window_s: float = Field(5.0, gt=0)
    latency_slo_s: float = Field(0.25, gt=0, description="slower than this is bad for RTO")


class BlastRadius(_Strict):
    """Where a run may act beyond the platform's own parts (``gameday.blast_radius``): on the
    kind platform, the kube contexts it may use besides its own clusters' (``kind-region-a``,
    ``kind-region-b``). Addresses are never listed here: every one must be loopback."""

    kube_contexts: list[str] = Field(default_factory=list, description="kube contexts "
                                     "(kind platform) experiments may act on, besides its own")

    @field_validator("kube_contexts")
    @classmethod
    def _check_contexts(cls, contexts: list[str]) -> list[str]:
        for index, context in enumerate(contexts):
            if not context or context != context.strip() or any(c.isspace() for c in context):
                raise _field_error(f"blast_radius.kube_contexts.{index}",
                                   f"expected a kube context name (no spaces), got {context!r}")
        if len(set(contexts)) != len(contexts):
            raise _field_error("blast_radius.kube_contexts",
                               f"each context once, got {contexts}")
        return contexts


StackName = Literal["tabular", "rag", "triton"]  # each has targets/<name>/stack.yaml


def _default_stacks() -> list[StackName]:
    return ["tabular"]


NO_SLOS = ("a suite with no SLOs can never fail, so CI could never gate on it: add at least one "
           "(availability, latency or rto), or say so explicitly with `allow_no_slos: true` at "
           "the top level of the suite")


class Suite(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    platform: Literal["local", "kind"] = "local"
    stacks: list[StackName] = Field(default_factory=_default_stacks, min_length=1)
    replicas: int = Field(2, ge=1, le=16)
    edge: EdgeOptions = EdgeOptions()
    load: list[LoadProfile] = Field(default_factory=lambda: [LoadProfile()], min_length=1,
                                    description="one load profile, or a list run together")
    database: DatabaseOptions | None = Field(None, description="stacks with a database only")
    rag: RagOptions = RagOptions()
    tabular: TabularOptions = TabularOptions()
    triton: TritonOptions = TritonOptions()
    prices: PriceTable = PriceTable()
    scenarios: list[Scenario] = Field(default_factory=list)
    autoscaling: list[AutoscalingOptions] = Field(
        default_factory=list, description="a Kubernetes HPA per region for these components")
    slos: list[Slo] = Field(default_factory=list)
    stop_conditions: list[StopCondition] = Field(
        default_factory=list, description="what aborts a scenario and rolls it back")
    openslo: list[Path] = Field(
        default_factory=list, description="OpenSLO v1 files whose SLO objects join `slos` "
        "(read when the suite is loaded; a run folder's suite.json holds them inline)")
    allow_no_slos: bool = Field(False, description="accept a suite that can never fail")
    measurement: Measurement = Measurement()
    blast_radius: BlastRadius = BlastRadius()
    gameday: GameDayOptions = GameDayOptions()
    source: Path | None = Field(None, exclude=True)

    @field_validator("load", mode="before")
    @classmethod
    def _one_or_more(cls, value: object) -> object:
        return [value] if isinstance(value, dict | LoadProfile) else value

    @property
    def primary_load(self) -> LoadProfile:
        """The first load: the one the run's warm-up, rate and progress are told by."""
        return self.load[0]

    @property
    def ledger_load(self) -> LoadProfile | None:
        """The numbered writes the RPO is audited on: the database load, else the rag stack's
        document ingests when the suite has a database section; None: no RPO ledger."""
        if self.primary_load.target == "database":
            return self.primary_load
        ingests = [load for load in self.load if load.stack == "rag"
                   and load.endpoint == INGEST_ENDPOINT and load.target == "edge"]
        return ingests[0] if ingests and self.database is not None else None

    def stack_settings(self) -> dict[str, Any]:
        """What the suite says to the stacks' templates (``settings``)."""
        return {"database": (self.database or DatabaseOptions()).model_dump(mode="json"),
                "rag": self.rag.model_dump(mode="json"),
                "tabular": self.tabular.model_dump(mode="json"),
                "triton": self.triton.model_dump(mode="json")}

    def stop_conditions_of(self, scenario: Scenario) -> list[StopCondition]:
        return self.stop_conditions if scenario.stop_conditions is None \
            else scenario.stop_conditions

    def _check_stop_conditions(self) -> None:
        alerts = {(slo.metadata.name, policy.condition[0]) for slo in self.slos
                  if isinstance(slo, OpenSlo) for policy in slo.policies}
        places = [(f"stop_conditions.{i}", c) for i, c in enumerate(self.stop_conditions)]
        places += [(f"scenarios.{s}.stop_conditions.{i}", c)
                   for s, scenario in enumerate(self.scenarios)
                   for i, c in enumerate(scenario.stop_conditions or [])]
        for where, condition in places:
            burn = condition.burn_rate
            if burn is not None and burn.slo and (burn.slo, burn.alert) not in alerts:
                known = ", ".join(f"{s}/{a}" for s, a in sorted(alerts)) or "none"
                raise _field_error(f"{where}.burn_rate.alert",
                                   f"no OpenSLO SLO {burn.slo!r} with an alert condition "
                                   f"{burn.alert!r} in the suite (known: {known})")

    @model_validator(mode="after")
    def _check(self) -> Suite:
        for index, load in enumerate(self.load):
            _check_load(self, index, load)
        generators = [load.generator for load in self.load]
        if len(set(generators)) != len(generators):
            raise _field_error("load", f"each load needs its own name (or endpoint), got "
                                       f"{generators}")
        names = [s.name for s in self.scenarios]
        if len(set(names)) != len(names):
            raise _field_error("scenarios", f"scenario names must be unique, got {names}")
        self._check_stop_conditions()
        if not self.slos and not self.allow_no_slos:
            raise _field_error("slos", NO_SLOS)
        for index, slo in enumerate(self.slos):
            if slo.kind in DATABASE_SLOS and self.ledger_load is None:
                raise _field_error(f"slos.{index}.kind",
                                   f"a {slo.kind} SLO is measured on numbered writes: it needs "
                                   "`load.target: database`, or a rag ingest load and the "
                                   "suite's `database` section")
            if isinstance(slo, OpenSlo):
                for where, source in slo.foreign_sources():
                    raise _field_error(f"slos.{index}.SLO.{where}",
                                       f"only `type: gameday` (the run's request records) is "
                                       f"judged, got {source!r}")
            if isinstance(slo, WafSlo) and not any(load.endpoint == ATTACK_ENDPOINT
                                                   for load in self.load):
                raise _field_error(f"slos.{index}.kind",
                                   "a waf SLO judges the labelled attack set: it needs a load "
                                   "with `endpoint: attack` (suites/edge-waf.yaml)")
            if isinstance(slo, TtftSlo | QualitySlo | DegradedShareSlo) and \
                    slo.stack not in self.stacks:
                raise _field_error(f"slos.{index}.stack",
                                   f"a {slo.kind} SLO judges a RAG stack's answers: expected "
                                   f"one of the suite's stacks {self.stacks}, got {slo.stack!r}")
        return self


def _check_load(suite: Suite, index: int, load: LoadProfile) -> None:
    where = f"load.{index}" if len(suite.load) > 1 else "load"
    if load.stack not in suite.stacks:
        raise _field_error(f"{where}.stack", f"{load.stack!r} is not one of the suite's "
                                             f"stacks {suite.stacks}")
    if load.target == "database" and suite.database is None:
        raise _field_error(f"{where}.target", "a database load needs the suite's `database` "
                                              "section (failover mode and replication)")
    if load.target == "database" and index:
        raise _field_error(f"{where}.target", "the database load must be the first (the "
                                              "RPO ledger judges it)")
    if load.follows:
        followed = [other for other in suite.load if other.generator == load.follows]
        if not followed or followed[0].endpoint != "ingest" or \
                followed[0].arrival != "constant":
            raise _field_error(f"{where}.follows",
                               f"expected the name of a constant-rate ingest load of this "
                               f"suite, got {load.follows!r}")


def validation_message(error: ValidationError) -> tuple[str, str]:
    """(field path, what was wrong) of the first error pydantic found."""
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"]
    if first["type"] == _FIELD_ERROR:
        context = first.get("ctx") or {}
        field = str(context.get("field", field))
    elif first["type"] == RELATIVE_FIELD_ERROR:
        context = first.get("ctx") or {}
        inner = str(context.get("field", ""))
        field = ".".join(part for part in (".".join(str(p) for p in first["loc"]), inner)
                         if part) or "(top level)"
    elif first["type"] == "extra_forbidden":
        message = "unknown key (check its spelling)"
    elif first["type"] == "missing":
        message = "required key is missing"
    elif first.get("input") is not None and first["type"] != "value_error":
        message = f"{message}, got {first['input']!r}"
    return field, message


def read_document(path: Path) -> Any:
    """Parse a YAML or JSON file, raising ConfigError that names the file."""
    if not path.is_file():
        raise ConfigError("file not found", source=str(path))
    try:
        text = path.read_text()
        return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}",
                          source=str(path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {_yaml_problem(exc)}", source=str(path)) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"cannot be read: {exc}", source=str(path)) from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """'line L, column C: problem' from a PyYAML error (its str() quotes the whole context)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return str(problem)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def load_suite(path: Path) -> Suite:
    """Load and validate a suite file; experiment paths are resolved against the suite's repo."""
    raw = read_document(path)
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping at the top level", source=str(path))
    raw = _with_openslo_files(raw, path)
    try:
        suite = Suite.model_validate({**raw, "source": path})
    except ValidationError as exc:
        field, message = validation_message(exc)
        if not isinstance(raw.get("load"), list) and field.startswith("load.0"):
            field = "load" + field[len("load.0"):]  # the file has one load, not a list
        raise ConfigError(message, source=str(path), field=field) from None
    base = _repo_root_for(path)
    for index, scenario in enumerate(suite.scenarios):
        experiment = scenario.experiment if scenario.experiment.is_absolute() \
            else base / scenario.experiment
        if not experiment.is_file():
            raise ConfigError(f"experiment file not found: {experiment}", source=str(path),
                              field=f"scenarios.{index}.experiment")
    return suite


def _with_openslo_files(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """The suite with the SLO objects of its ``openslo`` files appended to ``slos``; a file's
    own problems are named in that file (field = the SLO's place in it)."""
    files = raw.get("openslo")
    if not files:
        return raw
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise ConfigError("expected a list of OpenSLO file paths", source=str(path),
                          field="openslo")
    base = _repo_root_for(path)
    slos = list(raw.get("slos") or [])
    for index, name in enumerate(files):
        file = Path(name) if Path(name).is_absolute() else base / name
        if not file.is_file():
            raise ConfigError(f"OpenSLO file not found: {file}", source=str(path),
                              field=f"openslo.{index}")
        try:
            found = read_openslo_file(file)
        except yaml.YAMLError as exc:
            raise ConfigError(f"not valid YAML: {_yaml_problem(exc)}", source=str(file)) \
                from None
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            raise ConfigError(str(exc), source=str(file)) from None
        if not found:
            raise ConfigError("no OpenSLO object of kind SLO in it", source=str(file))
        for number, document in enumerate(found):
            try:
                OpenSlo.model_validate(document)
            except ValidationError as exc:
                field, message = validation_message(exc)
                raise ConfigError(message, source=str(file),
                                  field=f"SLO.{number}.{field}") from None
        slos += found
    return {**raw, "slos": slos}


def _repo_root_for(path: Path) -> Path:
    """Suites live in ``suites/``; relative paths in them are relative to the repo root."""
    parent = path.resolve().parent
    return parent.parent if parent.name == "suites" else parent


def resolve_experiment(suite: Suite, scenario: Scenario) -> Path:
    if scenario.experiment.is_absolute() or suite.source is None:
        return scenario.experiment
    return _repo_root_for(suite.source) / scenario.experiment
