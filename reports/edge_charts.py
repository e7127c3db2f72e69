"""The edge section's charts: the cache's hit ratio over the run with fault windows shaded, and
a health-check sweep's recovery time against the failovers it made for nothing (each point
one setting of inter/fall/rise/observe, as the bench writes ``edge-sweep.json``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gameday.measure.edge_cache import CacheFigures
from reports.panels import LAYOUT, shade_faults

if TYPE_CHECKING:
    from reports.summary import Summary

__all__ = ["SweepPoint", "cache_hit_figure", "rto_vs_flapping", "sweep_points"]

_OBSERVE_COLOURS = {"layer7": "#1f77b4", "layer4": "#ff7f0e", "none": "#2ca02c"}


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One health-check setting of a sweep: how long the outage took to recover from
    (``rto_s``, None: it never did) and how many failovers happened with no outage
    (``spurious_failovers``: flapping on slow answers)."""

    setting: str
    inter_ms: int
    fall: int
    rise: int
    observe: str
    rto_s: float | None
    spurious_failovers: int
    failed_requests: int

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> SweepPoint:
        rto = raw.get("rto_s")
        return cls(setting=str(raw["setting"]), inter_ms=int(raw["inter_ms"]),
                   fall=int(raw["fall"]), rise=int(raw["rise"]), observe=str(raw["observe"]),
                   rto_s=None if rto is None else float(rto),
                   spurious_failovers=int(raw["spurious_failovers"]),
                   failed_requests=int(raw["failed_requests"]))


def sweep_points(raw: Any) -> tuple[SweepPoint, ...]:
    """A sweep as the bench writes it (a JSON list of points); ValueError naming the point
    and what it lacks otherwise."""
    if not isinstance(raw, list):
        raise ValueError(f"expected a list of points, got {type(raw).__name__}")
    points = []
    for number, item in enumerate(raw):
        try:
            points.append(SweepPoint.of(item))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"point {number}: {type(exc).__name__}: {exc}") from None
    return tuple(points)


def rto_vs_flapping(points: Sequence[SweepPoint | Mapping[str, Any]]) -> go.Figure:
    """Scatter: x spurious failovers, y RTO, each point labelled by its setting, one colour
    per ``observe`` mode; a setting that never recovered sits on the top edge, marked x."""
    chosen = [p if isinstance(p, SweepPoint) else SweepPoint.of(p) for p in points]
    known = [p.rto_s for p in chosen if p.rto_s is not None]
    ceiling_s = (max(known) if known else 1.0) * 1.15
    figure = go.Figure()
    for observe in dict.fromkeys(p.observe for p in chosen):
        for recovered in (True, False):
            group = [p for p in chosen if p.observe == observe
                     and (p.rto_s is not None) == recovered]
            if group:
                figure.add_trace(_sweep_trace(group, observe, recovered, ceiling_s))
    # room on both sides: the labels sit right of their points, the first ones at x = 0
    widest = max((p.spurious_failovers for p in chosen), default=0)
    figure.update_xaxes(title_text="spurious failovers (no outage)",
                        range=[-0.5, widest + max(1.5, widest * 0.25)])
    figure.update_yaxes(title_text="RTO (s)", rangemode="tozero")
    figure.update_layout(title="Health-check settings: recovery time against flapping "
                               "(x on the top edge: never recovered)", height=420, **LAYOUT)
    return figure


def _sweep_trace(group: Sequence[SweepPoint], observe: str, recovered: bool,
                 ceiling_s: float) -> go.Scatter:
    hover = [f"{p.setting}: inter {p.inter_ms} ms, fall {p.fall}, rise {p.rise}, observe "
             f"{p.observe}; RTO {'none' if p.rto_s is None else f'{p.rto_s:.2f} s'}, "
             f"{p.spurious_failovers} spurious failovers, {p.failed_requests} failed "
             "requests" for p in group]
    return go.Scatter(
        x=[p.spurious_failovers for p in group],
        y=[p.rto_s if p.rto_s is not None else ceiling_s for p in group],
        mode="markers+text", text=[p.setting for p in group], textposition="middle right",
        marker={"size": 10, "symbol": "circle" if recovered else "x",
                "color": _OBSERVE_COLOURS.get(observe, "#7f7f7f")},
        name=f"observe {observe}" + ("" if recovered else " (never recovered)"),
        hovertext=hover, hoverinfo="text")


def cache_hit_figure(summary: Summary, cache: CacheFigures) -> go.Figure:
    """The hit ratio per bucket (left axis) and the answers through the cache and served by
    it per second (right axis), in seconds since load start, fault windows shaded."""
    origin_s = summary.load_start_s if summary.load_start_s is not None else 0.0
    centres = [b.start_s - origin_s + cache.bucket_s / 2 for b in cache.buckets]
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Scatter(
        x=centres, y=[None if b.hit_ratio is None else b.hit_ratio * 100 for b in cache.buckets],
        mode="lines", name="hit ratio (%)", line={"color": "#1f77b4"}, connectgaps=False),
        secondary_y=False)
    for name, values, colour in (
            ("through the cache (/s)", [b.through_cache for b in cache.buckets], "#bbbbbb"),
            ("served by the cache (/s)", [b.served for b in cache.buckets], "#2e9e44")):
        figure.add_trace(go.Scatter(
            x=centres, y=[value / cache.bucket_s for value in values], mode="lines",
            name=name, line={"color": colour, "dash": "dot"}), secondary_y=True)
    shade_faults(figure, summary, origin_s)
    figure.update_yaxes(title_text="hit ratio (%)", range=[0, 105], secondary_y=False)
    figure.update_yaxes(title_text="answers/s", rangemode="tozero", secondary_y=True)
    figure.update_xaxes(title_text="seconds since load start")
    figure.update_layout(title=f"Edge cache hit ratio ({cache.bucket_s:g} s buckets; HIT, "
                               "STALE and UPDATING over answers through the cache)",
                         height=380, **LAYOUT)
    return figure
