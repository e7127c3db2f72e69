"""The edge's view on the report's time axis: one row per server, a bar for each interval
HAProxy held it up, down, draining or in maintenance (from ``edge.jsonl``)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from gameday.measure import EdgeInterval, EdgeState
from reports.stacked import note_in_row

__all__ = ["EDGE_COLOURS", "NOT_RECORDED", "add_edge_view"]

EDGE_COLOURS: dict[EdgeState, str] = {"up": "#2e9e44", "down": "#d62728", "drain": "#ff7f0e",
                                      "maint": "#7f7f7f"}
NOT_RECORDED = "the edge's view was not recorded (no edge.jsonl in the run folder)"
_LINE_WIDTH_PX = 12


def add_edge_view(figure: go.Figure, intervals: Sequence[EdgeInterval] | None,
                  origin_s: float, until_s: float, row: int) -> None:
    """``until_s``: the right end of the time axis (seconds since load start)."""
    if not intervals:
        note_in_row(figure, row, NOT_RECORDED if intervals is None
                    else "edge.jsonl holds no samples", until_s)
        figure.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, row=row,
                            col=1)
        return
    servers = list(dict.fromkeys(_server_label(i) for i in intervals))
    for state, colour in EDGE_COLOURS.items():
        xs: list[float | None] = []
        ys: list[str | None] = []
        hover: list[str | None] = []
        for interval in intervals:
            if interval.state != state:
                continue
            x0 = max(interval.start_s - origin_s, 0.0)
            x1 = min(interval.end_s - origin_s, until_s)
            if x1 < x0:
                continue  # wholly before the load started, or after the axis ends
            text = (f"{interval.server} ({interval.region}) {state} "
                    f"+{interval.start_s - origin_s:.2f} s to +{interval.end_s - origin_s:.2f} s"
                    f"{f', check {interval.check}' if interval.check else ''}")
            xs += [x0, x1, None]
            ys += [_server_label(interval)] * 2 + [None]
            hover += [text, text, None]
        if xs:
            figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=f"edge: {state}",
                                        line={"color": colour, "width": _LINE_WIDTH_PX},
                                        legendgroup="edge", hovertext=hover, hoverinfo="text",
                                        connectgaps=False), row=row, col=1)
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=servers[::-1],
                        range=[-0.6, len(servers) - 0.4], automargin=True, row=row, col=1)


def _server_label(interval: EdgeInterval) -> str:
    return f"{interval.server} ({interval.region})"
