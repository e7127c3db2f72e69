"""How a run-to-run judgement reads in the terminal (a rich table) and in its page's cells:
seconds shown in ms, availability as a ratio, shifts signed."""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from gameday.measure.judge import Judgement, MetricJudgement

__all__ = ["CLASS_LABELS", "HEADERS", "comparison_table", "metric_cells", "p_value_text",
           "print_table", "quantity", "verdict_label"]

CLASS_LABELS = {"pass": "Pass", "high": "High", "low": "Low", "nodata": "Nodata"}
HEADERS = ("metric", "bad if", "n base / cand", "median base", "median cand", "U", "p",
           "HL shift", "CI", "tolerance (of median)", "class")


def quantity(value: float | None, unit: str, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    sign = "+" if signed else ""
    if unit == "s":
        return f"{value * 1000:{sign}.3f} ms"
    return f"{value:{sign}.4f}"


def verdict_label(judgement: Judgement) -> str:
    return {"pass": "PASS", "marginal": "MARGINAL", "fail": "FAIL",
            "nodata": "NODATA"}[judgement.verdict]


def metric_cells(metric: MetricJudgement) -> list[str]:
    """One row of the statistics table, as text."""
    unit = metric.unit
    interval = "—" if metric.ci_low is None else \
        f"[{quantity(metric.ci_low, unit, signed=True)}, " \
        f"{quantity(metric.ci_high, unit, signed=True)}]"
    bad = {"high": "High", "low": "Low", "either": "High or Low"}[metric.rule.bad_direction]
    return [
        metric.name + (" (critical)" if metric.rule.critical else ""),
        bad,
        f"{metric.n_baseline:,} / {metric.n_candidate:,}",
        quantity(metric.median_baseline, unit),
        quantity(metric.median_candidate, unit),
        "—" if metric.u is None else f"{metric.u:.4g}",
        p_value_text(metric.p_value),
        quantity(metric.estimate, unit, signed=True),
        interval,
        "—" if metric.tolerance is None else
        f"±{quantity(metric.tolerance, unit)} ({_tolerance_rule(metric)})",
        CLASS_LABELS[metric.classification],
    ]


def _tolerance_rule(metric: MetricJudgement) -> str:
    """How the tolerance was set: the relative part, and the floor when it has one."""
    relative = f"{metric.rule.tolerance:g}"
    if not metric.rule.floor:
        return relative
    return f"{relative}, >= {quantity(metric.rule.floor, metric.unit)}"


def p_value_text(p_value: float | None) -> str:
    if p_value is None:
        return "—"
    return "< 1e-300" if p_value == 0 else f"{p_value:.3g}"  # 0: below what float64 holds


def comparison_table(judgement: Judgement) -> Table:
    confidence = f"{judgement.config.confidence:g}"
    table = Table(title=f"{judgement.candidate} against {judgement.baseline}",
                  caption=f"Mann–Whitney U (two-sided, α = {1 - judgement.config.confidence:g}),"
                  f" Hodges–Lehmann shift candidate − baseline with its {confidence} interval",
                  show_lines=False)
    for header in HEADERS:
        table.add_column(header, justify="left" if header in ("metric", "bad if", "class")
                         else "right", overflow="fold")
    for metric in judgement.metrics:
        cells = metric_cells(metric)
        style = "dim" if metric.classification == "nodata" else \
            "red" if metric.failed else "yellow" if metric.classification != "pass" else "green"
        table.add_row(*cells[:-1], Text(cells[-1], style=f"bold {style}"))
    return table


def print_table(console: Console, table: Table) -> None:
    """A terminal fits the table to its width; a log or a pipe gets it whole, one line a row,
    so that grep and CI logs read it."""
    if console.is_terminal:
        console.print(table)
        return
    natural = Measurement.get(console, console.options.update(max_width=10_000), table).maximum
    Console(file=console.file, width=max(natural, console.width), soft_wrap=True,
            no_color=console.no_color, force_terminal=False).print(table)
