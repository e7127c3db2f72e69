"""The "Input drift" section of ``report.html`` and the ``drift`` key of ``summary.json``: each
model server's PSI per feature over time (warn 0.1 and alert 0.25 marked, fault windows
shaded, the samples that called the dataset drifted marked), the time each member of a
fault's target region took to see the shift (``gameday.measure.drift``), and the alerts
outside every fault. A run without ``drift.jsonl`` has no such section."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from html import escape
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gameday.driftsamples import DRIFT_FILE, DriftSample, read_drift_samples
from gameday.errors import MeasurementError
from gameday.measure import fault_windows
from gameday.measure.drift import (
    PSI_ALERT,
    PSI_WARN,
    DriftFigures,
    MemberDetection,
    RegionDetection,
    drift_figures,
    drift_scenarios,
)
from reports.figures import COLOURS
from reports.html_table import table
from reports.numbers import seconds
from reports.panels import LAYOUT, figure_div, shade_faults
from reports.run_folder import RunFolder
from reports.summary import Summary

__all__ = ["DriftSection", "drift_json", "drift_markdown", "drift_section", "read_drift"]

_MAX_POINTS = 1500  # per line: a long run's samples are thinned to keep the page small
_PSI_FLOOR = 1e-3  # the log axis starts here (a PSI of 0 would not show)
_FEATURE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
                    "#17becf", "#bcbd22")
_DEFINITIONS = (
    "Each model server compares its last inputs (its drift window) with its training data and "
    "the watch asks it every 0.5 s. PSI per feature against the training bins: below 0.1 "
    "stable, 0.1 warn, 0.25 alert. Drift test per feature, as Evidently's defaults choose it: "
    "a window of at most 1,000 inputs gets a test (numerical: two-sample Kolmogorov-Smirnov, "
    "categorical: chi-squared; drifted when p < 0.05), a larger one a distance (Wasserstein / "
    "the reference's std, Jensen-Shannon; drifted at 0.1 or more); the dataset drifts when half "
    "the features or more do. Time to detect: from the fault's start (its action returned) to "
    "the member's first sample at or after it showing the sign; to clear: from the fault's end "
    "to its first sample with neither. False alert: alerting samples (dataset drift or a PSI "
    "alert) of a member that began outside every fault of its region, counted from after its "
    "window had taken in a window's worth of inputs since the fault's end. — : not seen.")
_DETECTION_HEADERS = ["scenario", "member", "fault start", "dataset drift", "PSI >= 0.25",
                      "first feature drift", "cleared after the end", "note"]
_DETECTION_IDS = {3: "drift-ttd-{}", 4: "drift-psi-{}", 5: "drift-feature-{}",
                  6: "drift-cleared-{}"}
_REGION_HEADERS = ["scenario", "target region", "members", "dataset drift: first member",
                   "every member", "PSI >= 0.25: first member", "every member"]
_REGION_IDS = {3: "drift-region-ttd-{}", 4: "drift-region-ttd-all-{}",
               5: "drift-region-psi-{}"}


@dataclass(frozen=True, slots=True)
class DriftSection:
    figures: DriftFigures
    samples: tuple[DriftSample, ...]


def read_drift(folder: RunFolder) -> DriftSection | None:
    """The folder's drift figures; None without ``drift.jsonl`` or samples in it. A damaged
    file is a MeasurementError naming it."""
    if not (folder.path / DRIFT_FILE).is_file():
        return None
    try:
        samples = read_drift_samples(folder.path)
    except ValueError as exc:
        raise MeasurementError(str(exc)) from None
    figures = drift_figures(samples, fault_windows(folder.events),
                           timed=drift_scenarios(folder.events))
    return None if figures is None else DriftSection(figures, tuple(samples))


def drift_json(section: DriftSection | None) -> dict[str, Any] | None:
    return None if section is None else asdict(section.figures)


def drift_section(summary: Summary, section: DriftSection | None) -> list[str]:
    if section is None:
        return []
    figures = section.figures
    origin_s = summary.load_start_s or 0.0
    return ['<h2 id="drift">Input drift</h2>',
            f'<div class="note" id="drift-definitions">{escape(_DEFINITIONS)}</div>',
            figure_div(psi_figure(summary, section.samples), "drift-psi-chart"),
            "<h3>Time to detect, per member of the fault's region</h3>",
            table(_DETECTION_HEADERS, [("", _detection_row(d, origin_s))
                                       for d in figures.detections],
                  empty="no fault window in this run", ids=_DETECTION_IDS,
                  row_keys=[f"{d.scenario}-{d.member}" for d in figures.detections]),
            "<h3>Per region</h3>",
            table(_REGION_HEADERS, [("", _region_row(r)) for r in figures.regions],
                  empty="no fault window in this run", ids=_REGION_IDS,
                  row_keys=[f"{r.scenario}-{r.region}" for r in figures.regions]),
            _false_alerts(figures, origin_s)]


def _detection_row(d: MemberDetection, origin_s: float) -> list[str]:
    psi = "—" if d.psi_alert_s is None else f"{seconds(d.psi_alert_s)} ({d.psi_alert_feature})"
    feature = "—" if d.feature_drift_s is None \
        else f"{seconds(d.feature_drift_s)} ({', '.join(d.first_drifted)})"
    cleared = "fault still open" if d.fault_end_s is None else seconds(d.cleared_s)
    note = "already drifting before the fault: its time to detect measures nothing" \
        if d.drifted_before else ""
    return [d.scenario, f"{d.member} ({d.region})", f"+{d.fault_start_s - origin_s:.2f} s",
            seconds(d.dataset_drift_s), psi, feature, cleared, note]


def _region_row(r: RegionDetection) -> list[str]:
    return [r.scenario, r.region, str(r.members), seconds(r.dataset_drift_s),
            seconds(r.dataset_drift_all_s), seconds(r.psi_alert_s), seconds(r.psi_alert_all_s)]


def _false_alerts(figures: DriftFigures, origin_s: float) -> str:
    watched = (f"{figures.samples} samples from {len(figures.members)} members, "
               f"{figures.unanswered} unanswered")
    if not figures.false_alerts:
        return (f'<p class="meta" id="drift-false-alerts" data-count="0">No false alert '
                f"outside the fault windows ({escape(watched)}).</p>")
    rows = [("fail", [a.member, a.region, f"+{a.start_s - origin_s:.2f} s",
                      f"+{a.end_s - origin_s:.2f} s", str(a.samples),
                      "dataset drift" if a.dataset_drift else "PSI only"])
            for a in figures.false_alerts]
    return (f'<p class="meta" id="drift-false-alerts" data-count="{len(rows)}">'
            f"{len(rows)} false alert(s) outside the fault windows ({escape(watched)}):</p>"
            + table(["member", "region", "first sample", "last sample", "samples", "what"],
                    rows))


def psi_figure(summary: Summary, samples: Sequence[DriftSample]) -> go.Figure:
    """One row per member: each feature's PSI (log scale), the warn and alert levels, the
    faults shaded, a cross where the member called the dataset drifted."""
    origin_s = summary.load_start_s or 0.0
    members = sorted({s.member for s in samples})
    figure = make_subplots(rows=len(members), cols=1, shared_xaxes=True,
                           vertical_spacing=0.04, subplot_titles=members)
    features = sorted({f.name for s in samples for f in s.features})
    for row, member in enumerate(members, start=1):
        own = _thinned([s for s in samples if s.member == member and s.features])
        times = [s.t_s - origin_s for s in own]
        for number, name in enumerate(features):
            figure.add_trace(go.Scatter(
                x=times, y=[_psi_of(s, name) for s in own], mode="lines", name=name,
                legendgroup=name, showlegend=row == 1,
                line={"color": _FEATURE_COLOURS[number % len(_FEATURE_COLOURS)], "width": 1.5}),
                row=row, col=1)
        drifted = [s for s in own if s.dataset_drift]
        figure.add_trace(go.Scatter(
            x=[s.t_s - origin_s for s in drifted],
            y=[max(_psi_of(s, f.name) or _PSI_FLOOR for f in s.features) for s in drifted],
            mode="markers", name="dataset drift", legendgroup="dataset drift",
            showlegend=row == 1, marker={"symbol": "x", "size": 6, "color": COLOURS["error"]}),
            row=row, col=1)
        for level, dash in ((PSI_WARN, "dot"), (PSI_ALERT, "dash")):
            figure.add_hline(y=level, line={"color": "#888", "dash": dash, "width": 1},
                             row=row, col=1)
    shade_faults(figure, summary, origin_s, row="all", col=1)
    figure.update_yaxes(type="log", title_text="PSI")
    figure.update_xaxes(title_text="seconds since load start", row=len(members), col=1)
    figure.update_layout(**LAYOUT, height=max(320, 230 * len(members)),
                         title="PSI per feature, per model server (dotted 0.1 warn, "
                               "dashed 0.25 alert)")
    return figure


def _psi_of(sample: DriftSample, name: str) -> float | None:
    value = next((f.psi for f in sample.features if f.name == name), None)
    return None if value is None else max(value, _PSI_FLOOR)


def _thinned(samples: list[DriftSample]) -> list[DriftSample]:
    stride = max(1, -(-len(samples) // _MAX_POINTS))
    return samples[::stride]


def drift_markdown(section: DriftSection | None) -> list[str]:
    """The summary.md lines: each region's time to detect, and the false alerts."""
    if section is None:
        return []
    figures = section.figures
    lines = [f"- {r.scenario}: {r.region} saw dataset drift after "
             f"{seconds(r.dataset_drift_s)} (every member: {seconds(r.dataset_drift_all_s)}), "
             f"a PSI alert after {seconds(r.psi_alert_s)}." for r in figures.regions]
    lines.append(f"- False alerts outside the faults: {len(figures.false_alerts)}.")
    return ["", "**Input drift**:", "", *lines]
