"""Pure functions on recorded data (``gameday.records``): fault windows, SLIs, RTO, generator
health and SLO verdicts. Nothing here starts a process or opens a socket."""

from gameday.measure.arrays import RequestArrays, percentile
from gameday.measure.generator import GeneratorHealth, generator_health
from gameday.measure.rto import Rto, measure_rto, scenario_rtos
from gameday.measure.sli import (
    Aggregate,
    BucketSli,
    RunSlis,
    aggregate,
    aggregate_slis,
    bucket_slis,
    scope_requests,
)
from gameday.measure.slo import SloResult, evaluate_slos, slo_name
from gameday.measure.windows import (
    FaultWindow,
    Scope,
    fault_windows,
    in_scope,
    load_start_s,
    warmup_end_s,
)

__all__ = [
    "Aggregate",
    "BucketSli",
    "FaultWindow",
    "GeneratorHealth",
    "RequestArrays",
    "Rto",
    "RunSlis",
    "Scope",
    "SloResult",
    "aggregate",
    "aggregate_slis",
    "bucket_slis",
    "evaluate_slos",
    "fault_windows",
    "generator_health",
    "in_scope",
    "load_start_s",
    "measure_rto",
    "percentile",
    "scenario_rtos",
    "scope_requests",
    "slo_name",
    "warmup_end_s",
]
