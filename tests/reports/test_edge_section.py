"""The report's edge section, rebuilt from a synthetic run folder alone: suite.json from a real
Suite, requests with the real RecordWriter, events with the real EventLog, waf.jsonl and
edge-sweep.json by hand.

The story (seconds since load start T0): warm-up to 2 s, a region-a outage from 10 to 14 s,
load to 20 s. Ordinary load to tabular predict every 0.1 s through the edge: request k is a
cache MISS (region-a, 20 ms) when k is even, a HIT (2 ms) when odd; in the outage k % 4 == 0
fails (a MISS the region could not answer) and the rest are STALE. From 2 to 10 s the
edge-no-waf entry gets a request every 0.2 s (15 ms, no cache). At 5 s the labelled set:
4 sqli (3 blocked by the WAF, 1 passed) and 4 benign (all passed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameday.config import AvailabilitySlo, LoadProfile, Measurement, Scenario, Slo, Suite, WafSlo
from gameday.records import EventKind, EventLog, RecordWriter, RequestRecord
from reports import build_reports
from reports.edge_charts import cache_hit_figure, rto_vs_flapping
from reports.edge_section import edge_figures
from reports.run_folder import read_run_folder
from reports.summary import summarize

T0 = 1_764_061_200.0
SWEEP = [
    {"setting": "fast", "inter_ms": 100, "fall": 1, "rise": 1, "observe": "layer7",
     "rto_s": 0.6, "spurious_failovers": 4, "failed_requests": 12},
    {"setting": "default", "inter_ms": 500, "fall": 2, "rise": 2, "observe": "layer7",
     "rto_s": 1.4, "spurious_failovers": 0, "failed_requests": 40},
    {"setting": "lazy", "inter_ms": 2000, "fall": 3, "rise": 3, "observe": "none",
     "rto_s": None, "spurious_failovers": 0, "failed_requests": 300},
]


def _ordinary(k: int) -> RequestRecord:
    at_s = T0 + round(k * 0.1, 6)
    outage = 10 <= k * 0.1 < 14
    if outage and k % 4 == 0:
        return RequestRecord(at_s, at_s, at_s + 1.0, "tabular", "predict", "", 502, False,
                             "http_5xx", edge_cache="MISS", waf="blocking")
    if outage or k % 2:
        cache, latency_s = ("STALE" if outage else "HIT"), 0.002
        return RequestRecord(at_s, at_s, at_s + latency_s, "tabular", "predict", "edge", 200,
                             True, edge_cache=cache, waf="blocking")
    return RequestRecord(at_s, at_s, at_s + 0.020, "tabular", "predict", "region-a", 200, True,
                         edge_cache="MISS", waf="blocking")


def _no_waf(k: int) -> RequestRecord:
    at_s = T0 + 2 + round(k * 0.2, 6) + 0.05
    return RequestRecord(at_s, at_s, at_s + 0.015, "tabular", "predict", "region-a", 200, True,
                         edge_cache="NONE", waf="off")


def _labelled(label: str, blocked: bool) -> RequestRecord:
    at_s = T0 + 5.03
    return RequestRecord(at_s, at_s, at_s + 0.004, "tabular", "predict",
                         "" if blocked else "region-a", 403 if blocked else 200, not blocked,
                         "http_4xx" if blocked else "", edge_cache="NONE",
                         waf="blocked" if blocked else "blocking", label=label)


def _records() -> list[RequestRecord]:
    labelled = [_labelled("sqli", k < 3) for k in range(4)] + \
        [_labelled("benign", False) for _ in range(4)]
    return [*(_ordinary(k) for k in range(200)), *(_no_waf(k) for k in range(40)), *labelled]


def write_edge_run(run_dir: Path, *, sweep: str | None = json.dumps(SWEEP),
                   slos: list[Slo] | None = None) -> Path:
    run_dir.mkdir(parents=True)
    load = [LoadProfile(rate_per_s=10, duration_s=20, warmup_s=2, arrival="constant")]
    if slos:  # a waf SLO needs the labelled load
        load.append(LoadProfile(name="attacks", endpoint="attack", rate_per_s=1, duration_s=20))
    suite = Suite(name="edge-run", load=load,
                  scenarios=[Scenario(name="region-outage",
                                      experiment=Path("experiments/outage.json"))],
                  slos=slos or [AvailabilitySlo(kind="availability", objective=0.5)],
                  measurement=Measurement(bucket_s=1.0))
    (run_dir / "suite.json").write_text(json.dumps(suite.model_dump(mode="json")))
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        for record in sorted(_records(), key=lambda r: r.scheduled_s):
            writer.write(record)
    log = EventLog(run_dir / "events.jsonl")
    log.emit(EventKind.RUN_START, t_s=T0 - 1)
    log.emit(EventKind.LOAD_START, t_s=T0)
    log.emit(EventKind.WARMUP_END, t_s=T0 + 2)
    log.emit(EventKind.SCENARIO_START, "region-outage", t_s=T0 + 9.5)
    log.emit(EventKind.FAULT_START, "region-outage", t_s=T0 + 10, target_region="region-a")
    log.emit(EventKind.FAULT_END, "region-outage", t_s=T0 + 14, target_region="region-a")
    log.emit(EventKind.SCENARIO_END, "region-outage", t_s=T0 + 14.5, deviated=False)
    log.emit(EventKind.LOAD_END, t_s=T0 + 20.1)
    log.emit(EventKind.RUN_END, t_s=T0 + 20.5)
    (run_dir / "journal-region-outage.json").write_text(json.dumps(
        {"status": "completed", "deviated": False, "rollbacks": [{"status": "succeeded"}]}))
    waf = [{"t_s": T0 + 5, "label": "sqli", "method": "POST", "uri": "/tabular/predict",
            "status": 403, "blocked": True, "score": 10, "rules": [942100, 949110],
            "mode": "blocking"} for _ in range(3)]
    waf.append({**waf[0], "status": 200, "blocked": False, "score": 3, "rules": [942100]})
    (run_dir / "waf.jsonl").write_text("".join(json.dumps(line) + "\n" for line in waf))
    if sweep is not None:
        (run_dir / "edge-sweep.json").write_text(sweep)
    return run_dir


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    run_dir = write_edge_run(tmp_path_factory.mktemp("edge") / "20260101T000000Z-edge-run")
    build_reports(run_dir)
    return run_dir


def _cell(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[html.index(">", start) + 1:html.index("<", start)]


def test_the_page_has_the_waf_verdicts_per_class(built):
    html = (built / "report.html").read_text()
    assert '<h2 id="edge">Edge: WAF and cache</h2>' in html
    assert (_cell(html, "waf-tp-sqli"), _cell(html, "waf-fn-sqli")) == ("3", "1")
    assert _cell(html, "waf-rate-sqli") == "75.000%"
    assert (_cell(html, "waf-fp-benign"), _cell(html, "waf-tn-benign")) == ("0", "4")
    assert _cell(html, "waf-rate-benign") == "0.000%"
    assert _cell(html, "waf-rules-sqli") == "942100 ×4"
    assert _cell(html, "waf-tp-attacks") == "3"
    assert "inbound anomaly threshold 5" in _cell(html, "waf-mode")


def test_the_page_has_what_the_waf_adds_to_latency(built):
    html = (built / "report.html").read_text()
    # with the WAF: the ok misses (20 ms; hits and labelled requests left out); without: 15 ms
    assert _cell(html, "waf-added-p50-tabular-predict") == "+5.0 ms"
    assert _cell(html, "waf-added-p99-tabular-predict") == "+5.0 ms"


def test_the_page_has_the_cache_and_what_it_served_in_the_outage(built):
    html = (built / "report.html").read_text()
    # after the warm-up: 180 through the cache; served 70 hits outside the outage + 30 stale
    assert _cell(html, "cache-hit-ratio") == f"{100 / 180:.3%}"
    assert _cell(html, "cache-served-region-outage") == "30"
    assert _cell(html, "cache-stale-region-outage") == "30"
    assert _cell(html, "cache-failed-region-outage") == "10"
    assert _cell(html, "cache-ratio-region-outage") == "75.000%"
    assert 'id="cache-hit-ratio-chart"' in html and 'id="edge-sweep"' in html
    # below the timeline and the cost section, above the SLO table
    assert html.index('id="cost"') < html.index('id="edge"') < html.index("<h2>SLOs</h2>")


def test_the_hit_ratio_chart_shades_the_fault_window(built):
    folder = read_run_folder(built)
    summary = summarize(folder)
    figures = edge_figures(folder, summary)
    figure = cache_hit_figure(summary, figures.cache)
    [shade] = figure.layout.shapes
    assert (shade.x0, shade.x1) == (pytest.approx(10.0), pytest.approx(14.0))
    ratio = figure.data[0]
    # 10-11 s: k = 100..109, of which 100, 104 and 108 failed: 7 stale answers of 10
    assert ratio.x[10] == pytest.approx(10.5) and ratio.y[10] == pytest.approx(70.0)
    assert ratio.y[3] == pytest.approx(50.0)  # 5 hits of 10 answers outside the outage


def test_summary_json_has_the_edge_figures_and_keeps_the_edge_key(built):
    document = json.loads((built / "summary.json").read_text())
    edge = document["edge_figures"]
    sqli = next(c for c in edge["waf"]["classes"] if c["label"] == "sqli")
    assert (sqli["true_positives"], sqli["false_negatives"]) == (3, 1)
    assert sqli["blocked_rate"] == pytest.approx(0.75)
    assert edge["waf"]["false_positive_rate"] == 0.0
    assert edge["waf"]["counted_as"] == "blocking"
    [latency] = edge["latency"]
    assert latency["added_p50_s"] == pytest.approx(0.005, abs=1e-6)
    assert edge["cache"]["hit_ratio"] == pytest.approx(100 / 180)
    [window] = edge["cache"]["windows"]
    assert (window["served"], window["stale"], window["failed"]) == (30, 30, 10)
    assert [p["setting"] for p in edge["sweep"]] == ["fast", "default", "lazy"]
    assert document["edge"] is None  # the edge's server view: no edge.jsonl in this run


def test_the_markdown_summary_has_a_short_edge_block(built):
    text = (built / "summary.md").read_text()
    assert "**Edge**:" in text
    assert "75.000% of 4 attack requests blocked at the edge" in text
    assert "WAF adds +5.0 ms at p50" in text
    assert "during faults it served 30 answers (30 stale), 10 requests failed" in text


def test_a_run_without_edge_data_has_no_edge_section(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run")
    build_reports(run_dir)
    assert 'id="edge"' not in (run_dir / "report.html").read_text()
    assert json.loads((run_dir / "summary.json").read_text())["edge_figures"] is None
    assert "**Edge**" not in (run_dir / "summary.md").read_text()


def test_an_empty_waf_log_alone_is_no_edge_data(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run")
    (run_dir / "waf.jsonl").write_text("")  # every local run saves one, if only empty
    build_reports(run_dir)
    assert 'id="edge"' not in (run_dir / "report.html").read_text()


def test_a_sweep_alone_gives_the_section_with_its_chart(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run")
    (run_dir / "edge-sweep.json").write_text(json.dumps(SWEEP))
    build_reports(run_dir)
    html = (run_dir / "report.html").read_text()
    assert 'id="edge-sweep"' in html and 'id="waf-none"' in html and 'id="cache-none"' in html


def test_a_damaged_sweep_is_named_and_the_rest_is_shown(tmp_path):
    run_dir = write_edge_run(tmp_path / "run", sweep='[{"setting": "fast"}]')
    build_reports(run_dir)
    html = (run_dir / "report.html").read_text()
    assert "edge-sweep.json: not a sweep: point 0: KeyError" in _cell(html, "edge-sweep-error")
    assert _cell(html, "waf-tp-sqli") == "3"


def test_rto_vs_flapping_plots_each_setting_and_marks_the_unrecovered():
    figure = rto_vs_flapping(SWEEP)
    traces = {trace.name: trace for trace in figure.data}
    assert set(traces) == {"observe layer7", "observe none (never recovered)"}
    layer7 = traces["observe layer7"]
    assert list(layer7.x) == [4, 0] and list(layer7.y) == [0.6, 1.4]
    assert list(layer7.text) == ["fast", "default"]
    lazy = traces["observe none (never recovered)"]
    assert lazy.marker.symbol == "x" and lazy.y[0] == pytest.approx(1.4 * 1.15)


def test_labelled_requests_are_left_out_of_the_slis(built):
    """An attack the WAF passed (ok False) or refused (ok True) is the edge section's to
    judge; the availability and latency of users' requests never see it."""
    folder = read_run_folder(built)
    assert len(folder.requests.ok) == 240  # 200 ordinary + 40 without the WAF, 8 labelled out


@pytest.mark.parametrize(("minimum", "passed"), [(0.75, True), (0.9, False)])
def test_a_waf_slo_gates_the_verdict_and_is_a_junit_case(tmp_path, minimum, passed):
    # the labelled set: 3 of 4 sqli blocked, 0 of 4 benign
    run_dir = write_edge_run(tmp_path / "20260101T000000Z-edge-run", sweep=None, slos=[
        WafSlo(kind="waf", attack_class="sqli", min_blocked_rate=minimum)])
    build_reports(run_dir)
    summary = json.loads((run_dir / "summary.json").read_text())
    (result,) = summary["slos"]
    assert (result["kind"], result["measured"], result["passed"]) == ("waf", 0.75, passed)
    assert (summary["verdict"], summary["exit_code"]) == (("pass", 0) if passed else ("fail", 1))
    junit = (run_dir / "junit.xml").read_text()
    assert 'testcase name="waf.sqli.blocked"' in junit
    assert ("<failure" in junit) is not passed
