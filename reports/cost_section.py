"""The "resources and cost" section of ``report.html``: cost per 1,000 successful requests by
stack, region and phase (``gameday.measure.cost``), standby and platform overhead apart, the
price table, how the autoscaler answered each load step (``gameday.measure.autoscaling``) and
the panels of ``reports.cost_charts``. Missing Prometheus series are named instead of charts."""

from __future__ import annotations

import math
from html import escape

from gameday.measure.autoscaling import AutoscalingFigures, StepFigures
from gameday.measure.cost import CostFigures, RegionCost, StackCost
from reports.cost_charts import cost_panels
from reports.html_table import table
from reports.numbers import ms, pct, seconds
from reports.panels import figure_div
from reports.summary import Summary

__all__ = ["cost_section"]

_DEFINITIONS = (
    "From the run's Prometheus snapshots (metrics/ in the run folder), warm-up out, up to the "
    "last scheduled send. Each member's CPU seconds (user + system, its children included; a "
    "counter drop is a restart, counted from zero), resident memory in GiB-seconds (GiB = 2^30 "
    "bytes, trapezoid rule between samples) and GPU-seconds, priced by its region's prices: "
    "cost = CPU s × vCPU-hour / 3600 + GiB·s × GiB-hour / 3600 + GPU s × GPU-hour / 3600. "
    "Successful requests: ok answers the region gave for the stack (failed requests are never "
    "counted). Per 1,000 = cost / successful requests × 1000. A region that served none in a "
    "phase is standby: its cost is shown apart, with no cost per request; the stack's per 1,000 "
    "with standby adds it. Steady state: outside every fault window; a fault phase: its "
    "scenario's windows. The harness's own processes (edge, fault proxy, metrics) are platform "
    "overhead, charged to no stack; the edge is priced as region-a.")
_AUTOSCALING = (
    "Per upward load step: reaction = first scale-up decision for the stack after the step "
    "(before its next step); time to ready = from that decision until the new members were "
    "healthy and serving at the edge; SLO held = availability and latency of the stack's "
    "requests scheduled from the step until ready, against the suite's objectives; "
    "over-provisioning = from the next downward step to the end of the run, replica-seconds "
    "above the count just before the surge, and the time until the count was back to it.")
_COST_HEADERS = ["stack", "phase", "region", "CPU", "memory", "GPU", "cost",
                 "successful requests", "per 1,000", "standby cost", "per 1,000 with standby"]
_COST_IDS = {6: "cost-{}", 7: "cost-served-{}", 8: "cost-per-1k-{}", 9: "cost-standby-{}",
             10: "cost-per-1k-standby-{}"}
_STEP_HEADERS = ["stack", "load step", "reaction", "scaled", "time to ready", "requests",
                 "availability", "latency", "SLO held", "load down at", "pre-surge replicas",
                 "over-provisioned", "back to pre-surge after"]
_STEP_IDS = {2: "scale-reaction-{}", 4: "scale-ready-{}", 8: "scale-held-{}",
             11: "scale-over-{}", 12: "scale-back-{}"}


def cost_section(summary: Summary) -> list[str]:
    cost = summary.cost
    if cost is None:
        return []
    parts = ['<h2 id="cost">Resources and cost</h2>',
             f'<div class="note" id="cost-definitions">{escape(_DEFINITIONS)}</div>',
             _prices(cost)]
    if cost.measurement_error:
        parts.append(_missing("cost-missing", cost.missing, cost.measurement_error))
    else:
        parts += ["<h3>Cost per 1,000 successful requests</h3>", _cost_table(cost),
                  "<h3>Platform overhead (charged to no stack)</h3>", _platform_table(cost)]
    parts += _autoscaling(summary.autoscaling, summary.load_start_s or 0.0)
    parts += [figure_div(figure, div_id)
              for div_id, figure in cost_panels(summary)]
    return parts


def _missing(element_id: str, names: tuple[str, ...], why: str) -> str:
    return (f'<div class="banner" id="{element_id}"><b>Not measured.</b> Missing series: '
            f"{escape(', '.join(names))}. {escape(why)}.</div>")


def _prices(cost: CostFigures) -> str:
    rows = [("", [region, _money(p["vcpu_hour"]), _money(p["gb_hour"]), _money(p["gpu_hour"])])
            for region, p in sorted(cost.prices.items())]
    caption = f'<p class="meta" id="cost-source">Prices in {escape(cost.currency)}: ' \
              f"{escape(cost.source)}.</p>"
    return caption + table(["region", "vCPU-hour", "GiB-hour (memory)", "GPU-hour"], rows)


