"""The report's timeline: throughput, latency, served share, failures by error kind and by
HTTP status per bucket, and the edge's view of each server, on one time axis (seconds since
load start), with warm-up, fault windows and RTO markers drawn across it, and a game day's
operator actions (inject, roll back, note, quit)."""

from __future__ import annotations

from html import escape

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gameday.records import CACHE_REGION
from reports.edge_chart import add_edge_view
from reports.error_charts import add_errors_by_kind, add_errors_by_status
from reports.stacked import add_stacked
from reports.summary import ScenarioOutcome, Summary

__all__ = ["COLOURS", "timeline_figure"]

FloatArray = npt.NDArray[np.float64]

COLOURS = {
    "ok": "#2e9e44",
    "error": "#d62728",
    "p50": "#1f77b4",
    "p95": "#ff7f0e",
    "p99": "#9467bd",
    "fault": "rgba(214, 39, 40, 0.10)",
    "warmup": "rgba(255, 255, 255, 0.55)",
    "detect": "#ff7f0e",
    "failover": "#1f77b4",
    "recovered": "#2e9e44",
    "unserved": "#bbbbbb",
    "operator": "#3949ab",
}
# a region keeps its colour in every report, whichever regions a run's answers name
_REGION_COLOURS = {"region-a": "#4c78a8", "region-b": "#f58518", CACHE_REGION: "#54a24b"}
_OTHER_REGION_COLOURS = ("#b279a2", "#9d755d", "#72b7b2", "#eeca3b")
_TITLES = ("Throughput (requests/s by scheduled time)",
           "Latency from the scheduled send (ms, log scale)",
           "Share of requests served, by region",
           "Failed requests by error kind (per s)",
           "Failed requests by HTTP status (per s; 0 = no HTTP answer)",
           "The edge's view: HAProxy's state of each server")
_ROW_HEIGHTS = (0.19, 0.22, 0.13, 0.14, 0.14, 0.18)
_ROWS = len(_TITLES)
_EDGE_ROW = 6
_LABEL_HEADROOM = 1.75  # the top ~43 % of the throughput plot is left to labels
_LOG_TICKS_MS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
                 20000, 50000, 100000]


def timeline_figure(summary: Summary) -> go.Figure:
    figure = make_subplots(rows=_ROWS, cols=1, shared_xaxes=True, vertical_spacing=0.035,
                           subplot_titles=_TITLES, row_heights=list(_ROW_HEIGHTS))
    origin_s = summary.load_start_s
    if origin_s is None or not summary.buckets:
        figure.add_annotation(text="no request records in this run", showarrow=False,
                              xref="paper", yref="paper", x=0.5, y=0.5)
        return _layout(figure)
    # numpy arrays: plotly writes them to the page as packed binary, not as decimal text
    centres = np.array([b.start_s - origin_s for b in summary.buckets]) \
        + summary.chart_bucket_s / 2
    _throughput(figure, summary, centres)
    _latency(figure, summary, centres)
    _served_share(figure, summary, centres)
    add_errors_by_kind(figure, summary.buckets, centres, summary.chart_bucket_s, row=4)
    add_errors_by_status(figure, summary.buckets, centres, summary.chart_bucket_s, row=5)
    axis_end_s = _axis_end_s(summary, origin_s, float(centres[-1]))
    add_edge_view(figure, summary.edge, origin_s, axis_end_s, row=_EDGE_ROW)
    _warmup(figure, summary, origin_s)
    for outcome in summary.scenarios:
        _fault(figure, summary, outcome, origin_s)
    _operator_actions(figure, summary, origin_s)
    return _layout(figure)


def _throughput(figure: go.Figure, summary: Summary, centres: FloatArray) -> None:
    bucket_s = summary.chart_bucket_s
    for name, counts, colour in (
        ("ok", np.array([b.ok for b in summary.buckets]) / bucket_s, COLOURS["ok"]),
        ("errors", np.array([b.errors for b in summary.buckets]) / bucket_s, COLOURS["error"]),
    ):
        add_stacked(figure, centres, counts.astype(np.float64), name=f"{name}/s", colour=colour,
                    group="throughput", bucket_s=bucket_s, row=1,
                    hover=f"%{{y:.1f}} {name}/s")
    figure.update_layout(barmode="stack")
    peak_per_s = max((b.requests / bucket_s for b in summary.buckets), default=0.0)
    # headroom above the bars for the fault and RTO labels
    figure.update_yaxes(title_text="req/s", range=[0, max(peak_per_s, 1.0) * _LABEL_HEADROOM],
                        row=1, col=1)


def _latency(figure: go.Figure, summary: Summary, centres: FloatArray) -> None:
    for key, label in (("p50", "p50"), ("p95", "p95"), ("p99", "p99")):
        values = _array([_ms(getattr(bucket, f"{key}_s")) for bucket in summary.buckets])
        figure.add_trace(go.Scatter(x=centres, y=values, name=label, mode="lines",
                                    line={"color": COLOURS[key], "width": 1.6},
                                    legendgroup="latency", connectgaps=False,
                                    hovertemplate=f"{label} %{{y:.1f}} ms<extra></extra>"),
                         row=2, col=1)
    # a trace, not a shape: shapes on log axes disturb plotly's autorange
    bound_ms = summary.suite.measurement.latency_slo_s * 1000
    figure.add_trace(go.Scatter(x=[0, float(centres[-1]) + summary.chart_bucket_s / 2],
                                y=[bound_ms, bound_ms], mode="lines",
                                name=f"latency bound {bound_ms:g} ms", legendgroup="latency",
                                line={"color": "#555", "dash": "dot", "width": 1},
                                hoverinfo="skip"), row=2, col=1)
    figure.update_yaxes(title_text="ms", type="log", tickvals=_LOG_TICKS_MS,
                        ticktext=[f"{tick:g}" for tick in _LOG_TICKS_MS], row=2, col=1)


