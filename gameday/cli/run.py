"""Run a suite: stand up, load, inject each scenario's fault, measure, report, verdict.

``--baseline DIR`` judges the run against an earlier run folder when it ends (``gameday
compare DIR <this run>`` with its defaults: the whole run, confidence 0.98): the judgement is
kept in the run folder (baseline.json, compare.html), and a significant regression fails the
run as an SLO breach does (exit 1). The baseline folder is checked before anything starts.

``--dry-run`` stops after the checks: it prints what the run would start and inject where
(``--json FILE`` also writes it as JSON) and exits 0, with no run folder and no platform.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from gameday.blast_radius import KIND_CONTEXTS, Activity, RunPlan, ScenarioPlan, plan_run
from gameday.cli.compare import print_comparison
from gameday.cli.console import err, out, print_summary, progress
from gameday.cli.options import (
    HomeOption,
    PlatformOption,
    PlatformTarget,
    load_suite_with_overrides,
    resolve_platform,
)
from gameday.config import LoadProfile
from gameday.errors import ConfigError, GamedayError, MeasurementError
from gameday.load.plan import join_url
from gameday.preflight import Checked, check_suite
from gameday.run import HarnessCrash, RunInterrupted, new_run_dir, run_suite
from gameday.slos import OpenSlo
from gameday.stacks import StackDef
from reports import build_reports
from reports.compare import compare_runs
from reports.compare_page import write_judgement
from reports.run_samples import check_run_folder

NAME = "run"


def command(
    suite: Path = typer.Argument(..., help="suite file, e.g. suites/smoke.yaml"),
    runs_dir: Path = typer.Option(Path("runs"), help="where run folders are written"),
    set_: list[str] = typer.Option([], "--set", help="override a suite value: key.path=value"),
    platform: PlatformOption = None,
    home: HomeOption = None,
    dry_run: bool = typer.Option(False, "--dry-run", help="print what would be started and "
                                 "injected where, then exit: nothing starts, no run folder"),
    json_file: Path | None = typer.Option(None, "--json", help="with --dry-run: also write "
                                          "the plan as JSON to this file"),
    baseline: Path | None = typer.Option(None, "--baseline", show_default=False,
                                         help="an earlier run folder: a significant "
                                              "regression against it fails the run too"),
) -> int:
    if json_file is not None and not dry_run:
        raise ConfigError("--json writes the dry run's plan: it needs --dry-run")
    if baseline is not None:
        check_run_folder(baseline)
    loaded = load_suite_with_overrides(suite, set_)
    target = resolve_platform(platform, home, loaded)
    # Everything the suite names resolves before anything starts: no run folder, no platform.
    checked = check_suite(loaded.model_copy(update={"platform": target.name}))
    if dry_run:
        return _dry_run(checked, target, suite, json_file)
    # what the host lacks (kind, docker, haproxy) is said before a run folder is made
    target.open().check_prerequisites()
    run_dir = new_run_dir(runs_dir, checked.suite.name)
    progress(f"run folder {run_dir}")
    failure: GamedayError | None = None
    try:
        run_suite(checked.suite, run_dir, progress=progress, home=target.home)
    except RunInterrupted as exc:
        failure = exc
        err.print("[red]interrupted[/red]: every fault rolled back; writing a partial report")
    except GamedayError as exc:
        failure = exc
        err.print(f"[red]harness error:[/red] {escape(str(exc))}", highlight=False)
        if isinstance(exc, HarnessCrash):
            err.print_exception()  # a bug in gameday: the trace is what a report needs
    if baseline is not None:
        _judge_against(baseline, run_dir)
    summary = build_reports(run_dir)
    print_summary(summary, run_dir)
    return 2 if failure is not None and summary.exit_code == 0 else summary.exit_code


def _judge_against(baseline: Path, run_dir: Path) -> None:
    """The run judged against ``baseline``, kept in the run folder for its reports; a run
    that cannot be judged (no request records) says why and is judged by its own verdict."""
    progress(f"judging against the baseline {baseline}")
    try:
        comparison = compare_runs(baseline, run_dir)
    except (ConfigError, MeasurementError) as exc:
        err.print(f"[yellow]not judged against the baseline:[/yellow] {escape(str(exc))}",
                  highlight=False)
        return
    print_comparison(comparison)
    write_judgement(run_dir, comparison)


def _dry_run(checked: Checked, target: PlatformTarget, suite: Path, json_file: Path | None) -> int:
    plan = plan_run(checked.suite, checked.experiments, home=target.home)
    urls = {load.generator: _load_url(plan, checked.stacks, load) for load in plan.suite.load}
    _print_plan(plan, urls, suite)
    if json_file is not None:
        json_file.write_text(json.dumps(_plan_document(plan, urls, suite), indent=2,
                                        default=str) + "\n")
        out.print(f"plan written to {escape(str(json_file))}", highlight=False)
    return 0


def _line(text: str) -> None:
    out.print(escape(text), highlight=False)


def _load_url(plan: RunPlan, stacks: dict[str, StackDef], load: LoadProfile) -> str | None:
    """The URL a load's requests go to: the edge entry and the endpoint's path (the labelled
    attack set has a path per request: the entry alone)."""
    base = plan.load_url(load)
    path = stacks[load.stack].endpoints.get(load.endpoint)
    return join_url(base, path) if base is not None and path is not None else base


def _print_plan(plan: RunPlan, urls: dict[str, str | None], suite: Path) -> None:
    loaded = plan.suite
    _line(f"dry run of {suite}: nothing is started, no run folder is written")
    _line(f"platform {loaded.platform}, home {plan.home}")
    _line(f"stacks: {', '.join(loaded.stacks)}; {loaded.replicas} replicas per region")
    _print_layout(plan)
    for load in loaded.load:
        where = urls[load.generator] or ("the stack's database primary (its DSN from the "
                                        "platform once up)" if load.target == "database"
                                        else "the edge (its URL from the platform once up)")
        steps = f", {len(load.steps)} rate steps" if load.steps else ""
        _line(f"load {load.generator}: {load.stack} {load.endpoint} -> {where}; {load.arrival} "
              f"{load.rate_per_s:g} req/s for {load.duration_s:g} s after a {load.warmup_s:g} s "
              f"warm-up{steps}")
    _line("scenarios, in the order they run (each at warm-up end + offset, or when the one "
          "before ends):" if plan.scenarios else "scenarios: none")
    for scenario in plan.scenarios:
        _print_scenario(scenario)
    for slo in loaded.slos:
        _line(f"slo {_describe_slo(slo)}")


def _print_layout(plan: RunPlan) -> None:
    """The members and their addresses, the edge's entries and options, the fault proxy's
    links (the kind platform's are known once its clusters exist: its contexts instead)."""
    loaded, topology, edge = plan.suite, plan.topology, plan.suite.edge
    options = (f"health_check {edge.health_check}, failover {edge.failover.policy}, rate limit "
               f"{edge.rate_limit_per_s_per_client}/s per client, body <= "
               f"{edge.max_body_bytes} bytes")
    if topology is None:
        contexts = ", ".join((*KIND_CONTEXTS, *loaded.blast_radius.kube_contexts))
        _line(f"  kube contexts: {contexts}; member addresses are known once the platform is up")
        _line(f"edge: {options}")
        return
    # the stacks' members first, then the platform's own parts (edge, fault proxy, metrics)
    for spec in sorted(topology.processes, key=lambda s: s.stack not in loaded.stacks):
        ports = ", ".join(f"{name} {port}" for name, port in spec.ports.items())
        _line(f"  {spec.stack}.{spec.component} {spec.region}: {spec.name} {spec.address} "
              f"({ports})")
    entry = topology.ports
    _line(f"edge: http://127.0.0.1:{entry.edge} (nginx: WAF {edge.waf.mode}, cache "
          f"{'on' if edge.cache.enabled else 'off'}), without WAF http://127.0.0.1:"
          f"{entry.edge_no_waf}, HAProxy http://127.0.0.1:{entry.edge_haproxy}; fault proxy "
          f"API {topology.proxy_api_url}")
    _line(f"  {options}")
    for link in topology.links:
        _line(f"  link {link.proxy} ({link.name} into {link.region}): {link.listen} -> "
              f"{link.upstream}")


def _print_scenario(plan: ScenarioPlan) -> None:
    scenario = plan.scenario
    fault = plan.configuration.get("fault_duration_s")
    _line(f"  {scenario.name} at +{scenario.offset_s:g} s: {plan.path} ({plan.title!r}) on "
          f"{scenario.target_region}"
          + (f", fault {fault} s" if fault is not None else ""))
    for phase, activities in (("hypothesis", plan.hypothesis), ("method", plan.method),
                              ("rollback", plan.rollbacks)):
        for activity in activities:
            _line(f"    {phase} {activity.type} {activity.name}: {_describe(activity)}")


def _describe(activity: Activity) -> str:
    provider = activity.provider
    if activity.type == "ref":
        return "the activity of that name, as above"
    kind = provider.get("type", "?")
    arguments = provider.get("arguments")
    if kind == "python":
        args = ", ".join(f"{key}={value!r}" for key, value in (arguments or {}).items())
        text = f"python {provider.get('module')}.{provider.get('func')}({args})"
    elif kind == "http":
        text = f"http {provider.get('method', 'GET')} {provider.get('url')}" + \
            (f" {json.dumps(arguments, default=str)}" if arguments else "")
    else:
        text = f"{kind} {provider.get('path')} {json.dumps(arguments, default=str)}"
    pauses = ", ".join(f"pause {when} {seconds} s" for when, seconds in activity.pauses.items())
    return f"{text}; {pauses}" if pauses else text


def _describe_slo(slo: Any) -> str:
    if isinstance(slo, OpenSlo):
        return f"OpenSLO {slo.metadata.name}"
    fields = slo.model_dump(mode="json", exclude={"kind"})
    return f"{slo.kind} " + ", ".join(f"{key} {value}" for key, value in fields.items()
                                      if value not in ("", None))


def _plan_document(plan: RunPlan, urls: dict[str, str | None],
                   suite: Path) -> dict[str, Any]:
    """The plan as JSON: what ``_print_plan`` prints, every field in full."""
    loaded, topology = plan.suite, plan.topology
    members = None if topology is None else [
        {"name": s.name, "stack": s.stack, "component": s.component, "region": s.region,
         "address": s.address, "ports": s.ports} for s in topology.processes]
    return {
        "suite": loaded.name, "file": str(suite), "platform": loaded.platform,
        "home": str(plan.home), "stacks": list(loaded.stacks), "replicas": loaded.replicas,
        "members": members,
        "kube_contexts": [*KIND_CONTEXTS, *loaded.blast_radius.kube_contexts]
        if loaded.platform == "kind" else [],
        "edge": {"options": loaded.edge.model_dump(mode="json"),
                 "ports": topology.ports.model_dump() if topology else None,
                 "urls": topology.edge_urls if topology else None,
                 "links": [link.model_dump() for link in topology.links] if topology else None},
        "loads": [{"generator": load.generator, "target_url": urls[load.generator],
                   **load.model_dump(mode="json")} for load in loaded.load],
        "scenarios": [_scenario_document(scenario) for scenario in plan.scenarios],
        "slos": [slo.model_dump(mode="json") for slo in loaded.slos],
    }


def _scenario_document(plan: ScenarioPlan) -> dict[str, Any]:
    def activities(items: tuple[Activity, ...]) -> list[dict[str, Any]]:
        return [{"type": a.type, "name": a.name, "provider": a.provider, "pauses": a.pauses}
                for a in items]

    scenario = plan.scenario
    return {"name": scenario.name, "offset_s": scenario.offset_s, "experiment": str(plan.path),
            "title": plan.title, "target_region": scenario.target_region,
            "fault_duration_s": plan.configuration.get("fault_duration_s"),
            "configuration": plan.configuration, "hypothesis": activities(plan.hypothesis),
            "method": activities(plan.method), "rollbacks": activities(plan.rollbacks)}
