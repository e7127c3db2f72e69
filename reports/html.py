"""``report.html``: one self-contained page (plotly.js inlined, no CDN, no web fonts) with the
verdict, the timeline, the RAG, Triton and database panels (for those stacks), resources and
cost, and the SLO, RTO, SLI and load-generator tables."""

from __future__ import annotations

from html import escape

from gameday.measure import Aggregate
from reports.baseline import baseline_section
from reports.coldstart_section import cold_start_section
from reports.cost_section import cost_section
from reports.database_section import database_section
from reports.degraded_section import degraded_section
from reports.figures import timeline_figure
from reports.game_day_section import game_day_section
from reports.html_table import table as _table
from reports.numbers import ms as _ms
from reports.numbers import objective as _objective
from reports.numbers import pct as _pct
from reports.numbers import rate as _rate
from reports.numbers import seconds as _s
from reports.numbers import sentence, slo_objective
from reports.rag_section import rag_section
from reports.release_section import release_section
from reports.score_section import score_section
from reports.summary import ScenarioOutcome, Summary
from reports.triton_section import triton_section
from reports.versions_section import versions_section

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
.v-inconclusive{background:#c77c02}.v-aborted{background:#6f42c1}
.banner{background:#fff4d6;border:1px solid #e0a800;border-radius:6px;padding:10px 14px;
margin:16px 0;font-size:14px} .banner.severe{background:#fbe0e0;border-color:#a31515}
.note{background:#f3f3f3;border-radius:6px;padding:8px 12px;margin:12px 0;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}
th,td{border:1px solid #ddd;padding:5px 9px;text-align:left;vertical-align:top}
th{background:#f5f5f5} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.pass td.status{background:#dff3e3;color:#1b6b2c;font-weight:600}
tr.fail td.status{background:#fbe0e0;color:#a31515;font-weight:600}
tr.not-judged td.status{background:#eee;color:#555;font-weight:600}
tr.operator td{background:#eef4ff}
footer{color:#777;font-size:12px;margin-top:30px}
"""

_DEFINITIONS = (
    "Latency counts from each request's scheduled send time. RTO: time from fault start "
    "until the first instant after which every request scheduled in the next stability "
    "window succeeded within the latency bound; detect = first bad answer, failover = first "
    "good answer from another region; edge down = HAProxy marked a server of the target "
    "region down; canary failed = the serving canary (one real inference to each model "
    "server every 0.5 s, 1 s timeout; model-repository stacks) to the target region first "
    "failed. Warm-up requests count only in the greyed charts."
)


def render_html(summary: Summary) -> str:
    figure = timeline_figure(summary).to_html(
        full_html=False, include_plotlyjs=True,
        config={"displaylogo": False, "responsive": True})
    title = f"gameday {summary.suite.name} {summary.run_id}: {summary.verdict.upper()}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        _header(summary), *_banners(summary), *game_day_section(summary),
        "<h2>Timeline</h2>", figure, *rag_section(summary), *triton_section(summary),
        *versions_section(summary), *release_section(summary), *degraded_section(summary),
        *cold_start_section(summary),
        *database_section(summary), *cost_section(summary),
        *score_section(summary),
        *baseline_section(summary.baseline),
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
    return (f'<header><div class="badge v-{verdict}" id="verdict" data-verdict="{verdict}">'
            f"{verdict.upper()}</div><div>"
            f"<h1>{escape(summary.suite.name)} — {escape(summary.run_id)}</h1>"
            f'<p class="meta">{escape(meta)}</p>'
            f'<p class="reason">{escape(summary.reason)}</p></div></header>')


def _banners(summary: Summary) -> list[str]:
    banners = [f'<div class="banner severe" id="rollback-failed"><b>Rollback failed.</b> '
               f"{escape(sentence(failure.describe()))}. Check the platform (<code>gameday "
               "status</code>) before the next run.</div>"
               for failure in summary.incidents.rollback_failures]
    if summary.interruption is not None:
        banners.append(f'<div class="banner severe" id="interrupted"><b>Interrupted.</b> '
                       f"{escape(sentence(summary.interruption.what()))}. This is not a "
                       "verdict on "
                       "the system under test.</div>")
    origin_s = summary.load_start_s or 0.0
    banners += [f'<div class="banner severe" id="aborted-{escape(abort.scenario)}"><b>Scenario '
                f"aborted.</b> {escape(sentence(abort.describe()))}"
                + ("" if abort.at_s is None else f" (at +{abort.at_s - origin_s:.1f} s)")
                + ". An aborted scenario is neither a pass nor a breach.</div>"
                for abort in summary.incidents.aborted]
    banners += [f'<div class="banner"><b>Steady state deviated.</b> The steady-state '
                f"hypothesis of {escape(name)} did not hold after the fault.</div>"
                for name in summary.incidents.deviated if summary.verdict == "fail"]
    health = summary.health
    if health.saturated:
        banners.append(f'<div class="banner"><b>Generator saturated.</b> The load generator '
                       f"could not keep its schedule: {escape(health.why)}. Latency and RTO "
                       "figures below measure the generator, not the system under test; the "
                       "run is inconclusive.</div>")
    elif health.flagged_live:
        banners.append('<div class="note">The generator flagged a burst of late sends during '
                       "the run; over the whole load it stayed within bounds (see the load "
                       "generator table).</div>")
    return banners


def _slo_table(summary: Summary) -> str:
    rows = []
    judged = summary.verdict in ("pass", "fail", "aborted")  # else not the system's figures
    for result in summary.slos:
        status = ("pass" if result.passed else "fail") if judged else "not-judged"
        measured = "NOT MEASURED" if result.measurement_error else (
            "—" if result.measured is None else _objective(result.kind, result.measured))
        rows.append((status, [result.case_name, result.scenario or "run", result.scope or "—",
                               slo_objective(result), measured,
                               status.replace("-", " ").upper(), result.message]))
    return _table(["SLO", "scenario", "scope", "objective", "measured", "status", "detail"],
                  rows, empty="the suite sets no SLOs", status_column=5)


def _scenario_table(summary: Summary) -> str:
    rows = [("", _scenario_row(summary, outcome)) for outcome in summary.scenarios]
    return _table(["scenario", "target", "fault start", "fault end", "journal", "RTO",
                   "detect", "failover", "edge down", "canary failed", "recovered",
                   "resolution", "bad requests", "steady state", "rollback"],
                  rows, empty="the suite has no scenarios", ids={5: "rto-{}"},
                  row_keys=[outcome.name for outcome in summary.scenarios])


def _scenario_row(summary: Summary, outcome: ScenarioOutcome) -> list[str]:
    origin_s = summary.load_start_s or 0.0
    window, rto = outcome.window, outcome.rto
    start = "never started" if window is None else f"+{window.start_s - origin_s:.2f} s"
    end = "—" if window is None else (
        "never rolled back" if window.end_s is None else f"+{window.end_s - origin_s:.2f} s")
    steady = {None: "unknown", False: "held", True: "DEVIATED"}[outcome.deviated]
    rollback = "FAILED" if outcome.rollback_failure else (
        "—" if window is None else "ok" if window.end_s is not None else "never returned")
    head = [outcome.name, outcome.target_region, start, end, outcome.journal.status]
    if rto is None:
        return [*head, "—", "—", "—", "—", "—", "—", "—", "—", steady, rollback]
    recovered = "yes" if rto.recovered else "NOT RECOVERED"
    return [*head, _s(rto.rto_s), _s(rto.detect_s), _s(rto.failover_s),
            _s(outcome.edge_down_s), _s(outcome.canary_failed_s), recovered,
            _s(rto.resolution_s, digits=3),
            f"{rto.bad_requests} ({rto.failed_requests} failed, {rto.slow_requests} slow)",
            steady, rollback]


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
        ("target rate", f"{h.target_rate_per_s:g} /s ({summary.suite.primary_load.arrival})"),
        ("scheduled rate", _rate(h.scheduled_rate_per_s)),
        ("achieved send rate", _rate(h.achieved_rate_per_s)),
        ("requests (ok)", f"{h.requests} ({h.ok})"),
        ("send lag p50 / p99 / max", f"{_ms(h.lag_p50_s)} / {_ms(h.lag_p99_s)} / "
                                     f"{_ms(h.lag_max_s)}"),
        ("late sends", late),
        ("saturated", "YES: " + h.why if h.saturated else "no"),
    )]
    return _table([], rows)
