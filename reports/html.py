"""``report.html``: one self-contained page (plotly.js inlined, no CDN, no web fonts) with the
verdict, the timeline and the SLO, RTO, SLI and load-generator tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from gameday.measure import Aggregate
from reports.figures import timeline_figure
from reports.summary import ScenarioOutcome, Summary

__all__ = ["render_html"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;
max-width:1340px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;
border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666;font-size:13px;margin:2px 0} .reason{font-size:15px;margin:8px 0 0}
header{display:flex;gap:18px;align-items:center}
.badge{font-weight:700;font-size:20px;padding:10px 18px;border-radius:8px;color:#fff;
letter-spacing:.05em}
.v-pass{background:#2e9e44}.v-fail{background:#d62728}.v-error{background:#6f1d8a}
.v-inconclusive{background:#c77c02}
.banner{background:#fff4d6;border:1px solid #e0a800;border-radius:6px;padding:10px 14px;
margin:16px 0;font-size:14px}
.note{background:#f3f3f3;border-radius:6px;padding:8px 12px;margin:12px 0;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}
th,td{border:1px solid #ddd;padding:5px 9px;text-align:left;vertical-align:top}
th{background:#f5f5f5} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.pass td.status{background:#dff3e3;color:#1b6b2c;font-weight:600}
tr.fail td.status{background:#fbe0e0;color:#a31515;font-weight:600}
footer{color:#777;font-size:12px;margin-top:30px}
"""

_DEFINITIONS = (
    "Latency counts from each request's scheduled send time. RTO: time from fault start "
    "until the first instant after which every request scheduled in the next stability "
    "window succeeded within the latency bound; detect = first bad answer, failover = first "
    "good answer from another region. Warm-up requests count only in the greyed charts."
)


def render_html(summary: Summary) -> str:
    figure = timeline_figure(summary).to_html(
        full_html=False, include_plotlyjs=True,
        config={"displaylogo": False, "responsive": True})
    title = f"gameday {summary.suite.name} {summary.run_id}: {summary.verdict.upper()}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        _header(summary), *_banners(summary),
        "<h2>Timeline</h2>", figure,
        "<h2>SLOs</h2>", _slo_table(summary),
        "<h2>Scenarios and recovery (RTO)</h2>", _scenario_table(summary),
        "<h2>SLIs (warm-up excluded)</h2>", _sli_table(summary),
        "<h2>Load generator</h2>", _load_table(summary),
        f"<footer>{escape(_DEFINITIONS)}</footer>", "</body></html>",
    ]
    return "\n".join(parts)


def _header(summary: Summary) -> str:
    verdict = summary.verdict
    meta = (f"platform {summary.suite.platform} · started {summary.started_at or '—'} · "
            f"ended {summary.ended_at or '—'} · exit code {summary.exit_code}")
    return (f'<header><div class="badge v-{verdict}">{verdict.upper()}</div><div>'
            f"<h1>{escape(summary.suite.name)} — {escape(summary.run_id)}</h1>"
            f'<p class="meta">{escape(meta)}</p>'
            f'<p class="reason">{escape(summary.reason)}</p></div></header>')


def _banners(summary: Summary) -> list[str]:
    health = summary.health
    if health.saturated:
        return [f'<div class="banner"><b>Generator saturated.</b> The load generator could not '
                f"keep its schedule: {escape(health.why)}. Latency and RTO figures below "
                "measure the generator, not the system under test; the run is inconclusive."
                "</div>"]
    if health.flagged_live:
        return ['<div class="note">The generator flagged a burst of late sends during the run; '
                "over the whole load it stayed within bounds (see the load generator table)."
                "</div>"]
    return []


def _slo_table(summary: Summary) -> str:
    rows = []
    for result in summary.slos:
        status = "pass" if result.passed else "fail"
        measured = "—" if result.measured is None else _objective(result.kind, result.measured)
        rows.append((status, [result.name, result.scenario or "run", result.scope or "—",
                               _objective(result.kind, result.objective), measured,
                               status.upper(), result.message]))
    return _table(["SLO", "scenario", "scope", "objective", "measured", "status", "detail"],
                  rows, empty="the suite sets no SLOs", status_column=5)


