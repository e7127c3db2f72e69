"""The Triton panels of the report: server time per request split into queue and compute (with
Triton's queue p99), the batch size the dynamic batcher achieved with each server's
inferences/s and the pending requests, and GPU utilisation and memory where a GPU served.
Time is seconds since load start, as on the timeline; fault windows are shaded."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gameday.measure.triton import TritonBucket, TritonFigures
from reports.figures import COLOURS
from reports.panels import LAYOUT, shade_faults
from reports.summary import Summary

__all__ = ["batching_figure", "gpu_figure", "time_figure", "triton_panels"]

_QUEUE, _COMPUTE = "#ff7f0e", "#4c78a8"
_MEMBER_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def triton_panels(summary: Summary) -> list[tuple[str, go.Figure]]:
    """(div id, figure) of each panel; [] when the servers were not recorded. The GPU panel
    only when a server reported a GPU."""
    figures = summary.triton
    if figures is None or not figures.buckets:
        return []
    panels = [("triton-time", time_figure(summary, figures)),
              ("triton-batching", batching_figure(summary, figures))]
    if any(bucket.gpu_utilization is not None for bucket in figures.buckets):
        panels.append(("triton-gpu-panel", gpu_figure(summary, figures)))
    return panels


def _centres(figures: TritonFigures, buckets: Sequence[TritonBucket]) -> list[float]:
    return [bucket.t_s + figures.bucket_s / 2 for bucket in buckets]


def _series(buckets: Sequence[TritonBucket], name: str, scale: float = 1.0
            ) -> list[float | None]:
    values: list[float | None] = [getattr(bucket, name) for bucket in buckets]
    return [None if value is None else value * scale for value in values]


def time_figure(summary: Summary, figures: TritonFigures) -> go.Figure:
    centres, buckets = _centres(figures, figures.buckets), figures.buckets
    figure = go.Figure()
    for name, label, colour in (("queue_per_request_s", "queue / request", _QUEUE),
                                ("compute_per_request_s", "compute / request", _COMPUTE)):
        figure.add_trace(go.Bar(x=centres, y=_series(buckets, name, 1000), name=label,
                                marker_color=colour, width=figures.bucket_s * 0.9))
    figure.add_trace(go.Scatter(x=centres, y=_series(buckets, "queue_p99_s", 1000),
                                name="queue p99 (Triton's summary, worst server)",
                                mode="lines+markers", line={"color": COLOURS["error"],
                                                            "dash": "dot"},
                                marker={"size": 4}, connectgaps=False))
    shade_faults(figure, summary, _origin_s(summary))
    figure.update_yaxes(title_text="ms per request (server side)", rangemode="tozero")
    figure.update_xaxes(title_text="seconds since load start")
    figure.update_layout(title=f"Triton: queue vs compute time per request "
                               f"({figures.bucket_s:g} s buckets; a gap: no request)",
                         height=420, barmode="stack", **LAYOUT)
    return figure


def batching_figure(summary: Summary, figures: TritonFigures) -> go.Figure:
    centres = _centres(figures, figures.buckets)
    figure = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                           row_heights=[0.45, 0.3, 0.25])
    for number, (member, buckets) in enumerate(figures.member_buckets.items()):
        figure.add_trace(go.Scatter(
            x=_centres(figures, buckets), y=_series(buckets, "inferences_per_s"),
            name=f"{member} inferences/s", mode="lines+markers", marker={"size": 4},
            line={"color": _MEMBER_COLOURS[number % len(_MEMBER_COLOURS)]}), row=1, col=1)
    figure.add_trace(go.Scatter(x=centres, y=_series(figures.buckets, "inferences_per_s"),
                                name="every server inferences/s", mode="lines",
                                line={"color": "#444444", "dash": "dash"}), row=1, col=1)
    figure.add_trace(go.Scatter(x=centres, y=_series(figures.buckets, "batch_size"),
                                name="batch size (rows / execution)", mode="lines+markers",
                                line={"color": COLOURS["ok"]}, marker={"size": 5},
                                connectgaps=False), row=2, col=1)
    figure.add_trace(go.Bar(x=centres, y=_series(figures.buckets, "max_pending"),
                            name="max pending requests", marker_color="#bbbbbb",
                            width=figures.bucket_s * 0.9), row=3, col=1)
    shade_faults(figure, summary, _origin_s(summary), row="all", col=1)
    figure.update_yaxes(title_text="inferences/s", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text="batch size", rangemode="tozero", row=2, col=1)
    figure.update_yaxes(title_text="pending", rangemode="tozero", row=3, col=1)
    figure.update_xaxes(title_text="seconds since load start", row=3, col=1)
    figure.update_layout(title=f"Triton: throughput per server and the batching achieved "
                               f"({figures.bucket_s:g} s buckets)", height=560, **LAYOUT)
    return figure


def gpu_figure(summary: Summary, figures: TritonFigures) -> go.Figure:
    centres, buckets = _centres(figures, figures.buckets), figures.buckets
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Scatter(x=centres, y=_series(buckets, "gpu_utilization"),
                                name="GPU utilisation (mean)", mode="lines+markers",
                                line={"color": COLOURS["ok"]}), secondary_y=False)
    figure.add_trace(go.Scatter(x=centres, y=_series(buckets, "gpu_memory_used_bytes", 2**-30),
                                name="GPU memory used (GiB, max)", mode="lines",
                                line={"color": _COMPUTE, "dash": "dot"}), secondary_y=True)
    shade_faults(figure, summary, _origin_s(summary))
    figure.update_yaxes(title_text="utilisation", range=[-0.02, 1.02], secondary_y=False)
    figure.update_yaxes(title_text="GiB", rangemode="tozero", secondary_y=True)
    figure.update_xaxes(title_text="seconds since load start")
    figure.update_layout(title=f"Triton: GPU utilisation and memory ({figures.bucket_s:g} s "
                               "buckets)", height=380, **LAYOUT)
    return figure


def _origin_s(summary: Summary) -> float:
    return summary.load_start_s if summary.load_start_s is not None else 0.0
