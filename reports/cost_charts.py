"""The resources-and-cost panels of the report: what each stack cost per region over time, and
the replicas of each autoscaled component against the load, with the autoscaler's decisions
as markers and the load's steps as vertical lines. Time is seconds since load start, as on
the timeline; fault windows are shaded."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gameday.measure.autoscaling import AutoscalingFigures
from gameday.measure.cost import CostFigures
from reports.panels import LAYOUT, shade_faults
from reports.summary import Summary

__all__ = ["cost_figure", "cost_panels", "replicas_figure"]

_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#17becf")
_DASH = {"region-a": "solid", "region-b": "dot"}


def cost_panels(summary: Summary) -> list[tuple[str, go.Figure]]:
    """(div id, figure) of each panel there is data for: none when the series are missing."""
    panels = []
    if summary.cost is not None and summary.cost.series:
        panels.append(("cost-over-time", cost_figure(summary, summary.cost)))
    scaling = summary.autoscaling
    if scaling is not None and (scaling.replicas or scaling.rates):
        panels.append(("replicas-vs-load", replicas_figure(summary, scaling)))
    return panels


def _origin_s(summary: Summary) -> float:
    return summary.load_start_s if summary.load_start_s is not None else 0.0


def cost_figure(summary: Summary, cost: CostFigures) -> go.Figure:
    origin_s = _origin_s(summary)
    figure = go.Figure()
    stacks = list(dict.fromkeys(series.stack for series in cost.series))
    for series in cost.series:
        colour = _COLOURS[stacks.index(series.stack) % len(_COLOURS)]
        figure.add_trace(go.Scatter(
            x=[t - origin_s + cost.bucket_s / 2 for t in series.t_s],
            y=[value / cost.bucket_s * 3600 for value in series.cost],
            name=f"{series.stack} {series.region}", mode="lines",
            line={"color": colour, "dash": _DASH.get(series.region, "dash")}))
    shade_faults(figure, summary, origin_s)
    figure.update_yaxes(title_text=f"{cost.currency} per hour", rangemode="tozero")
    figure.update_xaxes(title_text="seconds since load start")
    figure.update_layout(title=f"Cost per stack and region ({cost.currency} per hour, "
                               f"{cost.bucket_s:g} s buckets; standby regions included)",
                         height=380, **LAYOUT)
    return figure


def replicas_figure(summary: Summary, scaling: AutoscalingFigures) -> go.Figure:
    origin_s = _origin_s(summary)
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    for number, series in enumerate(scaling.replicas):
        figure.add_trace(go.Scatter(
            x=[t - origin_s for t in series.t_s], y=list(series.replicas), mode="lines",
            line={"shape": "hv", "color": _COLOURS[number % len(_COLOURS)],
                  "dash": _DASH.get(series.region, "dash")},
            name=f"{series.stack}.{series.component} {series.region} replicas"),
            secondary_y=False)
    _decisions(figure, scaling, origin_s)
    _load(figure, scaling, origin_s, summary.data_end_s)
    for step in scaling.load_steps:
        figure.add_vline(x=step.at_s - origin_s, line_width=1, line_dash="dash",
                         line_color="#555555")
    shade_faults(figure, summary, origin_s)
    figure.update_yaxes(title_text="replicas up", rangemode="tozero", secondary_y=False)
    figure.update_yaxes(title_text="requests/s", rangemode="tozero", secondary_y=True)
    figure.update_xaxes(title_text="seconds since load start")
    figure.update_layout(title="Replicas against load (markers: the autoscaler's decisions; "
                               "dashed lines: load steps)", height=440, **LAYOUT)
    return figure


def _decisions(figure: go.Figure, scaling: AutoscalingFigures, origin_s: float) -> None:
    for direction, symbol in (("up", "triangle-up"), ("down", "triangle-down")):
        chosen = [d for d in scaling.decisions if (d.desired > d.current) == (direction == "up")]
        if not chosen:
            continue
        figure.add_trace(go.Scatter(
            x=[d.t_s - origin_s for d in chosen], y=[d.desired for d in chosen],
            mode="markers", marker={"symbol": symbol, "size": 9, "color": "#444444"},
            name=f"scale {direction} decided",
            text=[f"{d.stack}.{d.component} {d.region}: {d.current} → {d.desired} "
                  f"({d.reason or 'no reason given'})" for d in chosen],
            hoverinfo="text+x"), secondary_y=False)


def _load(figure: go.Figure, scaling: AutoscalingFigures, origin_s: float,
          end_s: float | None) -> None:
    for rates in scaling.rates:
        if rates.offered_t_s:
            last_s = end_s if end_s is not None else rates.offered_t_s[-1]
            figure.add_trace(go.Scatter(
                x=[t - origin_s for t in (*rates.offered_t_s, last_s)],
                y=[*rates.offered_per_s, rates.offered_per_s[-1]], mode="lines",
                line={"shape": "hv", "color": "#999999", "width": 3},
                name=f"{rates.stack} offered load"), secondary_y=True)
        figure.add_trace(go.Scatter(
            x=[t - origin_s + rates.bucket_s / 2 for t in rates.sent_t_s],
            y=list(rates.sent_per_s), mode="lines", line={"color": "#bbbbbb", "dash": "dot"},
            name=f"{rates.stack} sent ({rates.bucket_s:g} s buckets)"), secondary_y=True)