def _scenario_table(summary: Summary) -> str:
    rows = [("", _scenario_row(summary, outcome)) for outcome in summary.scenarios]
    return _table(["scenario", "target", "fault start", "fault end", "journal", "RTO",
                   "detect", "failover", "recovered", "resolution", "bad requests"],
                  rows, empty="the suite has no scenarios")


def _scenario_row(summary: Summary, outcome: ScenarioOutcome) -> list[str]:
    origin_s = summary.load_start_s or 0.0
    window, rto, journal = outcome.window, outcome.rto, outcome.journal
    deviated = "" if journal.deviated is None else (" (deviated)" if journal.deviated else "")
    start = "never started" if window is None else f"+{window.start_s - origin_s:.2f} s"
    end = "—" if window is None else (
        "never rolled back" if window.end_s is None else f"+{window.end_s - origin_s:.2f} s")
    if rto is None:
        return [outcome.name, outcome.target_region, start, end, journal.status + deviated,
                "—", "—", "—", "—", "—", "—"]
    recovered = "yes" if rto.recovered else "NOT RECOVERED"
    return [outcome.name, outcome.target_region, start, end, journal.status + deviated,
            _s(rto.rto_s), _s(rto.detect_s), _s(rto.failover_s), recovered,
            _s(rto.resolution_s, digits=3),
            f"{rto.bad_requests} ({rto.failed_requests} failed, {rto.slow_requests} slow)"]


def _sli_table(summary: Summary) -> str:
    slis = summary.slis
    scopes: list[tuple[str, Aggregate]] = [("all", slis.overall),
                                           ("outside faults", slis.outside_faults),
                                           ("during faults", slis.during_faults)]
    scopes += [(f"served by {region}", agg) for region, agg in slis.by_region.items()]
    rows = [("", [name, str(agg.requests), str(agg.errors), _pct(agg.availability),
                  _ms(agg.p50_s), _ms(agg.p95_s), _ms(agg.p99_s)]) for name, agg in scopes]
    return _table(["requests", "count", "errors", "availability", "p50", "p95", "p99"], rows)


def _load_table(summary: Summary) -> str:
    h = summary.health
    late = f"{h.late_sends} ({_pct(h.late_fraction)}) later than {h.lag_bound_s * 1000:g} ms"
    rows = [("", [name, value]) for name, value in (
        ("target rate", f"{h.target_rate_per_s:g} /s ({summary.suite.load.arrival})"),
        ("scheduled rate", _rate(h.scheduled_rate_per_s)),
        ("achieved send rate", _rate(h.achieved_rate_per_s)),
        ("requests (ok)", f"{h.requests} ({h.ok})"),
        ("send lag p50 / p99 / max", f"{_ms(h.lag_p50_s)} / {_ms(h.lag_p99_s)} / "
                                     f"{_ms(h.lag_max_s)}"),
        ("late sends", late),
        ("saturated", "YES: " + h.why if h.saturated else "no"),
    )]
    return _table([], rows)


def _table(headers: Sequence[str], rows: Iterable[tuple[str, Sequence[str]]], *,
           empty: str = "nothing to show", status_column: int | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if headers else ""
    body = []
    for css, cells in rows:
        tds = "".join(_cell(cell, index == status_column) for index, cell in enumerate(cells))
        body.append(f'<tr class="{css}">{tds}</tr>')
    if not body:
        body.append(f'<tr><td colspan="{max(len(headers), 1)}">{escape(empty)}</td></tr>')
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


def _cell(text: str, is_status: bool) -> str:
    css = ' class="status"' if is_status else ""
    return f"<td{css}>{escape(text)}</td>"


def _objective(kind: str, value: float) -> str:
    return _pct(value) if kind == "availability" else (
        _ms(value) if kind == "latency" else _s(value))


def _s(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f} s"


def _ms(value_s: float | None) -> str:
    return "—" if value_s is None else f"{value_s * 1000:.1f} ms"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.3%}"


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} /s"
