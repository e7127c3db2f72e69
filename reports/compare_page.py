"""``gameday compare --html``: one self-contained page (plotly.js inlined) with the verdict, the
statistics of every metric and, per metric, a box plot and the ECDF of both runs. The plots are
drawn from quartiles and quantiles, not from the samples, so a page over millions of requests
stays small."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from gameday.measure.arrays import FloatArray
from gameday.measure.judge import MetricJudgement
from reports.baseline import BASELINE_FILE, COMPARE_PAGE
from reports.build import write_atomically
from reports.compare import Comparison, comparison_document
from reports.compare_text import CLASS_LABELS, HEADERS, metric_cells, verdict_label
from reports.html_table import table
from reports.panels import figure_div

__all__ = ["render_compare_html", "write_judgement"]

_COLOURS = {"baseline": "#1f77b4", "candidate": "#ff7f0e"}
_ECDF_POINTS = 201
_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:1340px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;
border-bottom:1px solid #ddd;padding-bottom:4px} .meta{color:#666;font-size:13px;margin:2px 0}
header{display:flex;gap:18px;align-items:center}
.badge{font-weight:700;font-size:20px;padding:10px 18px;border-radius:8px;color:#fff}
.v-pass{background:#2e9e44}.v-fail{background:#d62728}.v-marginal{background:#c77c02}
.v-nodata{background:#777}
.note{background:#fff4d6;border:1px solid #e0a800;border-radius:6px;padding:8px 12px;
margin:12px 0;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}
th,td{border:1px solid #ddd;padding:5px 9px;text-align:left;vertical-align:top}
th{background:#f5f5f5}
tr.pass td.status{background:#dff3e3;color:#1b6b2c;font-weight:600}
tr.fail td.status{background:#fbe0e0;color:#a31515;font-weight:600}
tr.moved td.status{background:#fff4d6;color:#8a5a00;font-weight:600}
tr.nodata td.status{background:#eee;color:#555;font-weight:600}
footer{color:#777;font-size:12px;margin-top:30px}
"""
_DEFINITIONS = (
    "Samples: per stack, the latency of each ok request from its scheduled send, the "
    "availability of each bucket (1 − failed / requests), the rag stack's time to first token; "
    "warm-up and labelled requests left out. Mann–Whitney U counts the pairs in which the "
    "candidate's sample is the larger (ties one half). The Hodges–Lehmann shift is the median "
    "of every candidate − baseline difference, its interval the distribution-free one of the "
    "same confidence. High / Low: significant and the whole interval beyond the tolerance; a "
    "metric fails when that is its bad direction. Score = 100 × weight passing / weight with "
    "data; Nodata (too few samples) is never a pass and is left out of the score."
)


def render_compare_html(comparison: Comparison) -> str:
    judgement = comparison.judgement
    title = f"gameday compare {judgement.candidate} against {judgement.baseline}: " \
        f"{verdict_label(judgement)}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>',
        _header(comparison),
        *(f'<div class="note">{escape(note)}</div>' for note in comparison.notes),
        "<h2>Metrics</h2>",
        table(HEADERS, [(_row_class(m), metric_cells(m)) for m in judgement.metrics],
              status_column=len(HEADERS) - 1, ids={len(HEADERS) - 1: "class-{}"},
              row_keys=[m.name for m in judgement.metrics]),
    ]
    for metric in judgement.metrics:
        parts += [f"<h2>{escape(metric.name)}: {CLASS_LABELS[metric.classification]}</h2>",
                  f'<p class="meta">{escape(metric.reason)}</p>',
                  figure_div(_figure(comparison, metric), f"chart-{metric.name.replace(':', '-')}")]
    parts += [f"<footer>{escape(_DEFINITIONS)}</footer>", "</body></html>"]
    return "\n".join(parts)


def _header(comparison: Comparison) -> str:
    judgement = comparison.judgement
    score = "—" if judgement.score is None else f"{judgement.score:.1f}"
    config = judgement.config
    return (f'<header><div class="badge v-{judgement.verdict}" id="verdict">'
            f"{verdict_label(judgement)}</div><div>"
            f"<h1>{escape(judgement.candidate)} against {escape(judgement.baseline)}</h1>"
            f'<p class="meta">score <span id="score">{score}</span> (pass ≥ '
            f"{config.pass_score:g}, marginal ≥ {config.marginal_score:g}); "
            f"{escape(judgement.reason)}</p>"
            f'<p class="meta">scope {escape(comparison.baseline.scope)}; confidence '
            f"{config.confidence:g}; at least {config.min_samples} samples a side; baseline "
            f"{escape(str(comparison.baseline.path))}, candidate "
            f"{escape(str(comparison.candidate.path))}</p></div></header>")


def _row_class(metric: MetricJudgement) -> str:
    if metric.classification == "nodata":
        return "nodata"
    if metric.failed:
        return "fail"
    return "pass" if metric.classification == "pass" else "moved"


def _figure(comparison: Comparison, metric: MetricJudgement) -> go.Figure:
    scale, axis = (1000.0, "ms") if metric.unit == "s" else (1.0, metric.family)
    figure = make_subplots(rows=1, cols=2, subplot_titles=("distribution", "ECDF"),
                           column_widths=[0.4, 0.6])
    for side, sample in zip(("baseline", "candidate"), comparison.samples(metric.name),
                            strict=True):
        if sample is None or sample.values.size == 0:
            continue
        values = np.sort(sample.values) * scale
        figure.add_trace(_box(values, side), row=1, col=1)
        probabilities = np.linspace(0, 1, _ECDF_POINTS)
        figure.add_trace(go.Scatter(
            x=np.quantile(values, probabilities, method="inverted_cdf"), y=probabilities,
            mode="lines", line={"shape": "hv", "color": _COLOURS[side]},
            name=f"{side} (n {values.size:,})", legendgroup=side, showlegend=False),
            row=1, col=2)
    figure.update_yaxes(title_text=axis, row=1, col=1)
    figure.update_xaxes(title_text=axis, row=1, col=2)
    figure.update_yaxes(title_text="share of samples ≤ x", range=[0, 1], row=1, col=2)
    figure.update_layout(height=360, margin={"l": 60, "r": 20, "t": 40, "b": 50},
                         legend={"orientation": "h", "y": -0.2})
    return figure


def _box(values: FloatArray, side: str) -> go.Box:
    """A box from the quartiles (whiskers to the furthest samples within 1.5 IQR)."""
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75], method="inverted_cdf")
    reach = 1.5 * (q3 - q1)
    lower = values[np.searchsorted(values, q1 - reach, side="left")]
    upper = values[np.searchsorted(values, q3 + reach, side="right") - 1]
    return go.Box(name=f"{side} (n {values.size:,})", x=[side], q1=[q1], median=[median],
                  q3=[q3], lowerfence=[lower], upperfence=[upper], mean=[float(values.mean())],
                  marker={"color": _COLOURS[side]}, legendgroup=side)


def write_judgement(run_dir: Path, comparison: Comparison) -> None:
    """A run's judgement against its baseline, kept in its folder for its reports
    (``reports.baseline`` reads it back) and as a page of its own."""
    write_atomically(run_dir / BASELINE_FILE, json.dumps(comparison_document(comparison),
                                                         indent=2, allow_nan=False) + "\n")
    write_atomically(run_dir / COMPARE_PAGE, render_compare_html(comparison))
