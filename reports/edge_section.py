"""The "Edge" section of ``report.html`` and its lines in ``summary.md``: the WAF's verdicts per
attack class (``gameday.measure.waf``), what the WAF adds to latency, the edge cache's hit
ratio over time and what it served during each outage (``gameday.measure.edge_cache``), and
a health-check sweep (``edge-sweep.json``, written by the bench) when the run folder has one.
A run without edge data (no labelled request, no answer through the cache, no WAF log entry,
no WAF latency comparison, no sweep) has no such section."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from gameday.errors import MeasurementError
from gameday.measure import fault_windows
from gameday.measure.edge_cache import CacheFigures, CacheWindow, cache_figures
from gameday.measure.waf import (
    ClassVerdicts,
    LatencySide,
    RuleCount,
    WafLatency,
    WafVerdicts,
    waf_latency,
    waf_verdicts,
)
from gameday.measure.waf_log import EdgeRequests, read_waf_log
from reports.edge_charts import SweepPoint, cache_hit_figure, rto_vs_flapping, sweep_points
from reports.html_table import table
from reports.numbers import ms, pct, rate
from reports.run_folder import RunFolder
from reports.summary import Summary

__all__ = ["SWEEP_FILE", "EdgeFigures", "edge_figures", "edge_markdown", "edge_section"]

SWEEP_FILE = "edge-sweep.json"

_DEFINITIONS = (
    "WAF verdicts on the labelled requests (X-Gameday-Label). Blocked at the edge: the WAF "
    "refused it (403), nginx refused it as malformed (400), or the edge's body limit did (a "
    "413 no region named). Stopped by the service: it passed the edge and the service's guard"
    " refused it. Passed: it passed both. A 429 (rate limit) or no edge answer is no verdict."
    " Attacks: TP = blocked, FN = passed; benign: FP = blocked, TN = passed. Blocked rate = "
    "blocked / (blocked + stopped by the service + passed); stopped rate counts the service's"
    " refusals too. In detection-only mode nothing is blocked: the WAF log's entries of a "
    "class that would have blocked (rule 949110, or score ≥ the threshold) are counted as the"
    " WAF's, joined by label. Top rules: the CRS rules that matched in most of a class's log "
    "entries (the anomaly evaluation and correlation rules 949xxx/959xxx/980xxx left out), "
    "the ones an exclusion is written against. WAF latency: ok unlabelled answers after the "
    "warm-up the cache did not serve, through the edge (WAF on) against the edge-no-waf entry"
    " (the same nginx without ModSecurity or cache), from the scheduled send; the rate counts"
    " the cache's hits too. Cache: HIT, STALE and UPDATING are answers the cache served; hit "
    "ratio = those / answers through the cache (X-Cache-Status not NONE); stale = STALE or "
    "UPDATING.")
_WAF_HEADERS = ["class", "sent", "TP", "FN", "FP", "TN", "by the WAF", "refused (malformed)",
                "body limit", "stopped by the service", "no verdict (429 / no answer)",
                "blocked rate", "stopped rate", "top rules (log entries)"]
_WAF_IDS = {2: "waf-tp-{}", 3: "waf-fn-{}", 4: "waf-fp-{}", 5: "waf-tn-{}",
            8: "waf-body-limit-{}", 9: "waf-service-{}", 11: "waf-rate-{}",
            12: "waf-stopped-rate-{}", 13: "waf-rules-{}"}
_LATENCY_HEADERS = ["stack", "endpoint", "with WAF", "p50", "p90", "p99", "rate",
                    "without WAF", "p50", "p90", "p99", "rate", "added p50", "added p90",
                    "added p99"]
_LATENCY_IDS = {12: "waf-added-p50-{}", 13: "waf-added-p90-{}", 14: "waf-added-p99-{}"}
_WINDOW_HEADERS = ["scenario", "target", "fault window", "requests", "through the cache",
                   "served by the cache", "of which stale", "failed", "hit ratio"]
_WINDOW_IDS = {5: "cache-served-{}", 6: "cache-stale-{}", 7: "cache-failed-{}",
               8: "cache-ratio-{}"}
_PLOT = {"full_html": False, "include_plotlyjs": False,
         "config": {"displaylogo": False, "responsive": True}}


@dataclass(frozen=True, slots=True)
class EdgeFigures:
    """Everything the edge section shows; ``sweep`` None: no edge-sweep.json in the folder."""

    waf_mode: str  # the suite's edge.waf.mode
    paranoia_level: int
    waf: WafVerdicts | None  # None: no labelled request and no WAF log entry
    latency: tuple[WafLatency, ...]
    cache: CacheFigures | None  # None: no answer went through the cache
    sweep: tuple[SweepPoint, ...] | None
    sweep_error: str = ""  # edge-sweep.json was there but not a sweep: why


def edge_figures(folder: RunFolder, summary: Summary) -> EdgeFigures | None:
    """The edge figures of a run folder; None when it has no edge data. A damaged request
    file or waf.jsonl is a MeasurementError naming it; a damaged sweep is noted."""
    try:
        requests = EdgeRequests.read(folder.path)
        log = read_waf_log(folder.path)
    except ValueError as exc:
        raise MeasurementError(str(exc)) from None
    waf = folder.suite.edge.waf
    sweep, sweep_error = _read_sweep(folder.path)
    figures = EdgeFigures(
        waf_mode=waf.mode, paranoia_level=waf.paranoia_level,
        waf=waf_verdicts(requests, log, mode=waf.mode,
                         threshold=waf.inbound_anomaly_threshold),
        latency=waf_latency(requests, warmup_end_s=summary.warmup_end_s),
        cache=cache_figures(requests, fault_windows(folder.events),
                            bucket_s=summary.chart_bucket_s, origin_s=summary.load_start_s,
                            warmup_end_s=summary.warmup_end_s),
        sweep=sweep, sweep_error=sweep_error)
    compared = any(f.with_waf and f.without_waf for f in figures.latency)
    if figures.waf is None and figures.cache is None and sweep is None and not sweep_error \
            and not compared:
        return None
    return figures


def _read_sweep(run_dir: Path) -> tuple[tuple[SweepPoint, ...] | None, str]:
    path = run_dir / SWEEP_FILE
    if not path.is_file():
        return None, ""
    try:
        return sweep_points(json.loads(path.read_text())), ""
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        return None, f"{path.name}: not a sweep: {exc}"


def edge_section(summary: Summary, figures: EdgeFigures | None) -> list[str]:
    if figures is None:
        return []
    parts = ['<h2 id="edge">Edge: WAF and cache</h2>',
             f'<div class="note" id="edge-definitions">{escape(_DEFINITIONS)}</div>']
    parts += _waf(figures)
    parts += _latency(figures.latency)
    parts += _cache(summary, figures.cache)
    parts += _sweep(figures)
    return parts


def _waf(figures: EdgeFigures) -> list[str]:
    verdicts = figures.waf
    parts = ["<h3>WAF verdicts per attack class</h3>"]
    if verdicts is None:
        return [*parts, '<p class="meta" id="waf-none">No labelled request and no WAF log '
                        "entry in this run.</p>"]
    how = ("detection only: nothing was blocked; the would-block verdicts come from waf.jsonl"
           if verdicts.counted_as == "detection" else "counted from the answers")
    parts.append(f'<p class="meta" id="waf-mode">WAF mode {escape(figures.waf_mode)} (OWASP '
                 f"CRS paranoia level {figures.paranoia_level}, inbound anomaly threshold "
                 f"{verdicts.threshold}); {escape(how)}.</p>")
    rows = [("", _class_row(c)) for c in verdicts.classes]
    keys = [c.label for c in verdicts.classes]
    if any(c.attack for c in verdicts.classes):
        rows.append(("", _attacks_row(verdicts)))
        keys.append("attacks")
    parts.append(table(_WAF_HEADERS, rows, empty="no labelled request", ids=_WAF_IDS,
                       row_keys=keys))
    if verdicts.unlabelled_blocked or verdicts.unlabelled_log_entries:
        parts.append(f'<div class="note" id="waf-unlabelled">Ordinary (unlabelled) load: '
                     f"the WAF refused {verdicts.unlabelled_blocked} requests; its log holds "
                     f"{verdicts.unlabelled_log_entries} entries for it (top rules: "
                     f"{escape(_rules(verdicts.unlabelled_top_rules))}).</div>")
    return parts


def _class_row(c: ClassVerdicts) -> list[str]:
    return [c.label, str(c.sent), _count(c.true_positives), _count(c.false_negatives),
            _count(c.false_positives), _count(c.true_negatives), str(c.by_waf), str(c.refused),
            str(c.body_limit), str(c.by_service), f"{c.rate_limited} / {c.no_answer}",
            pct(c.blocked_rate), pct(c.stopped_rate), _rules(c.top_rules)]


def _attacks_row(v: WafVerdicts) -> list[str]:
    attacks = [c for c in v.classes if c.attack]
    total = Counter[str]()
    for c in attacks:
        total.update({"sent": c.sent, "passed": c.passed, "by_waf": c.by_waf,
                      "refused": c.refused, "body_limit": c.body_limit,
                      "by_service": c.by_service, "rate_limited": c.rate_limited,
                      "no_answer": c.no_answer})
    return ["all attacks", str(total["sent"]), str(v.attacks_blocked), str(total["passed"]),
            "—", "—", str(total["by_waf"]), str(total["refused"]), str(total["body_limit"]),
            str(total["by_service"]), f"{total['rate_limited']} / {total['no_answer']}",
            pct(v.attack_blocked_rate), pct(v.attack_stopped_rate), ""]


def _count(value: int | None) -> str:
    return "—" if value is None else str(value)


def _rules(rules: Sequence[RuleCount]) -> str:
    return ", ".join(f"{r.rule} ×{r.entries}" for r in rules) or "—"


def _latency(latency: Sequence[WafLatency]) -> list[str]:
    if not latency:
        return []
    rows = [("", [f.stack, f.endpoint, *_side(f.with_waf), *_side(f.without_waf),
                  _added(f.added_p50_s), _added(f.added_p90_s), _added(f.added_p99_s)])
            for f in latency]
    note = ""
    if any(f.with_waf is None or f.without_waf is None for f in latency):
        note = ('<p class="meta" id="waf-latency-one-side">A side marked none had no answer in '
                "this run: the WAF's cost shows when one load goes through the edge and "
                "another, the same, through <code>target: edge-no-waf</code> "
                "(suites/edge-waf.yaml).</p>")
    return ["<h3>What the WAF adds to latency</h3>", note,
            table(_LATENCY_HEADERS, rows, ids=_LATENCY_IDS,
                  row_keys=[f"{f.stack}-{f.endpoint}" for f in latency])]


def _side(side: LatencySide | None) -> list[str]:
    if side is None:
        return ["none", "—", "—", "—", "—"]
    return [f"{side.requests} ok", ms(side.p50_s), ms(side.p90_s), ms(side.p99_s),
            rate(side.rate_per_s)]


def _added(value_s: float | None) -> str:
    return "—" if value_s is None else f"{value_s * 1000:+.1f} ms"


def _cache(summary: Summary, cache: CacheFigures | None) -> list[str]:
    parts = ["<h3>Edge cache</h3>"]
    if cache is None:
        return [*parts, '<p class="meta" id="cache-none">No answer went through the edge '
                        "cache in this run.</p>"]
    statuses = ", ".join(f"{name} {count}" for name, count in sorted(cache.statuses.items()))
    parts.append(
        f'<p class="meta">After the warm-up: hit ratio <b id="cache-hit-ratio">'
        f"{pct(cache.hit_ratio)}</b> ({cache.served} served by the cache, {cache.stale} of "
        f"them stale, of {cache.through_cache} answers through it: {escape(statuses)}). "
        f"Hits p50 {ms(cache.hit_p50_s)}, p99 {ms(cache.hit_p99_s)} ({cache.hits_timed} ok); "
        f"misses p50 {ms(cache.miss_p50_s)}, p99 {ms(cache.miss_p99_s)} "
        f"({cache.misses_timed} ok).</p>")
    parts.append(cache_hit_figure(summary, cache).to_html(div_id="cache-hit-ratio-chart",
                                                          **_PLOT))
    if cache.windows:
        origin_s = summary.load_start_s or 0.0
        parts += ["<h4>What the cache served during each fault</h4>",
                  table(_WINDOW_HEADERS, [("", _window_row(w, origin_s)) for w in cache.windows],
                        ids=_WINDOW_IDS, row_keys=_window_keys(cache.windows))]
    return parts


def _window_row(window: CacheWindow, origin_s: float) -> list[str]:
    end = "never rolled back" if window.end_s is None else f"+{window.end_s - origin_s:.2f} s"
    return [window.scenario, window.target_region or "—",
            f"+{window.start_s - origin_s:.2f} s to {end}", str(window.requests),
            str(window.through_cache), str(window.served), str(window.stale),
            str(window.failed), pct(window.hit_ratio)]


def _window_keys(windows: Sequence[CacheWindow]) -> list[str]:
    """The scenario's name; a scenario's second window and later get ``-2``, ``-3``..."""
    seen: Counter[str] = Counter()
    keys = []
    for window in windows:
        seen[window.scenario] += 1
        number = seen[window.scenario]
        keys.append(window.scenario if number == 1 else f"{window.scenario}-{number}")
    return keys


def _sweep(figures: EdgeFigures) -> list[str]:
    if figures.sweep_error:
        return ["<h3>Health-check sweep</h3>",
                f'<div class="banner" id="edge-sweep-error">{escape(figures.sweep_error)}'
                "</div>"]
    if figures.sweep is None:
        return []
    if not figures.sweep:
        return ["<h3>Health-check sweep</h3>",
                f'<p class="meta" id="edge-sweep-empty">{SWEEP_FILE} holds no point.</p>']
    return ["<h3>Health-check sweep: recovery time against flapping</h3>",
            rto_vs_flapping(figures.sweep).to_html(div_id="edge-sweep", **_PLOT)]


def edge_markdown(figures: EdgeFigures | None) -> list[str]:
    """A short edge block for summary.md: WAF rates, what the WAF adds, the cache."""
    if figures is None:
        return []
    lines = []
    verdicts = figures.waf
    if verdicts is not None and verdicts.classes:
        benign = verdicts.of("benign")
        lines.append(
            f"- WAF ({verdicts.counted_as}): {pct(verdicts.attack_blocked_rate)} of "
            f"{verdicts.attacks_judged} attack requests blocked at the edge "
            f"({pct(verdicts.attack_stopped_rate)} stopped, the service's guard counted); false "
            f"positives {pct(verdicts.false_positive_rate)} of "
            f"{0 if benign is None else benign.judged} benign.")
    for f in figures.latency:
        if f.added_p50_s is not None:
            lines.append(f"- WAF adds {_added(f.added_p50_s)} at p50, {_added(f.added_p99_s)} "
                         f"at p99 ({f.stack} {f.endpoint}).")
    cache = figures.cache
    if cache is not None:
        served = sum(w.served for w in cache.windows)
        stale = sum(w.stale for w in cache.windows)
        failed = sum(w.failed for w in cache.windows)
        during = f"; during faults it served {served} answers ({stale} stale), " \
                 f"{failed} requests failed" if cache.windows else ""
        lines.append(f"- Cache hit ratio {pct(cache.hit_ratio)} after the warm-up{during}.")
    if figures.sweep:
        lines.append(f"- Health-check sweep: {len(figures.sweep)} settings (chart in "
                     "`report.html`).")
    return ["", "**Edge**:", "", *lines] if lines else []
