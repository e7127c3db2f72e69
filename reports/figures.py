"""The report's timeline: throughput, latency and served share per bucket on one time axis
(seconds since load start), with warm-up, fault windows and RTO markers drawn across it."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gameday.measure import BucketSli
from reports.summary import ScenarioOutcome, Summary

__all__ = ["COLOURS", "timeline_figure"]

COLOURS = {
    "ok": "#2e9e44",
    "error": "#d62728",
    "p50": "#1f77b4",
    "p95": "#ff7f0e",
    "p99": "#9467bd",
    "fault": "rgba(214, 39, 40, 0.13)",
    "warmup": "rgba(120, 120, 120, 0.18)",
    "detect": "#ff7f0e",
    "failover": "#1f77b4",
    "recovered": "#2e9e44",
    "unserved": "#bbbbbb",
}
_REGION_COLOURS = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#9d755d")
_ROWS = 3


def timeline_figure(summary: Summary) -> go.Figure:
    figure = make_subplots(rows=_ROWS, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                           subplot_titles=("Throughput (requests/s by scheduled time)",
                                           "Latency from the scheduled send (ms, log scale)",
                                           "Share of requests served, by region"))
    origin_s = summary.load_start_s
    if origin_s is None or not summary.buckets:
        figure.add_annotation(text="no request records in this run", showarrow=False,
                              xref="paper", yref="paper", x=0.5, y=0.5)
        return _layout(figure)
    centres = [b.start_s - origin_s + summary.suite.measurement.bucket_s / 2
               for b in summary.buckets]
    _throughput(figure, summary, centres)
    _latency(figure, summary, centres)
    _served_share(figure, summary.buckets, centres)
    _warmup(figure, summary, origin_s)
    for outcome in summary.scenarios:
        _fault(figure, summary, outcome, origin_s)
    return _layout(figure)


def _throughput(figure: go.Figure, summary: Summary, centres: list[float]) -> None:
    bucket_s = summary.suite.measurement.bucket_s
    width = bucket_s * 0.9
    for name, counts, colour in (
        ("ok", [b.ok / bucket_s for b in summary.buckets], COLOURS["ok"]),
        ("errors", [b.errors / bucket_s for b in summary.buckets], COLOURS["error"]),
    ):
        figure.add_trace(go.Bar(x=centres, y=counts, name=f"{name}/s", marker_color=colour,
                                width=width, legendgroup="throughput",
                                hovertemplate=f"%{{y:.1f}} {name}/s<extra></extra>"), row=1, col=1)
    figure.update_layout(barmode="stack")
    figure.update_yaxes(title_text="req/s", rangemode="tozero", row=1, col=1)


def _latency(figure: go.Figure, summary: Summary, centres: list[float]) -> None:
    for key, label in (("p50", "p50"), ("p95", "p95"), ("p99", "p99")):
        values = [_ms(getattr(bucket, f"{key}_s")) for bucket in summary.buckets]
        figure.add_trace(go.Scatter(x=centres, y=values, name=label, mode="lines",
                                    line={"color": COLOURS[key], "width": 1.6},
                                    legendgroup="latency", connectgaps=False,
                                    hovertemplate=f"{label} %{{y:.1f}} ms<extra></extra>"),
                         row=2, col=1)
    bound_ms = summary.suite.measurement.latency_slo_s * 1000
    figure.add_hline(y=bound_ms, row=2, col=1, line={"color": "#555", "dash": "dot", "width": 1},
                     annotation_text=f"latency bound {bound_ms:g} ms",
                     annotation_position="top right", annotation_font_size=10)
    figure.update_yaxes(title_text="ms", type="log", row=2, col=1)


def _served_share(figure: go.Figure, buckets: tuple[BucketSli, ...],
                  centres: list[float]) -> None:
    regions = sorted({region for bucket in buckets for region in bucket.served_share})
    for index, region in enumerate(regions):
        share = [100 * b.served_share.get(region, 0.0) if b.requests else None for b in buckets]
        figure.add_trace(go.Scatter(x=centres, y=share, name=region, mode="lines",
                                    stackgroup="share", legendgroup="share",
                                    line={"width": 0.5,
                                          "color": _REGION_COLOURS[index % len(_REGION_COLOURS)]},
                                    hovertemplate=f"{region} %{{y:.0f}}%<extra></extra>"),
                         row=3, col=1)
    unserved = [100 * (1 - sum(b.served_share.values())) if b.requests else None for b in buckets]
    figure.add_trace(go.Scatter(x=centres, y=unserved, name="no region (failed)", mode="lines",
                                stackgroup="share", legendgroup="share",
                                line={"width": 0.5, "color": COLOURS["unserved"]},
                                hovertemplate="unserved %{y:.0f}%<extra></extra>"), row=3, col=1)
    figure.update_yaxes(title_text="%", range=[0, 100], row=3, col=1)


def _warmup(figure: go.Figure, summary: Summary, origin_s: float) -> None:
    if summary.warmup_end_s is None or summary.warmup_end_s <= origin_s:
        return
    figure.add_vrect(x0=0, x1=summary.warmup_end_s - origin_s, fillcolor=COLOURS["warmup"],
                     line_width=0, layer="below", row="all", col=1)
    _label(figure, (summary.warmup_end_s - origin_s) / 2, "warm-up", "#666", 1.0)


def _fault(figure: go.Figure, summary: Summary, outcome: ScenarioOutcome,
           origin_s: float) -> None:
    window = outcome.window
    if window is None:
        return
    end_s = window.end_s if window.end_s is not None else summary.data_end_s or window.start_s
    x0, x1 = window.start_s - origin_s, end_s - origin_s
    figure.add_vrect(x0=x0, x1=x1, fillcolor=COLOURS["fault"], line_width=0, layer="below",
                     row="all", col=1)
    open_note = " (never rolled back)" if window.end_s is None else ""
    _label(figure, x0, f"{outcome.name}{open_note}", COLOURS["error"], 1.0, anchor="left")
    if outcome.rto is None:
        return
    markers = (("detect", outcome.rto.detect_s), ("failover", outcome.rto.failover_s),
               ("recovered", outcome.rto.rto_s))
    for height, (name, offset_s) in zip((0.86, 0.72, 0.58), markers, strict=True):
        if offset_s is None:
            continue
        x = x0 + offset_s
        figure.add_vline(x=x, row="all", col=1,
                         line={"color": COLOURS[name], "dash": "dash", "width": 1.2})
        _label(figure, x, f"{name} +{offset_s:.2f}s", COLOURS[name], height, anchor="left")


def _label(figure: go.Figure, x: float, text: str, colour: str, height: float,
           anchor: str = "center") -> None:
    """A label at the top of the first plot, where it covers the least data."""
    figure.add_annotation(x=x, y=height, xref="x", yref="y domain", text=text, showarrow=False,
                          xanchor=anchor, yanchor="top", font={"size": 11, "color": colour},
                          bgcolor="rgba(255,255,255,0.75)")


def _layout(figure: go.Figure) -> go.Figure:
    figure.update_layout(height=900, margin={"l": 60, "r": 20, "t": 50, "b": 50},
                         hovermode="x unified", template="plotly_white",
                         legend={"orientation": "h", "y": -0.06, "x": 0},
                         font={"family": "system-ui, -apple-system, Segoe UI, sans-serif"})
    figure.update_xaxes(title_text="seconds since load start", row=_ROWS, col=1)
    return figure


def _ms(value_s: float | None) -> float | None:
    return None if value_s is None else value_s * 1000
