"""Pure functions on recorded data (``gameday.records``, ``gameday.dbrecords``): fault windows,
SLIs, RTO, RPO, write RTO, split brain, database roles and replication lag, generator health
and SLO verdicts. Nothing here starts a process or opens a socket."""

from gameday.measure.arrays import RequestArrays, percentile
from gameday.measure.database import (
    DatabaseFigures,
    DatabaseRecords,
    Promotion,
    ScenarioDatabase,
    Writes,
    measure_database,
)
from gameday.measure.edge import (
    EdgeInterval,
    EdgeState,
    edge_intervals,
    first_marked_down_s,
)
from gameday.measure.generator import GeneratorHealth, generator_health
from gameday.measure.replication import LagSeries, ReplicationFigures
from gameday.measure.roles import NodeState, RoleChange, RoleInterval
from gameday.measure.rpo import Rpo, measure_rpo
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
from gameday.measure.slo import SloResult, evaluate_slos, slo_case_name, slo_name
from gameday.measure.split_brain import (
    RoleSample,
    SplitBrain,
    WritableWindow,
    measure_split_brain,
)
from gameday.measure.windows import (
    FaultWindow,
    Scope,
    fault_windows,
    in_scope,
    load_start_s,
    scope_span_s,
    warmup_end_s,
)
from gameday.measure.write_rto import WriteRto, measure_write_rto

__all__ = [
    "Aggregate",
    "BucketSli",
    "DatabaseFigures",
    "DatabaseRecords",
    "EdgeInterval",
    "EdgeState",
    "FaultWindow",
    "GeneratorHealth",
    "LagSeries",
    "NodeState",
    "Promotion",
    "ReplicationFigures",
    "RequestArrays",
    "RoleChange",
    "RoleInterval",
    "RoleSample",
    "Rpo",
    "Rto",
    "RunSlis",
    "ScenarioDatabase",
    "Scope",
    "SloResult",
    "SplitBrain",
    "WritableWindow",
    "WriteRto",
    "Writes",
    "aggregate",
    "aggregate_slis",
    "bucket_slis",
    "edge_intervals",
    "evaluate_slos",
    "fault_windows",
    "first_marked_down_s",
    "generator_health",
    "in_scope",
    "load_start_s",
    "measure_database",
    "measure_rpo",
    "measure_rto",
    "measure_split_brain",
    "measure_write_rto",
    "percentile",
    "scenario_rtos",
    "scope_requests",
    "scope_span_s",
    "slo_case_name",
    "slo_name",
    "warmup_end_s",
]