def _cost_table(cost: CostFigures) -> str:
    rows: list[tuple[str, list[str]]] = []
    keys: list[str] = []
    labels = {phase.key: phase.label for phase in cost.phases}
    shown = [p.key for p in cost.phases if p.key == "outside_faults" or p.key.startswith("fault:")]
    for stack in dict.fromkeys(c.stack for c in cost.stacks):
        for phase in shown:
            for cell in (c for c in cost.regions if (c.stack, c.phase) == (stack, phase)):
                rows.append(("", _region_row(cell, labels[phase])))
                keys.append(_key(stack, phase, cell.region))
            total = cost.stack_cost(stack, phase)
            if total is not None:
                rows.append(("", _stack_row(total, labels[phase])))
                keys.append(_key(stack, phase, "all"))
    return table(_COST_HEADERS, rows, empty="the suite has no stack", ids=_COST_IDS,
                 row_keys=keys)


def _key(stack: str, phase: str, region: str) -> str:
    return f"{stack}-{phase.replace(':', '-')}-{region}"


def _region_row(cell: RegionCost, phase: str) -> list[str]:
    head = [cell.stack, phase, cell.region]
    if cell.measurement_error:
        return [*head, "—", "—", "—", f"not measured: {cell.measurement_error}",
                str(cell.served), "—", "—", "—"]
    return [*head, _cpu(cell.cpu_s), _gib(cell.gib_s), _gpu(cell.gpu_s),
            "—" if cell.standby else _money(cell.cost), str(cell.served),
            "— (standby)" if cell.standby else _money(cell.per_1k),
            _money(cell.cost) if cell.standby else "—", "—"]


def _stack_row(total: StackCost, phase: str) -> list[str]:
    head = [total.stack, phase, "all regions"]
    if total.measurement_error:
        return [*head, "", "", "", "not measured", str(total.served), "—", "—", "—"]
    return [*head, "", "", "", _money(total.cost), str(total.served), _money(total.per_1k),
            _money(total.standby_cost), _money(total.per_1k_with_standby)]


def _platform_table(cost: CostFigures) -> str:
    rows = [("", [part.part, part.region, _cpu(part.cpu_s), _gib(part.gib_s), _gpu(part.gpu_s),
                  _money(part.cost) if not part.measurement_error
                  else f"not measured: {part.measurement_error}"])
            for part in cost.platform]
    return table(["part", "region", "CPU", "memory", "GPU", "cost"], rows,
                 empty="no platform part in the snapshots")


def _autoscaling(scaling: AutoscalingFigures | None, origin_s: float) -> list[str]:
    if scaling is None:
        return []
    parts = ['<h3 id="autoscaling">Autoscaling: each load step</h3>',
             f'<div class="note">{escape(_AUTOSCALING)}</div>']
    if scaling.measurement_error:
        parts.append(_missing("autoscaling-missing", scaling.missing,
                              scaling.measurement_error))
    if scaling.problems:
        parts.append('<div class="note" id="autoscaling-problems">The autoscaler reported: '
                     f"{escape('; '.join(scaling.problems))}</div>")
    rows = [("pass" if step.slo_held else "fail" if step.slo_held is False else "",
             _step_row(step, origin_s)) for step in scaling.steps]
    parts.append(table(_STEP_HEADERS, rows, empty="the load had no upward step",
                       ids=_STEP_IDS, row_keys=[f"{s.stack}-{n}" for n, s
                                                in enumerate(scaling.steps)]))
    return parts


def _step_row(step: StepFigures, origin_s: float) -> list[str]:
    scaled = "never" if step.decision_s is None else (
        f"{step.component} {step.region}: {step.scaled_from} → {step.scaled_to}"
        if step.scaled_to is not None else f"{step.component} {step.region}: never ready")
    held = {None: "—", True: "held", False: "MISSED"}[step.slo_held]
    latency = f"p{step.latency_percentile:g} {ms(step.latency_s)}"
    down = "—" if step.down_at_s is None else f"+{step.down_at_s - origin_s:.2f} s"
    over = "—" if step.over_provisioned_replica_s is None \
        else f"{step.over_provisioned_replica_s:.1f} replica·s"
    back = "—" if step.down_at_s is None or step.pre_surge_replicas is None else (
        "never" if step.back_to_pre_surge_s is None else seconds(step.back_to_pre_surge_s))
    return [step.stack, f"+{step.at_s - origin_s:.2f} s: {step.from_rate_per_s:g} → "
                        f"{step.to_rate_per_s:g} /s", seconds(step.reaction_s), scaled,
            seconds(step.time_to_ready_s), f"{step.requests} ({step.failed} failed)",
            pct(step.availability), latency, held, down,
            "—" if step.pre_surge_replicas is None else str(step.pre_surge_replicas), over,
            back]


def _money(value: float | None) -> str:
    """Four significant digits, never in exponent form (a short run costs fractions of a
    cent)."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    decimals = max(2, 3 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"


def _cpu(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} CPU·s"


def _gib(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} GiB·s"


def _gpu(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} GPU·s"
