"""The edge bench's pure parts (``bench/edge.py``): reading wrk, counting a server's
up -> down transitions from polled edge samples, the kill's RTO and the sweep's points,
on synthetic data. Nothing timed, no platform."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gameday.records import EdgeServerSample, RequestRecord


def _bench() -> ModuleType:
    # bench/ is a folder of scripts, not a package; loaded under a name that shadows nothing
    path = Path(__file__).resolve().parents[2] / "bench" / "edge.py"
    spec = importlib.util.spec_from_file_location("gameday_bench_edge", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _bench()

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:8080/tabular/predict
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.12ms    1.02ms   1.20s    85.12%
    Req/Sec     1.95k   100.00     2.10k    70.00%
  Latency Distribution
     50%  812.00us
     75%    4.50ms
     90%    5.20ms
     99%    1.20s
  5834 requests in 3.00s, 1.23MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:   1944.12
Transfer/sec:    420.10KB
"""


def test_wrk_output_gives_rate_percentiles_in_ms_and_the_failures() -> None:
    figures = bench.parse_wrk(WRK_OUTPUT)
    assert figures == {"requests_per_s": 1944.12, "p50_ms": pytest.approx(0.812),
                       "p99_ms": pytest.approx(1200.0), "non_2xx": 12.0, "socket_errors": 3.0}


def test_wrk_output_without_a_rate_is_an_error_not_a_zero() -> None:
    with pytest.raises(RuntimeError, match="could not read wrk"):
        bench.parse_wrk("unable to connect to 127.0.0.1:8080 Connection refused\n")


def _polled(server: str, region: str, states: list[tuple[float, bool, str]]) -> list[
        EdgeServerSample]:
    return [EdgeServerSample(t_s=t_s, backend="tabular", server=server, region=region, up=up,
                             admin=admin) for t_s, up, admin in states]


def test_each_up_to_down_change_inside_the_window_counts_once() -> None:
    flapping = _polled("tabular-api-a-0", "region-a", [
        (10.0, True, "ready"), (10.1, True, "ready"),
        (10.2, False, "ready"), (10.3, False, "ready"),  # down, seen twice: one transition
        (10.4, True, "ready"), (10.5, False, "ready"),  # and a second one
        (10.6, True, "ready")])
    assert bench.up_to_down_transitions(flapping, "region-a", 10.0, 11.0) == 2


def test_changes_outside_the_window_other_regions_and_draining_do_not_count() -> None:
    samples = [
        *_polled("tabular-api-a-0", "region-a", [
            (1.0, True, "ready"), (1.5, False, "ready"),  # before the window
            (2.0, True, "ready"), (3.0, True, "drain"),  # draining is not a failover
            (9.0, False, "ready")]),  # after it
        *_polled("tabular-api-b-0", "region-b", [(2.0, True, "ready"), (3.0, False, "ready")]),
    ]
    assert bench.up_to_down_transitions(samples, "region-a", 2.0, 5.0) == 0
    assert bench.up_to_down_transitions(samples, "region-b", 2.0, 5.0) == 1


def test_a_server_first_seen_down_is_not_a_transition() -> None:
    samples = _polled("tabular-api-a-0", "region-a", [(2.0, False, "ready"),
                                                      (2.5, False, "ready")])
    assert bench.up_to_down_transitions(samples, "region-a", 0.0, 5.0) == 0


def _records(kill_s: float, outage_s: float, *, rate_per_s: float = 50.0,
             end_s: float = 20.0) -> list[RequestRecord]:
    """Paced requests from 0 to ``end_s``; every one scheduled in the outage fails."""
    records = []
    for index in range(int(end_s * rate_per_s)):
        scheduled_s = index / rate_per_s
        failed = kill_s <= scheduled_s < kill_s + outage_s
        records.append(RequestRecord(
            scheduled_s=scheduled_s, start_s=scheduled_s, end_s=scheduled_s + 0.005,
            stack="tabular", endpoint="predict", region="" if failed else (
                "region-b" if scheduled_s >= kill_s else "region-a"),
            status=503 if failed else 200, ok=not failed,
            error_kind="http_5xx" if failed else ""))
    return records


def test_kill_rto_ends_at_the_first_request_after_which_five_seconds_all_succeed() -> None:
    rto = bench.kill_rto(_records(kill_s=5.0, outage_s=1.2), kill_s=5.0)
    assert rto.rto_s == pytest.approx(1.2, abs=0.02 + 1e-9)  # the request spacing
    assert rto.failed_requests == 60
    assert rto.failover_s == pytest.approx(1.2 + 0.005, abs=0.021)


def test_kill_rto_is_none_when_the_data_ends_before_a_full_stability_window() -> None:
    rto = bench.kill_rto(_records(kill_s=5.0, outage_s=12.0, end_s=20.0), kill_s=5.0)
    assert rto.rto_s is None and not rto.recovered


def test_a_sweep_point_has_exactly_the_reports_keys_and_sums_both_phases_failures() -> None:
    rto = bench.kill_rto(_records(kill_s=5.0, outage_s=1.0), kill_s=5.0)
    point = bench.sweep_point("default", bench.SETTINGS["default"], rto, spurious=3,
                              lossy_failed=7)
    assert point == {"setting": "default", "inter_ms": 500, "fall": 2, "rise": 2,
                     "observe": "layer7", "rto_s": rto.rto_s, "spurious_failovers": 3,
                     "failed_requests": 7 + 50}


def test_summary_lines_name_every_setting_and_an_unrecovered_kill() -> None:
    case = {"requests_per_s": 100.0, "p50_ms": 5.0, "p99_ms": 9.0}
    point = {"setting": "conservative", "inter_ms": 1000, "fall": 3, "rise": 2,
             "observe": "none", "rto_s": None, "spurious_failovers": 0, "failed_requests": 9}
    figures = {"waf": {"cases": {"waf": case, "no_waf": case, "haproxy": case},
                       "waf_vs_no_waf_throughput": 1.0, "no_waf_vs_haproxy_throughput": 1.0,
                       "client": "wrk", "connections": 8, "cpus": 2},
               "cache": {"hit_vs_miss_p50": 0.2, "hit_vs_miss_p99": 0.3, "requests_each": 5,
                         "hit": {"p50_ms": 1.0}, "miss": {"p50_ms": 5.0},
                         "hits_as_expected": 5, "misses_as_expected": 5},
               "sweep": [point]}
    lines = bench.summary_lines(figures)
    assert "RTO none" in lines[-1] and "conservative" in lines[-1]


def test_the_sweep_page_stands_alone_and_plots_every_setting(tmp_path: Path) -> None:
    points = [{"setting": name, "inter_ms": 500, "fall": 2, "rise": 2, "observe": "layer7",
               "rto_s": rto_s, "spurious_failovers": spurious, "failed_requests": 4}
              for name, rto_s, spurious in (("default", 0.1, 0), ("aggressive", 0.06, 6),
                                            ("never", None, 0))]
    page = tmp_path / "sweep.html"
    bench.write_sweep_page(page, points)
    html = page.read_text()
    assert "<script src=" not in html  # plotly.js inlined: the page opens offline
    for name in ("default", "aggressive", "never"):
        assert f'"{name}"' in html
    assert "never recovered" in html
