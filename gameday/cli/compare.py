"""Judge a candidate run against a baseline run, metric by metric (Kayenta's judge).

Per stack: latency of ok requests, availability per 1 s bucket, and the rag stack's time to
first token, over the whole run by default (--scope all: a slower failover or a fault that
hurts more shows; outside_faults judges the steady state alone). Each metric: Mann–Whitney U
(two-sided, confidence 0.98), Hodges–Lehmann shift and interval, a tolerance relative to the
baseline median with an absolute floor; Pass / High / Low / Nodata (too few samples: never a
pass). Score = weight passing / weight with data → PASS / MARGINAL / FAIL; a failed
--critical metric fails it. METRIC is a family (latency, availability, ttft) or one metric
(latency:tabular). Exit 0 on PASS, 1 on MARGINAL, FAIL or NODATA, 2 on bad input.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import typer
from rich.markup import escape

from gameday.cli.console import out
from gameday.cli.options import scope_option, write_output
from gameday.errors import ConfigError
from gameday.measure.judge import DEFAULT_RULES, JudgeConfig, MetricRule
from reports.compare import Comparison, compare_runs, comparison_document
from reports.compare_page import render_compare_html
from reports.compare_text import comparison_table, print_table, verdict_label
from reports.run_samples import FAMILIES

NAME = "compare"


def command(
    baseline: Path = typer.Argument(..., help="the baseline run folder, e.g. runs/<id>"),
    candidate: Path = typer.Argument(..., help="the candidate run folder"),
    scope: str = typer.Option("all", "--scope",
                              help="all | outside_faults | during_faults"),
    confidence: float = typer.Option(0.98, "--confidence", help="of the test and interval"),
    min_samples: int = typer.Option(50, "--min-samples", help="fewer on a side: Nodata"),
    pass_score: float = typer.Option(95.0, "--pass-score", help="score for PASS"),
    marginal_score: float = typer.Option(75.0, "--marginal-score", help="score for MARGINAL"),
    tolerance: list[str] = typer.Option([], "--tolerance", help="METRIC=FRACTION of the "
                                        "baseline median (latency 0.25, availability 0.005, "
                                        "ttft 0.25)"),
    floor: list[str] = typer.Option([], "--tolerance-floor", help="METRIC=VALUE: the least "
                                    "tolerance, in the metric's unit (latency and ttft 0.005 "
                                    "s, availability 0)"),
    weight: list[str] = typer.Option([], "--weight", help="METRIC=WEIGHT (default 1)"),
    critical: list[str] = typer.Option([], "--critical", help="METRIC whose failure fails "
                                       "the judgement"),
    bucket_s: float = typer.Option(1.0, "--bucket-s", help="availability bucket, seconds"),
    json_file: Path | None = typer.Option(None, "--json", show_default=False,
                                          help="also write the judgement as JSON here"),
    html_file: Path | None = typer.Option(None, "--html", show_default=False,
                                          help="also write a self-contained HTML page here"),
) -> int:
    chosen = scope_option(scope)
    if not bucket_s > 0:
        raise ConfigError(f"must be > 0, got {bucket_s}", source="--bucket-s")
    config = _config(confidence, min_samples, pass_score, marginal_score,
                     _rules(tolerance, floor, weight, critical))
    comparison = compare_runs(baseline, candidate, config, scope=chosen,
                              bucket_s=bucket_s)
    print_comparison(comparison)
    if json_file is not None:
        write_output(json_file, json.dumps(comparison_document(comparison), indent=2,
                                     allow_nan=False) + "\n", "--json")
    if html_file is not None:
        write_output(html_file, render_compare_html(comparison), "--html")
    return comparison.judgement.exit_code


def _config(confidence: float, min_samples: int, pass_score: float, marginal_score: float,
            rules: dict[str, MetricRule]) -> JudgeConfig:
    try:
        return JudgeConfig(confidence=confidence, min_samples=min_samples,
                           pass_score=pass_score, marginal_score=marginal_score, rules=rules)
    except ConfigError as exc:  # name the option the field came from
        option = f"--{(exc.field or '').split('.')[0].replace('_', '-')}"
        raise ConfigError(str(exc).split(": ", 1)[-1], source=option) from None


def _rules(tolerance: list[str], floor: list[str], weight: list[str], critical: list[str]
           ) -> dict[str, MetricRule]:
    """The default rules with the options applied: a family's first, then each metric's (a
    metric's own rule starts from its family's)."""
    settings: list[tuple[str, str, float | bool]] = []
    for option, field, items in (("--tolerance", "tolerance", tolerance),
                                 ("--tolerance-floor", "floor", floor),
                                 ("--weight", "weight", weight)):
        for item in items:
            metric, _, text = item.partition("=")
            value = _number(text, option, item)
            if not (value > 0 if field == "weight" else value >= 0):
                raise ConfigError(f"{field} must be {'> 0' if field == 'weight' else '>= 0'}, "
                                  f"got {item!r}", source=option)
            settings.append((_metric(metric, option), field, value))
    settings += [(_metric(metric, "--critical"), "critical", True) for metric in critical]
    rules = dict(DEFAULT_RULES)
    for metric, field, value in sorted(settings, key=lambda s: ":" in s[0]):
        start = rules.get(metric, rules[metric.split(":", 1)[0]])
        rules[metric] = replace(start, critical=True) if field == "critical" else \
            replace(start, tolerance=float(value)) if field == "tolerance" else \
            replace(start, floor=float(value)) if field == "floor" else \
            replace(start, weight=float(value))
    return rules


def _metric(metric: str, option: str) -> str:
    family, _, stack = metric.partition(":")
    if family not in FAMILIES or (":" in metric and not stack):
        raise ConfigError(f"unknown metric {metric!r}; expected a family "
                          f"({', '.join(FAMILIES)}) or family:stack", source=option)
    return metric


def _number(text: str, option: str, item: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"expected METRIC=NUMBER, got {item!r}", source=option) from None



def print_comparison(comparison: Comparison) -> None:
    judgement = comparison.judgement
    for note in comparison.notes:
        out.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)
    print_table(out, comparison_table(judgement))
    colour = {"pass": "green", "fail": "red"}.get(judgement.verdict, "yellow")
    out.print(f"[{colour}]{verdict_label(judgement)}[/{colour}] {escape(judgement.reason)}"
              + (" (regressed)" if judgement.regressed else ""), highlight=False)
