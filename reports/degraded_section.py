"""The "degraded answers" section of ``report.html`` and its lines in ``summary.md``: per
stack (rag apart, whose own section counts its fallbacks), the good answers a service scored
from a fallback and marked, by reason, inside and outside the fault windows and per scenario
(``gameday.measure.degraded``)."""

from __future__ import annotations

from html import escape

import plotly.graph_objects as go

from gameday.measure.degraded import DegradedFigures
from reports.html_table import table
from reports.numbers import pct, seconds
from reports.panels import LAYOUT, figure_div, shade_faults
from reports.summary import Summary

__all__ = ["degraded_markdown", "degraded_section"]

_DEFINITIONS = (
    "A degraded answer is a good answer (HTTP 200, valid) the service scored from a fallback "
    "and said so in its X-Degraded header: the tabular service's default features (the training "
    "medians) when its feature store was down (features-down), its row older than the feature "
    "view's ttl (features-stale) or the card absent (features-missing). Counted among the good "
    "answers for availability, and apart here; inside a fault: scheduled in its window, "
    "requests in flight when it began included.")
_HEADERS = ["stack", "good answers", "degraded", "by reason", "inside faults",
            "outside faults", "per scenario"]
_IDS = {2: "degraded-count-{}", 4: "degraded-inside-{}", 5: "degraded-outside-{}"}


def _reasons(figures: DegradedFigures) -> str:
    return ", ".join(f"{reason} {count:,}" for reason, count in figures.by_reason.items()) \
        or "—"


def _scenarios(figures: DegradedFigures) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in figures.by_scenario.items()) or "—"


def _count(figures: DegradedFigures) -> str:
    share = "" if figures.share is None else f" ({pct(figures.share)})"
    return f"{figures.degraded:,}{share}"


_LAG_NOTE = (
    "How far behind each region's online store was: at each Prometheus sample (1 s), its time "
    "minus the newest event time the region's materializer had written. A lookup can get no "
    "fresher a row; past the feature view's ttl the service calls the row stale.")
_REGION_COLOURS = {"region-a": "#1f77b4", "region-b": "#ff7f0e"}


def degraded_section(summary: Summary) -> list[str]:
    if not summary.degraded and not summary.store_lags:
        return []
    parts = ['<h2 id="degraded">Degraded answers</h2>',
             f'<div class="note">{escape(_DEFINITIONS)}</div>']
    if summary.degraded:
        rows = [("ok" if f.degraded == 0 else "breach",
                 [f.stack, f"{f.good:,}", _count(f), _reasons(f), f"{f.during_faults:,}",
                  f"{f.outside_faults:,}", _scenarios(f)]) for f in summary.degraded]
        parts.append(table(_HEADERS, rows, ids=_IDS,
                           row_keys=[f.stack for f in summary.degraded]))
    if summary.store_lags:
        scenarios = list(summary.store_lags[0].max_by_scenario)
        rows = [("ok", [lag.region, seconds(max(lag.lag_s, default=None)),
                        *(seconds(lag.max_by_scenario.get(name)) for name in scenarios)])
                for lag in summary.store_lags]
        parts += ["<h3>Feature store lag per region</h3>",
                  f'<div class="note">{escape(_LAG_NOTE)}</div>',
                  table(["region", "largest lag", *(f"largest in {n}" for n in scenarios)],
                        rows, ids={1: "store-lag-max-{}"},
                        row_keys=[lag.region for lag in summary.store_lags]),
                  figure_div(_lag_figure(summary), "store-lag-chart")]
    return parts


def _lag_figure(summary: Summary) -> go.Figure:
    origin_s = summary.load_start_s or 0.0
    figure = go.Figure()
    for lag in summary.store_lags:
        figure.add_trace(go.Scatter(x=[t - origin_s for t in lag.t_s], y=list(lag.lag_s),
                                    mode="lines", name=lag.region,
                                    line={"color": _REGION_COLOURS.get(lag.region, "#555")}))
    shade_faults(figure, summary, origin_s)
    figure.update_layout(**LAYOUT, height=320, title="Online store lag (s)",
                         xaxis_title="seconds since load start", yaxis_title="s")
    return figure


def degraded_markdown(summary: Summary) -> list[str]:
    if not summary.degraded and not summary.store_lags:
        return []
    lines = ["", "### Degraded answers", ""]
    lines += [f"- **{f.stack}**: {_count(f)} of {f.good:,} good answers degraded "
              f"({_reasons(f)}); {f.during_faults:,} inside faults, {f.outside_faults:,} "
              f"outside; per scenario: {_scenarios(f)}" for f in summary.degraded]
    lines += [f"- feature store lag, {lag.region}: largest {seconds(max(lag.lag_s, default=None))}"
              + "".join(f"; in {name} {seconds(value)}"
                        for name, value in lag.max_by_scenario.items())
              for lag in summary.store_lags]
    return lines