def _served_share(figure: go.Figure, summary: Summary, centres: FloatArray) -> None:
    buckets = summary.buckets
    regions = sorted({region for bucket in buckets for region in bucket.served_share})
    others = iter(_OTHER_REGION_COLOURS * len(regions))
    colours = [_REGION_COLOURS.get(region) or next(others) for region in regions]
    series = [(_served_by(region), colour,
               [100 * b.served_share.get(region, 0.0) if b.requests else None for b in buckets])
              for region, colour in zip(regions, colours, strict=True)]
    series.append(("no region (failed)", COLOURS["unserved"],
                   [100 * (1 - sum(b.served_share.values())) if b.requests else None
                    for b in buckets]))
    for name, colour, share in series:
        add_stacked(figure, centres, _array(share), name=name, colour=colour, group="share",
                    bucket_s=summary.chart_bucket_s, row=3, hover=f"{name} %{{y:.0f}}%",
                    gap=False)
    figure.update_yaxes(title_text="%", range=[0, 100], row=3, col=1)


def _served_by(region: str) -> str:
    return "edge cache" if region == CACHE_REGION else region


def _warmup(figure: go.Figure, summary: Summary, origin_s: float) -> None:
    if summary.warmup_end_s is None or summary.warmup_end_s <= origin_s:
        return
    # drawn over the data: warm-up counts for nothing, so it is greyed out
    figure.add_vrect(x0=0, x1=summary.warmup_end_s - origin_s, fillcolor=COLOURS["warmup"],
                     line_width=0, layer="above", row="all", col=1)
    _label(figure, (summary.warmup_end_s - origin_s) / 2, "warm-up", "#666", 1.0)


def _axis_end_s(summary: Summary, origin_s: float, last_centre_s: float) -> float:
    """The time axis's right end (seconds since load start): the last bucket's end, or later
    where a fault's rollback outlasted the load and the edge re-admitted servers after it
    (the run's edge watch waits for that), so the edge view shows them back up."""
    ends_s = [last_centre_s + summary.chart_bucket_s / 2]
    ends_s += [outcome.window.end_s - origin_s for outcome in summary.scenarios
               if outcome.window is not None and outcome.window.end_s is not None]
    ends_s += [interval.start_s - origin_s + summary.chart_bucket_s
               for interval in summary.edge or ()]
    return max(ends_s)


def _fault(figure: go.Figure, summary: Summary, outcome: ScenarioOutcome,
           origin_s: float) -> None:
    window = outcome.window
    if window is None:
        return
    end_s = window.end_s if window.end_s is not None else summary.data_end_s or window.start_s
    x0, x1 = window.start_s - origin_s, end_s - origin_s
    figure.add_vrect(x0=x0, x1=x1, fillcolor=COLOURS["fault"], line_width=0, layer="above",
                     row="all", col=1)
    open_note = " (never rolled back)" if window.end_s is None else ""
    _label(figure, x0, f"{outcome.name}{open_note}", COLOURS["error"], 1.0, anchor="left")
    if outcome.rto is None:
        return
    markers = (("detect", outcome.rto.detect_s), ("failover", outcome.rto.failover_s),
               ("recovered", outcome.rto.rto_s))
    for height, (name, offset_s) in zip((0.89, 0.78, 0.67), markers, strict=True):
        if offset_s is None:
            continue
        x = x0 + offset_s
        figure.add_vline(x=x, row="all", col=1,
                         line={"color": COLOURS[name], "dash": "dash", "width": 1.2})
        _label(figure, x, f"{name} +{offset_s:.2f}s", COLOURS[name], height, anchor="left")


def _operator_actions(figure: go.Figure, summary: Summary, origin_s: float) -> None:
    """A dotted line at each action of the operator, labelled below the RTO markers."""
    if summary.game_day is None:
        return
    for number, entry in enumerate(summary.game_day.actions):
        x = entry.t_s - origin_s
        text = entry.what.replace("_", " ") + (f" {entry.scenario}" if entry.scenario else "")
        if entry.what == "note":  # plotly reads tags in a label: a note's are escaped
            text = f"note: {escape(entry.text[:40])}{'…' if len(entry.text) > 40 else ''}"
        figure.add_vline(x=x, row="all", col=1,
                         line={"color": COLOURS["operator"], "dash": "dot", "width": 1})
        _label(figure, x, text, COLOURS["operator"], (0.56, 0.47)[number % 2], anchor="left")


def _label(figure: go.Figure, x: float, text: str, colour: str, height: float,
           anchor: str = "center") -> None:
    """A label at the top of the first plot, where it covers the least data."""
    figure.add_annotation(x=x, y=height, xref="x", yref="y domain", text=text, showarrow=False,
                          xanchor=anchor, yanchor="top", font={"size": 11, "color": colour},
                          bgcolor="rgba(255,255,255,0.75)")


def _layout(figure: go.Figure) -> go.Figure:
    figure.update_layout(height=1500, margin={"l": 60, "r": 20, "t": 50, "b": 50},
                         hovermode="x unified", template="plotly_white",
                         legend={"orientation": "h", "y": -0.04, "x": 0},
                         font={"family": "system-ui, -apple-system, Segoe UI, sans-serif"})
    figure.update_xaxes(title_text="seconds since load start", row=_ROWS, col=1)
    return figure


def _ms(value_s: float | None) -> float | None:
    return None if value_s is None else value_s * 1000


def _array(values: list[float | None]) -> FloatArray:
    """None (an empty bucket) becomes NaN, which plotly draws as a gap."""
    return np.array([np.nan if value is None else value for value in values], dtype=np.float64)
