from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from gameday.measure import RequestArrays
from gameday.records import EdgeServerSample, append_edge_samples
from reports import build_reports
from reports.html import render_html
from reports.run_folder import RunFolder
from reports.summary import summarize
from tests.html_refs import external_references


class _TextById(HTMLParser):
    """The text of every element that has an id (ids are unique on the page)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, str] = {}
        self.attributes: dict[str, dict[str, str | None]] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self._open.append(values.get("id"))
        if values.get("id"):
            self.attributes[values["id"]] = values
            self.text[values["id"]] = ""

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in self._open:
            if element_id:
                self.text[element_id] += data


def _by_id(run_dir: Path) -> _TextById:
    parser = _TextById()
    parser.feed((run_dir / "report.html").read_text())
    return parser


def _figure(run_dir: Path) -> dict:
    """The timeline's plotly figure as the page embeds it (data and layout)."""
    html = (run_dir / "report.html").read_text()
    call = html[html.rindex("Plotly.newPlot("):]
    start = call.index("[")
    data, end = json.JSONDecoder().raw_decode(call, start)
    layout, _ = json.JSONDecoder().raw_decode(call, call.index("{", end))
    return {"data": data, "layout": layout}


def test_the_report_is_one_self_contained_file(built_sample):
    run_dir, _ = built_sample
    html = (run_dir / "report.html").read_text()
    parser = external_references(html)
    assert parser.found == []
    assert parser.inline_scripts >= 2  # plotly.js itself and the figure
    assert "@import" not in html and "fonts.googleapis" not in html


def test_the_verdict_element_says_the_run_passed(built_sample):
    # not `"PASS" in html`: the inlined plotly.js contains STENCIL_PASS_DEPTH_FAIL
    run_dir, _ = built_sample
    page = _by_id(run_dir)
    assert page.text["verdict"] == "PASS"
    assert page.attributes["verdict"]["data-verdict"] == "pass"


def test_the_verdict_element_says_a_failed_run_failed(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run",
                                      trouble=sample.SampleTrouble(deviated=True))
    build_reports(run_dir)
    assert _by_id(run_dir).text["verdict"] == "FAIL"


def test_the_scenario_row_shows_the_rto_of_summary_json(built_sample):
    run_dir, _ = built_sample
    [scenario] = json.loads((run_dir / "summary.json").read_text())["scenarios"]
    assert _by_id(run_dir).text[f"rto-{scenario['name']}"] == f"{scenario['rto']['rto_s']:.2f} s"


