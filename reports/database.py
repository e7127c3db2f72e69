"""The database panels of the report: every numbered write by outcome (the RPO), the write RTO
and its parts, replication lag, and each node's role over time with split brain in red. Time
is seconds since load start, as on the timeline; fault windows are shaded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gameday.measure import DatabaseFigures, WriteRto
from reports.figures import COLOURS
from reports.panels import LAYOUT, shade_faults
from reports.summary import Summary

__all__ = [
    "MAX_WRITE_POINTS",
    "database_figures",
    "replication_figure",
    "roles_figure",
    "rpo_figure",
    "write_rto_figure",
]

MAX_WRITE_POINTS = 20_000  # acknowledged-and-kept writes drawn beyond this are thinned
_STATE_COLOURS = {"writable": "#2e9e44", "standby": "#4c78a8", "read-only": "#c77c02",
                  "down": "#bbbbbb"}
_OUTCOMES = (  # (name, colour, marker symbol, size)
    ("acknowledged, kept", COLOURS["ok"], "circle", 4),
    ("acknowledged (no audit: not known whether kept)", "#4c78a8", "circle", 4),
    ("failed, absent (not a loss)", "#bbbbbb", "circle", 4),
    ("unknown: present, never acknowledged", "#ff7f0e", "diamond", 8),
    ("LOST: acknowledged, absent", COLOURS["error"], "x", 10),
)
_PARTS = (("detect_s", "detect (first failed write)", COLOURS["detect"]),
          ("promote_s", "promote (new primary takes writes)", COLOURS["failover"]),
          ("write_rto_s", "first write acknowledged", COLOURS["recovered"]))

FloatArray = npt.NDArray[np.float64]


def database_figures(summary: Summary) -> list[tuple[str, go.Figure]]:
    """(div id, figure) of each panel; [] when the run has no database data."""
    if summary.database is None:
        return []
    return [("database-rpo", rpo_figure(summary)),
            ("database-write-rto", write_rto_figure(summary)),
            ("database-replication", replication_figure(summary)),
            ("database-roles", roles_figure(summary))]


def _origin_s(summary: Summary) -> float:
    if summary.load_start_s is not None:
        return summary.load_start_s
    database = summary.database
    times = [] if database is None else [c.t_s for c in database.roles]
    return min(times, default=0.0)


def rpo_figure(summary: Summary) -> go.Figure:
    database = _database(summary)
    origin_s = _origin_s(summary)
    writes = database.writes
    seq, ok = writes.seq, writes.requests.ok
    t_s = writes.requests.end_s - origin_s
    lost = _seqs(r.rpo.lost for r in database.scenarios if r.rpo)
    unknown = _seqs(r.rpo.unknown for r in database.scenarios if r.rpo)
    audited = database.audit is not None and not database.audit.error
    is_lost, is_unknown = np.isin(seq, lost) & ok, np.isin(seq, unknown) & ~ok
    masks = (ok & ~is_lost if audited else np.zeros_like(ok), ok if not audited else
             np.zeros_like(ok), ~ok & ~is_unknown, is_unknown, is_lost)
    figure = go.Figure()
    for (name, colour, symbol, size), mask in zip(_OUTCOMES, masks, strict=True):
        index = np.flatnonzero(mask)
        if index.size > MAX_WRITE_POINTS and size == 4:  # thin the many, never the few
            index = index[:: int(np.ceil(index.size / MAX_WRITE_POINTS))]
        if index.size:
            figure.add_trace(go.Scattergl(
                x=t_s[index], y=seq[index].astype(np.float64), mode="markers", name=name,
                marker={"color": colour, "symbol": symbol, "size": size},
                hovertemplate=f"seq %{{y:.0f}} at %{{x:.3f}} s: {name}<extra></extra>"))
    shade_faults(figure, summary, origin_s)
    for each in database.scenarios:
        rpo = each.rpo
        if rpo is not None and rpo.oldest_lost_ack_s is not None:
            figure.add_vrect(x0=rpo.oldest_lost_ack_s - origin_s, x1=rpo.fault_start_s - origin_s,
                             line={"color": COLOURS["error"], "dash": "dot", "width": 1},
                             fillcolor="rgba(214, 39, 40, 0.06)", annotation_position="top left",
                             annotation_text=f"RPO {rpo.rpo_s:.3f} s ({rpo.lost_count} lost)")
    if not audited:
        _note(figure, "no audit of the surviving primary: losses cannot be shown (RPO not "
                      "measured)")
    if len(writes) == 0:
        _note(figure, "no numbered writes were recorded")
    figure.update_layout(title="RPO: every numbered write by outcome (acknowledgement or "
                               "failure time)", height=420, **LAYOUT)
    figure.update_xaxes(title_text="seconds since load start")
    figure.update_yaxes(title_text="sequence number")
    return figure


def write_rto_figure(summary: Summary) -> go.Figure:
    """One stacked bar per scenario: fault start → each part, in the order they happened."""
    database = _database(summary)
    figure = go.Figure()
    shown: set[str] = set()
    for each in database.scenarios:
        if each.write_rto is None:
            continue
        reached_s = 0.0
        for key, name, colour, at_s in _milestones(each.write_rto):
            figure.add_trace(go.Bar(
                y=[each.scenario], x=[at_s - reached_s], base=[reached_s], orientation="h",
                name=name, marker_color=colour, legendgroup=key, showlegend=key not in shown,
                text=f"{name.split(' (')[0]} +{at_s:.2f} s", textposition="inside",
                hovertemplate=f"{name}: +{at_s:.3f} s after the fault<extra></extra>"))
            shown.add(key)
            reached_s = at_s
    for slo in summary.slos:
        if slo.kind == "write_rto":
            figure.add_vline(x=slo.objective, line={"color": "#555", "dash": "dot"},
                             annotation_text=f"objective {slo.objective:g} s")
    if database.patroni_ttl_s is not None:
        figure.add_vline(x=database.patroni_ttl_s, line={"color": "#9467bd", "dash": "dash"},
                         annotation_text=f"Patroni ttl {database.patroni_ttl_s} s",
                         annotation_position="bottom right")
    if not figure.data:
        _note(figure, "no write RTO: " + "; ".join(
            f"{e.scenario}: {e.write_rto_error}" for e in database.scenarios) or "no scenarios")
    # a short chart: the legend goes further down, clear of the axis title
    figure.update_layout(title="Write RTO and its parts (seconds after the fault start)",
                         barmode="overlay", height=200 + 60 * max(1, len(database.scenarios)),
                         **{**LAYOUT, "legend": {"orientation": "h", "y": -0.55, "x": 0},
                            "margin": {"l": 60, "r": 20, "t": 50, "b": 90}})
    figure.update_xaxes(title_text="seconds after the fault start", rangemode="tozero")
    return figure


def _milestones(rto: WriteRto) -> list[tuple[str, str, str, float]]:
    found = [(key, name, colour, value) for key, name, colour in _PARTS
             if (value := getattr(rto, key)) is not None]
    return sorted(found, key=lambda item: item[3])


def replication_figure(summary: Summary) -> go.Figure:
    database = _database(summary)
    origin_s = _origin_s(summary)
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                           subplot_titles=("bytes the standby has still to replay "
                                           "(primary LSN − replay LSN)",
                                           "replay lag (s, PostgreSQL's replay_lag)"))
    for number, series in enumerate(database.lag):
        label = f"{series.primary} → {series.standby}"
        x = np.array(series.t_s) - origin_s
        for row, values in ((1, series.lag_bytes), (2, series.replay_lag_s)):
            figure.add_trace(go.Scatter(
                x=x, y=_floats(values), mode="lines", name=label, legendgroup=label,
                showlegend=row == 1, line={"color": _colour(number), "width": 1.4}),
                row=row, col=1)
    shade_faults(figure, summary, origin_s, row="all", col=1)
    if not database.lag:
        _note(figure, "no replication samples (replication.jsonl)")
    figure.update_layout(title="Replication lag", height=460, **LAYOUT)
    figure.update_yaxes(title_text="bytes", rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text="s", rangemode="tozero", row=2, col=1)
    figure.update_xaxes(title_text="seconds since load start", row=2, col=1)
    return figure


def roles_figure(summary: Summary) -> go.Figure:
    """A band per node, coloured by its state; two writable nodes at once in red."""
    database = _database(summary)
    origin_s = _origin_s(summary)
    figure = go.Figure()
    for state, colour in _STATE_COLOURS.items():
        spans = [i for i in database.intervals if i.state == state]
        if spans:
            figure.add_trace(go.Bar(
                y=[f"{i.node} ({i.region})" for i in spans],
                x=np.array([i.end_s - i.start_s for i in spans]),
                base=np.array([i.start_s - origin_s for i in spans]), orientation="h",
                name="no answer" if state == "down" else state, marker_color=colour,
                marker_line_width=0, hovertemplate=f"{state} from %{{base:.2f}} s"
                                                   "<extra>%{y}</extra>"))
    shade_faults(figure, summary, origin_s)
    brain = database.split_brain
    for window in () if brain is None else brain.windows:
        figure.add_vrect(x0=window.start_s - origin_s, x1=window.end_s - origin_s,
                         fillcolor="rgba(214, 39, 40, 0.45)", line={"color": "#a31515"},
                         layer="above", annotation_text="SPLIT BRAIN: " + " + ".join(
                             window.nodes), annotation_font_color="#a31515")
    if not database.intervals:
        _note(figure, "no role samples (db.jsonl): split brain was not observed")
    nodes = {i.node for i in database.intervals}
    figure.update_layout(title="Node roles over time (red: two nodes writable at once)",
                         barmode="overlay", height=200 + 50 * max(1, len(nodes)), **LAYOUT)
    figure.update_xaxes(title_text="seconds since load start")
    return figure


def _database(summary: Summary) -> DatabaseFigures:
    if summary.database is None:
        raise ValueError("not a database run: summary.database is None")
    return summary.database


def _seqs(groups: Iterable[tuple[int, ...]]) -> npt.NDArray[np.int64]:
    return np.array(sorted({n for group in groups for n in group}), dtype=np.int64)


def _floats(values: Sequence[float | int | None]) -> FloatArray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _colour(number: int) -> str:
    return ("#4c78a8", "#f58518", "#54a24b", "#b279a2")[number % 4]


def _note(figure: go.Figure, text: str) -> None:
    figure.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5,
                          y=0.5, font={"color": "#666"})
