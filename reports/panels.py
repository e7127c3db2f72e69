"""What the report's panels below the timeline share: their layout and the shaded fault
windows (time in seconds since load start, as on the timeline)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

from gameday.measure import FaultWindow
from reports.figures import COLOURS

if TYPE_CHECKING:
    from reports.summary import Summary

__all__ = ["LAYOUT", "figure_div", "shade_faults"]

LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
          "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif"},
          "legend": {"orientation": "h", "y": -0.2, "x": 0}}


def _windows(summary: Summary) -> list[FaultWindow]:
    return [o.window for o in summary.scenarios if o.window is not None]


def shade_faults(figure: go.Figure, summary: Summary, origin_s: float, **where: object) -> None:
    for window in _windows(summary):
        end_s = window.end_s if window.end_s is not None else summary.data_end_s
        figure.add_vrect(x0=window.start_s - origin_s,
                         x1=(end_s if end_s is not None else window.start_s) - origin_s,
                         fillcolor=COLOURS["fault"], line_width=0, layer="below", **where)


def figure_div(figure: go.Figure, div_id: str) -> str:
    """A chart as a ``<div>`` of a page that inlines plotly.js once, in its head."""
    html: str = figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                               config={"displaylogo": False, "responsive": True})
    return html