def test_a_saturated_run_carries_the_generator_banner(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run", saturated=True)
    build_reports(run_dir)
    html = (run_dir / "report.html").read_text()
    assert "Generator saturated" in html and _by_id(run_dir).text["verdict"] == "INCONCLUSIVE"


def test_an_interrupted_run_says_so_in_a_banner(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run",
                                      trouble=sample.SampleTrouble(load_stopped_by="SIGINT"))
    build_reports(run_dir)
    page = _by_id(run_dir)
    assert page.text["verdict"] == "ERROR"
    assert page.text["interrupted"].startswith("Interrupted. The load generator was stopped by "
                                               "SIGINT before the end of its schedule")
    assert "not a verdict on the system under test" in page.text["interrupted"]
    html = (run_dir / "report.html").read_text()
    assert html.count('<tr class="not-judged">') == 3 and '<tr class="pass">' not in html


def test_a_failed_rollback_says_what_is_still_injected(tmp_path, sample):
    trouble = sample.SampleTrouble(rollback_failed=("nft table gameday_isolate",))
    run_dir = sample.write_sample_run(tmp_path / "run", trouble=trouble)
    build_reports(run_dir)
    assert "still injected: nft table gameday_isolate" in _by_id(run_dir).text["rollback-failed"]


def _values(array) -> np.ndarray:
    """A trace's array as the page holds it: a list, or plotly's packed binary."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"]))
    return np.array(array, dtype=float)


def test_the_errors_are_broken_down_by_kind_and_status_on_the_time_axis(built_sample):
    run_dir, summary = built_sample
    traces = {trace["name"]: trace for trace in _figure(run_dir)["data"]}
    kind, status = traces["http_5xx"], traces["HTTP 503"]
    assert kind["xaxis"] == "x4" and status["xaxis"] == "x5"
    # ground truth: the sample's only failures are 503s while region-a is down (10-11 s)
    records = RequestArrays.read(run_dir)
    bucket_s = summary.chart_bucket_s
    for trace in (kind, status):
        per_s, centres = _values(trace["y"]), _values(trace["x"])
        assert per_s.sum() * bucket_s == pytest.approx(np.count_nonzero(~records.ok))
        assert set(centres[per_s > 0] - bucket_s / 2) == {10.0}  # the bucket [10, 11)


def test_the_edge_view_has_a_row_per_server_coloured_by_state(built_sample):
    run_dir, _ = built_sample
    figure = _figure(run_dir)
    edge = {t["name"]: t for t in figure["data"] if t["name"].startswith("edge: ")}
    assert set(edge) == {"edge: up", "edge: down", "edge: maint"}
    down = edge["edge: down"]
    assert {y for y in down["y"] if y} == {"tabular-a-0 (region-a)", "tabular-a-1 (region-a)"}
    # region-a marked down 0.9 s into the outage (10 s after load start), up at 14.5 s
    assert down["x"][0] == pytest.approx(10.9) and down["x"][1] == pytest.approx(14.5)
    assert figure["layout"]["yaxis6"]["categoryarray"][-1] == "tabular-a-0 (region-a)"


def test_a_server_readmitted_after_the_load_ended_is_shown_back_up(tmp_path, sample):
    # a rollback that outlasted the load: the run's edge watch waited for the re-admission
    run_dir = sample.write_sample_run(tmp_path / "run")
    suite = json.loads((run_dir / "suite.json").read_text())
    load_end_s = suite["load"][0]["warmup_s"] + suite["load"][0]["duration_s"]
    append_edge_samples(run_dir, [
        EdgeServerSample(sample.T0_S + load_end_s - 1.0, "tabular", "tabular-a-0", "region-a",
                         False, "ready", "L4CON"),
        EdgeServerSample(sample.T0_S + load_end_s + 3.0, "tabular", "tabular-a-0", "region-a",
                         True, "ready", "L7OK")])
    build_reports(run_dir)
    (up,) = [t for t in _figure(run_dir)["data"] if t["name"] == "edge: up"]
    back_up = [x0 for x0, y in zip(up["x"][::3], up["y"][::3], strict=True)
               if y == "tabular-a-0 (region-a)"]
    assert max(back_up) == pytest.approx(load_end_s + 3.0)  # drawn, not cut at the load's end


def test_without_edge_jsonl_the_chart_says_the_edges_view_was_not_recorded(tmp_path, sample):
    run_dir = sample.write_sample_run(tmp_path / "run", edge=False)
    build_reports(run_dir)
    figure = _figure(run_dir)
    [note] = [a for a in figure["layout"]["annotations"]
              if a["text"] == "the edge's view was not recorded (no edge.jsonl in the run folder)"]
    assert (note["xref"], note["yref"]) == ("x6 domain", "y6 domain")
    # plotly draws only the subplots a trace refers to: without one the note lands in row 1
    # and the shared time axis (the last row's) disappears
    assert any(trace["xaxis"] == "x6" and trace["yaxis"] == "y6" for trace in figure["data"])
    assert json.loads((run_dir / "summary.json").read_text())["edge"] is None


def test_the_report_grows_with_buckets_not_with_requests(tmp_path, sample):
    sizes = []
    for rate_per_s in (50, 400):
        run_dir = sample.write_sample_run(tmp_path / f"rate-{rate_per_s}", rate_per_s=rate_per_s)
        build_reports(run_dir)
        sizes.append((run_dir / "report.html").stat().st_size)
    assert abs(sizes[1] - sizes[0]) < 10_000  # 8x the requests, same 30 buckets


def test_a_long_run_at_the_bucket_limit_keeps_the_page_small(sample):
    suite = sample.sample_suite()
    scheduled_s = np.arange(0.0, 4 * 3600.0, 0.5) + sample.T0_S  # 4 h: 1,440 chart buckets
    failed = (np.arange(scheduled_s.size) % 97) == 0  # failures in every bucket
    requests = RequestArrays(scheduled_s, scheduled_s, scheduled_s + 0.01, ~failed,
                             np.where(failed, "", "region-a"),
                             np.where(failed, 503, 200).astype(np.int32),
                             np.where(failed, "http_5xx", ""), np.full(scheduled_s.size, ""))
    summary = summarize(RunFolder(path=Path("long-run"), suite=suite, requests=requests,
                                  events=(), journals={}))
    html = render_html(summary)
    plotly_js = max(re.findall(r"<script[^>]*>.*?</script>", html, re.S), key=len)
    figure_bytes = len(html) - len(plotly_js)
    assert len(summary.buckets) > 1000
    assert figure_bytes < 500_000  # plotly.js (~4.7 MB) aside; about 320 kB today
