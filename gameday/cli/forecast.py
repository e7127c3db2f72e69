"""Forecast a month of the tested setup from a run folder: published failure rates per class
(the shipped gameday/data/failure_rates.yaml, or --rates FILE) times what the run measured per
incident (RTO × the failed share of its window) give the expected downtime per class, the
monthly SLO attainment (expected, and p50/p10/p1 of --months seeded Monte-Carlo months), the
error-budget burn and the probability of breaching the month's objective, with every
assumption listed. Classes the run did not test, or without a rate, are left out and named.
docs/forecast.md has the formula and each rate's source. Exit 0; 2 when the input is bad.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from gameday.cli.console import out
from gameday.cli.options import write_output
from gameday.errors import ConfigError
from gameday.measure.forecast import ClassForecast, Forecast
from gameday.measure.forecast_run import RunMeasurements, forecast_of_run

NAME = "forecast"

SCHEMA = "gameday.forecast/1"


def command(
    run_dir: Path = typer.Argument(..., help="a run folder, e.g. runs/<id>"),
    rates: Path | None = typer.Option(None, "--rates", show_default=False,
                                      help="a failure-rates file (default: the shipped one)"),
    months: int = typer.Option(10_000, "--months", min=1, max=1_000_000,
                               help="Monte-Carlo months"),
    seed: int = typer.Option(0, "--seed", help="seed of the Monte-Carlo months"),
    objective: float | None = typer.Option(
        None, "--objective", show_default=False,
        help="monthly availability objective (default: the suite's availability SLO outside "
             "faults, else 0.999)"),
    untested_impact_s: float | None = typer.Option(
        None, "--untested-impact-s", min=0.0, show_default=False,
        help="cost each incident of a class the run did not test (or that never recovered) "
             "at this many seconds, instead of leaving the class out"),
    count_slow: bool = typer.Option(False, "--count-slow",
                                    help="count requests slower than the suite's latency SLO "
                                         "as unavailable too"),
    json_path: Path | None = typer.Option(None, "--json", show_default=False,
                                          help="also write the forecast to this file"),
) -> int:
    if objective is not None and not 0.0 < objective < 1.0:
        raise ConfigError(f"must be between 0 and 1 (exclusive), got {objective}",
                          source="--objective")
    measured, result = forecast_of_run(run_dir, rates_file=rates, months=months, seed=seed,
                                       objective=objective,
                                       untested_impact_s=untested_impact_s,
                                       count_slow=count_slow)
    _print(measured, result)
    if json_path is not None:
        _write(json_path, measured, result, rates)
    return 0


def _print(measured: RunMeasurements, result: Forecast) -> None:
    table = Table(title=f"{escape(str(measured.run_dir))} ({escape(measured.suite.name)}): "
                        f"a month at objective {result.objective * 100:g} %")
    table.add_column("class", no_wrap=True)
    for header in ("rate/month", "source", "impact/incident", "downtime/month", "of budget"):
        table.add_column(header, overflow="fold")  # wrapped, never cut: a scenario's name
    table.add_column("measured by", overflow="fold")
    for each in result.classes:
        impact = each.impact
        table.add_row(impact.name, _rate(each), escape(impact.source), _impact(each),
                      _downtime(each), _share(each.budget_share),
                      escape(", ".join(impact.scenarios)),
                      style="dim" if each.left_out else None)
    out.print(table)
    budget = f"{_duration(result.budget_s)} a month" if result.budget_s > 0 else "none"
    out.print(f"error budget: {budget}; expected downtime {_duration(result.expected_downtime_s)}"
              f": attainment {_attainment(result.expected_attainment)}, budget burn "
              f"{_share(result.expected_burn)}", highlight=False)
    out.print(f"{result.months:,} months (seed {result.seed}): attainment p50 "
              f"{_attainment(result.attainment_p50)}, p10 {_attainment(result.attainment_p10)}, "
              f"p1 {_attainment(result.attainment_p1)}; probability of breaching the month's "
              f"objective {result.breach_probability * 100:.2f} %", highlight=False)
    if result.expected_lost_writes is not None:
        out.print(f"expected acknowledged writes lost: {result.expected_lost_writes:.3g} a month",
                  highlight=False)
    out.print("assumptions:", highlight=False)
    for line in result.assumptions:
        out.print(f"  - {escape(line)}", highlight=False)


def _rate(each: ClassForecast) -> str:
    rate = each.impact.rate_per_month
    return "no rate" if rate is None else f"{rate:.3g}"


def _downtime(each: ClassForecast) -> str:
    if each.left_out:
        return f"left out ({each.left_out})"
    if each.impact.rate_per_month == 0 and each.impact.status != "measured":
        return "0 s (none in the setup)"
    return _duration(each.expected_downtime_s)


def _impact(each: ClassForecast) -> str:
    impact = each.impact
    if impact.status != "measured":
        assumed = f", {each.cost_s:g} s assumed" if each.assumed else ""
        return f"{impact.status}{assumed}"
    measured = f"{impact.impact_s:.3g} s"
    if impact.lost_writes:
        measured += f"; {impact.lost_writes} writes lost"
    return measured


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.3g} s"
    if seconds < 3600:
        return f"{seconds / 60:.3g} min"
    return f"{seconds / 3600:.3g} h"


def _share(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.3g} %"


def _attainment(value: float) -> str:
    return f"{value * 100:.5f} %"


def _write(path: Path, measured: RunMeasurements, result: Forecast, rates: Path | None) -> None:
    document: dict[str, Any] = {"schema": SCHEMA, "run_dir": str(measured.run_dir),
                                "suite": measured.suite.name,
                                "rates_file": None if rates is None else str(rates),
                                **asdict(result),
                                "classes": [{**asdict(each), "left_out": each.left_out}
                                            for each in result.classes]}
    write_output(path, json.dumps(document, indent=2) + "\n", "--json")
    out.print(f"forecast: {escape(str(path))}", highlight=False)
