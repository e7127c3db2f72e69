"""The RAG panels of the report: time to first token and inter-token latency over time, and
answer quality over time (recall@k of every labelled question and of the questions about
documents ingested during the run, exact match) with the degraded and cache-hit shares. Time is
seconds since load start, as on the timeline; fault windows are shaded."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gameday.measure.rag import RagBucket, RagFigures
from reports.figures import COLOURS
from reports.panels import LAYOUT, shade_faults
from reports.summary import Summary

__all__ = ["latency_figure", "quality_figure", "rag_figures"]


def rag_figures(summary: Summary) -> list[tuple[str, go.Figure]]:
    """(div id, figure) of each panel; [] when the suite has no rag stack."""
    if summary.rag is None or not summary.rag.buckets:
        return []
    return [("rag-latency", latency_figure(summary, summary.rag)),
            ("rag-quality", quality_figure(summary, summary.rag))]


def _centres(figures: RagFigures) -> list[float]:
    return [bucket.t_s + figures.bucket_s / 2 for bucket in figures.buckets]


def _ms(values: list[float | None]) -> list[float | None]:
    return [None if value is None else value * 1000 for value in values]


def _series(figures: RagFigures, name: str) -> list[float | None]:
    return [getattr(bucket, name) for bucket in figures.buckets]


def latency_figure(summary: Summary, figures: RagFigures) -> go.Figure:
    centres = _centres(figures)
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                           row_heights=[0.7, 0.3])
    for name, label, colour, dash in (("ttft_p50_s", "TTFT p50", COLOURS["ok"], "solid"),
                                      ("ttft_p99_s", "TTFT p99", COLOURS["error"], "solid"),
                                      ("itl_p99_s", "inter-token p99", "#4c78a8", "dot")):
        figure.add_trace(go.Scatter(x=centres, y=_ms(_series(figures, name)), name=label,
                                    mode="lines+markers", line={"color": colour, "dash": dash},
                                    marker={"size": 4}, connectgaps=False), row=1, col=1)
    figure.add_trace(go.Bar(x=centres, y=_series(figures, "answers"), name="answers",
                            marker_color="#bbbbbb", width=figures.bucket_s * 0.9), row=2, col=1)
    figure.add_trace(go.Bar(x=centres, y=_series(figures, "ok"), name="answered ok",
                            marker_color=COLOURS["ok"], width=figures.bucket_s * 0.9),
                     row=2, col=1)
    shade_faults(figure, summary, _origin_s(summary), row="all", col=1)
    figure.update_yaxes(title_text="ms (from scheduled send)", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text=f"per {figures.bucket_s:g} s", row=2, col=1)
    figure.update_xaxes(title_text="seconds since load start", row=2, col=1)
    figure.update_layout(title=f"RAG streaming: time to first token and inter-token latency "
                               f"({figures.bucket_s:g} s buckets)", height=480,
                         barmode="overlay", **LAYOUT)
    return figure


def quality_figure(summary: Summary, figures: RagFigures) -> go.Figure:
    centres = _centres(figures)
    figure = go.Figure()
    for name, label, colour, dash in (
            ("recall", "recall@k (all labelled)", COLOURS["ok"], "solid"),
            ("fresh_recall", "recall@k, documents ingested this run", "#9467bd", "solid"),
            ("exact_match", "exact match", "#4c78a8", "dot"),
            ("degraded_share", "degraded share of good answers", "#ff7f0e", "dash"),
            ("cache_hit_share", "cache hit share", "#888888", "dashdot")):
        figure.add_trace(go.Scatter(x=centres, y=_series(figures, name), name=label,
                                    mode="lines+markers", line={"color": colour, "dash": dash},
                                    marker={"size": 5}, customdata=_labelled(figures.buckets),
                                    hovertemplate="%{y:.2f} (%{customdata} labelled)"))
    shade_faults(figure, summary, _origin_s(summary))
    figure.update_yaxes(title_text="share", range=[-0.02, 1.02])
    figure.update_xaxes(title_text="seconds since load start")
    figure.update_layout(title=f"RAG answer quality over time ({figures.bucket_s:g} s buckets; "
                               "a gap: no labelled answer in it)", height=420, **LAYOUT)
    return figure


def _labelled(buckets: tuple[RagBucket, ...]) -> list[int]:
    return [bucket.labelled for bucket in buckets]


def _origin_s(summary: Summary) -> float:
    return summary.load_start_s if summary.load_start_s is not None else 0.0
