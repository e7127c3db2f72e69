"""Everything a suite names, checked before anything starts: stacks, the load's endpoint,
every scenario's experiment parsed and validated (a broken experiment must not be found a
minute into a run, after stand-up and warm-up), and every address the run would touch
(``gameday.blast_radius``: loopback only, kube contexts allow-listed)."""

from __future__ import annotations

from dataclasses import dataclass

from chaoslib.types import Experiment

from gameday.autoscale.options import AutoscalingOptions
from gameday.blast_radius import check_blast_radius, plan_run
from gameday.config import LoadProfile, Suite, resolve_experiment
from gameday.dbrecords import WRITE_ENDPOINT
from gameday.errors import ConfigError, LoadError
from gameday.experiment import load_experiment
from gameday.load.payloads import ENDPOINTS, endpoint_for
from gameday.slos import CostSlo
from gameday.stacks import StackDef, load_stack

__all__ = ["Checked", "check_suite"]


@dataclass(frozen=True)
class Checked:
    """A suite whose every reference resolved: its stacks and each scenario's experiment."""

    suite: Suite
    stacks: dict[str, StackDef]
    experiments: dict[str, Experiment]  # scenario name → parsed experiment


def check_suite(suite: Suite) -> Checked:
    """ConfigError naming the file and field of the first reference that does not resolve."""
    source = str(suite.source) if suite.source else None
    stacks: dict[str, StackDef] = {name: load_stack(name) for name in suite.stacks}
    for index, load in enumerate(suite.load):
        where = f"load.{index}" if len(suite.load) > 1 else "load"
        if load.stack not in stacks:
            raise ConfigError(f"{load.stack!r} is not one of the suite's stacks "
                              f"({', '.join(stacks)})", source=source, field=f"{where}.stack")
        if load.target == "database":
            _check_database_load(load, stacks[load.stack], source, where)
        else:
            _check_edge_load(load, stacks[load.stack], source, where)
    for index, entry in enumerate(suite.autoscaling):
        _check_autoscaling(entry, stacks, source, f"autoscaling.{index}")
        if suite.platform == "kind":  # the real HPA takes the entry (gameday.hpawatch)
            for field, why in entry.kubernetes_problems():
                raise ConfigError(f"on the kind platform {why}", source=source,
                                  field=f"autoscaling.{index}.{field}")
    for index, slo in enumerate(suite.slos):
        if isinstance(slo, CostSlo) and slo.stack not in stacks:
            raise ConfigError(f"a cost SLO prices one of the suite's stacks: expected one of "
                              f"{', '.join(stacks)}, got {slo.stack!r}", source=source,
                              field=f"slos.{index}.stack")
    experiments = {scenario.name: load_experiment(resolve_experiment(suite, scenario))
                   for scenario in suite.scenarios}
    check_blast_radius(plan_run(suite, experiments))
    return Checked(suite=suite, stacks=stacks, experiments=experiments)


def _check_autoscaling(entry: AutoscalingOptions, stacks: dict[str, StackDef],
                       source: str | None, where: str) -> None:
    if entry.stack not in stacks:
        raise ConfigError(f"{entry.stack!r} is not one of the suite's stacks "
                          f"({', '.join(stacks)})", source=source, field=f"{where}.stack")
    component = stacks[entry.stack].components.get(entry.component)
    if component is None:
        raise ConfigError(f"stack {entry.stack!r} has no component {entry.component!r}; "
                          f"expected one of {', '.join(stacks[entry.stack].components)}",
                          source=source, field=f"{where}.component")
    if component.members != "replicas":
        raise ConfigError(f"{entry.stack}.{entry.component} has a fixed member count; only "
                          "a component of `replicas` members scales", source=source,
                          field=f"{where}.component")


def _check_database_load(load: LoadProfile, stack: StackDef, source: str | None,
                         where: str) -> None:
    if stack.database is None:
        raise ConfigError(f"stack {stack.name!r} has no database to write to",
                          source=source, field=f"{where}.target")
    if load.endpoint != WRITE_ENDPOINT:
        raise ConfigError(f"a database load sends numbered writes: endpoint must be "
                          f"{WRITE_ENDPOINT!r}, got {load.endpoint!r}",
                          source=source, field=f"{where}.endpoint")


def _check_edge_load(load: LoadProfile, stack: StackDef, source: str | None,
                     where: str) -> None:
    endpoints = stack.endpoints
    # the labelled set (endpoint `attack`) has a path per request, none in the stack's table
    labelled = (load.stack, load.endpoint) in ENDPOINTS \
        and ENDPOINTS[(load.stack, load.endpoint)].labelled
    if load.endpoint not in endpoints and not labelled:
        raise ConfigError(f"unknown endpoint {load.endpoint!r} of stack "
                          f"{load.stack!r}; expected one of {', '.join(sorted(endpoints))}",
                          source=source, field=f"{where}.endpoint")
    try:
        endpoint_for(load.stack, load.endpoint)
    except LoadError as exc:
        raise ConfigError(str(exc), source=source, field=f"{where}.endpoint") from None
