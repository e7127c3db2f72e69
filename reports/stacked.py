"""One stacked series of a per-bucket chart: a bar per bucket while bars stay wide enough to
read, a stepped area once there are too many (thin bars alias into stripes on screen)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

__all__ = ["MAX_BARS", "add_stacked", "note_in_row"]

MAX_BARS = 300


def add_stacked(figure: go.Figure, centres: npt.NDArray[np.float64],
                values: npt.NDArray[np.float64], *, name: str, colour: str, group: str,
                bucket_s: float, row: int, hover: str, gap: bool = True) -> None:
    """``hover``: plotly hover template of one value, e.g. ``"%{y:.1f} ok/s"``. NaN is an empty
    bucket: a gap between bars, nothing in an area."""
    template = f"{hover}<extra></extra>"
    if centres.size <= MAX_BARS:
        figure.add_trace(go.Bar(x=centres, y=values, name=name, marker_color=colour,
                                marker_line_width=0, width=bucket_s * (0.9 if gap else 1.0),
                                legendgroup=group, hovertemplate=template), row=row, col=1)
        return
    figure.add_trace(go.Scatter(x=centres, y=np.nan_to_num(values), name=name, mode="lines",
                                stackgroup=f"{group}-{row}", line={"width": 0, "shape": "hvh"},
                                fillcolor=colour, marker_color=colour, legendgroup=group,
                                hovertemplate=template), row=row, col=1)


def note_in_row(figure: go.Figure, row: int, text: str, until_s: float) -> None:
    """A note in the middle of a row that has no data. Plotly draws only the subplots a trace
    refers to, so an invisible trace spanning the time axis keeps the row (and, in the last
    row, the shared time axis) on the page."""
    figure.add_trace(go.Scatter(x=[0.0, until_s], y=[0.0, 0.0], mode="lines",
                                line={"width": 0}, showlegend=False, hoverinfo="skip"),
                     row=row, col=1)
    figure.add_annotation(text=text, showarrow=False, font={"color": "#666"},
                          xref=f"x{row} domain", yref=f"y{row} domain", x=0.5, y=0.5)
