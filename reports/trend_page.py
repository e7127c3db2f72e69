"""``gameday trend`` shown: a rich table (per SLI: runs, latest, range, change points) and a
self-contained HTML page with one Plotly chart per SLI, value per run in run start order and
each change point marked where its new segment begins."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from rich.table import Table

from reports.compare_text import quantity
from reports.panels import figure_div
from reports.trend import Trend, TrendSeries

__all__ = ["render_trend_html", "trend_table"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:1340px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;
border-bottom:1px solid #ddd;padding-bottom:4px} .meta{color:#666;font-size:13px;margin:2px 0}
footer{color:#777;font-size:12px;margin-top:30px}
"""
_DEFINITIONS = (
    "Per run, over its requests in the scope named above (warm-up "
    "and labelled requests left out): p50 and p99 latency of ok requests from their scheduled "
    "send (nearest rank), availability = ok / requests, the rag stack's p99 time to first "
    "token. Change points: E-divisive with means (Matteson & James 2014), each split kept when "
    "a permutation test (seeded) finds it significant; the dashed line marks the first run of "
    "the new segment, labelled with the segment means either side."
)


def _changes_text(trend: Trend, series: TrendSeries) -> str:
    return "; ".join(f"{trend.runs[p.index].run_id}: {quantity(p.mean_before, series.unit)} → "
                     f"{quantity(p.mean_after, series.unit)}" for p in series.change_points) \
        or "none"


def trend_table(trend: Trend) -> Table:
    title = f"{len(trend.runs)} runs of {trend.suite or 'every suite'} ({trend.scope})"
    table = Table(title=title, caption="change points: E-divisive means, first run of the new "
                  "segment: mean before → after")
    for header in ("SLI", "runs", "first", "latest", "min", "max", "change points"):
        table.add_column(header, justify="left" if header in ("SLI", "change points")
                         else "right", overflow="fold")
    for series in trend.series:
        present = [value for value in series.values if value is not None]
        table.add_row(series.name, str(len(present)), quantity(present[0], series.unit),
                      quantity(present[-1], series.unit), quantity(min(present), series.unit),
                      quantity(max(present), series.unit), _changes_text(trend, series),
                      style="bold" if series.change_points else None)
    return table


def render_trend_html(trend: Trend) -> str:
    title = f"gameday trend: {trend.suite or 'every suite'}, {len(trend.runs)} runs"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>',
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">scope {escape(trend.scope)}; runs from '
        f"{escape(trend.runs[0].run_id)} to {escape(trend.runs[-1].run_id)}</p>",
    ]
    if trend.skipped:
        items = "".join(f"<li>{escape(path)}: {escape(why)}</li>" for path, why in trend.skipped)
        parts.append(f'<p class="meta">skipped:</p><ul class="meta" id="skipped">{items}</ul>')
    for series in trend.series:
        parts += [f"<h2>{escape(series.name)}</h2>",
                  f'<p class="meta">change points: {escape(_changes_text(trend, series))}</p>',
                  figure_div(_figure(trend, series),
                             f"trend-{series.name.replace(':', '-').replace(' ', '-')}")]
    parts += [f"<footer>{escape(_DEFINITIONS)}</footer>", "</body></html>"]
    return "\n".join(parts)


def _when(trend: Trend, index: int) -> str:
    """A run's place on the x axis: its start (UTC), else its order."""
    started = trend.runs[index].started_at_s
    return str(index) if started is None else \
        datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _figure(trend: Trend, series: TrendSeries) -> go.Figure:
    scale, axis = (1000.0, f"{series.name.split(':')[0]} (ms)") if series.unit == "s" \
        else (1.0, series.name.split(":")[0])
    shown = [i for i, value in enumerate(series.values) if value is not None]
    figure = go.Figure(go.Scatter(
        x=[_when(trend, i) for i in shown],
        y=[(series.values[i] or 0.0) * scale for i in shown], mode="lines+markers",
        text=[trend.runs[i].run_id for i in shown], name=series.name,
        hovertemplate="%{text}<br>%{y}<extra></extra>"))
    for point in series.change_points:
        at = _when(trend, point.index)
        figure.add_shape(type="line", x0=at, x1=at, yref="paper", y0=0, y1=1,
                         line={"color": "#d62728", "dash": "dash"})
        figure.add_annotation(x=at, yref="paper", y=1.0, yanchor="bottom", showarrow=False,
                              font={"color": "#d62728", "size": 11},
                              text=f"{quantity(point.mean_before, series.unit)} → "
                                   f"{quantity(point.mean_after, series.unit)}")
    figure.update_layout(height=320, margin={"l": 60, "r": 20, "t": 40, "b": 50},
                         yaxis_title=axis, xaxis_title="run start (UTC)", showlegend=False)
    return figure
