"""One stacked series of a per-bucket chart: a bar per bucket while bars stay wide enough to
read, a stepped area once there are too many (thin bars alias into stripes on screen)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

__all__ = ["MAX_BARS", "add_stacked"]

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
