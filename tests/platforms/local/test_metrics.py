"""The local platform's Prometheus: it scrapes every member (members added at run time too),
the resource exporter's CPU seconds are the CPU the processes really used, and a run's
snapshot says what it could not save instead of failing."""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from gameday.metrics import Prometheus, save_snapshot
from gameday.platforms.local.platform import LocalPlatform
from tests.platforms.local.conftest import free_port
from tests.platforms.local.test_scale import _open_load


def _targets_up(prometheus: Prometheus) -> dict[str, str]:
    return {t["labels"].get("replica", ""): t["health"] for t in prometheus.targets()}


def _wait_targets(prometheus: Prometheus, wanted: set[str], timeout_s: float = 20.0) -> None:
    deadline_s = time.monotonic() + timeout_s
    while time.monotonic() < deadline_s:
        health = _targets_up(prometheus)
        if all(health.get(name) == "up" for name in wanted):
            return
        time.sleep(0.5)
    raise AssertionError(f"targets not all up within {timeout_s:g} s: {_targets_up(prometheus)}")


def _prometheus(platform: LocalPlatform) -> Prometheus:
    url = platform.prometheus_url()
    assert url is not None
    return Prometheus(url)


def test_every_member_is_scraped_every_second(local_platform: LocalPlatform) -> None:
    prometheus = _prometheus(local_platform)
    members = {m.name for m in local_platform.members(stack="tabular")}
    assert members == {"tabular-api-a1", "tabular-api-a2", "tabular-api-b1", "tabular-api-b2"}
    _wait_targets(prometheus, members | {"edge-haproxy", "metrics-prometheus",
                                         "metrics-resources"})
    time.sleep(5)
    rows = prometheus.instant("sum by (replica) (count_over_time(up[5s]))")
    samples = {row["metric"]["replica"]: float(row["value"][1]) for row in rows}
    assert all(samples[name] >= 4 for name in members), samples  # 1 s scrapes
    # the stacks' own metrics and HAProxy's exporter arrive under the member's labels
    served = prometheus.instant('haproxy_process_start_time_seconds{replica="edge-haproxy"}')
    assert served and served[0]["metric"]["stack"] == "edge"
    model = prometheus.instant("tabular_model_info")
    assert {row["metric"]["replica"] for row in model} == members


def _member_cpu_s(platform: LocalPlatform) -> dict[str, float]:
    """psutil's own reading, not the exporter's code: the main process and its children."""
    found: dict[str, float] = {}
    for member in platform.members(stack="tabular"):
        assert member.pid is not None
        main = psutil.Process(member.pid)
        total = 0.0
        for proc in [main, *main.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
        found[member.name] = total
    return found


def _counter_at(prometheus: Prometheus, t_s: float) -> dict[str, float]:
    rows = prometheus.range('gameday_member_cpu_seconds_total{stack="tabular"}', t_s - 1,
                            t_s + 1, 1.0)
    return {row["metric"]["replica"]: float(row["values"][-1][1]) for row in rows}


def test_cpu_seconds_are_the_cpu_the_members_really_used(
        local_platform: LocalPlatform) -> None:
    prometheus = _prometheus(local_platform)
    # quiet edges: the counters are flat where the two readings are taken
    time.sleep(2)
    before_s, before = time.time(), _member_cpu_s(local_platform)
    time.sleep(1.5)
    with _open_load(local_platform) as load:
        load.rate_per_s = 150.0
        time.sleep(8)
    time.sleep(2.5)
    after_s, after = time.time(), _member_cpu_s(local_platform)
    time.sleep(2.5)  # a scrape after the reading
    used_s = sum(after[name] - before[name] for name in before)
    start, end = _counter_at(prometheus, before_s), _counter_at(prometheus, after_s)
    scraped_s = sum(end[name] - start[name] for name in before)
    assert used_s > 1.0, used_s  # the load really cost something
    assert abs(scraped_s - used_s) <= 0.05 * used_s, (scraped_s, used_s)
    # a count, not a rate: a loaded machine's client sends 700 or 1,200 in the 8 s
    assert len(load.answers) > 100 and all(status == 200 for _, status, _ in load.answers)
    print(f"CPU used {used_s:.3f} s (psutil), scraped {scraped_s:.3f} s "
          f"({(scraped_s / used_s - 1) * 100:+.2f} %)")


def test_a_member_added_at_run_time_is_scraped(local_platform: LocalPlatform) -> None:
    prometheus = _prometheus(local_platform)
    local_platform.scale("tabular", "api", "region-a", 3)
    try:
        _wait_targets(prometheus, {"tabular-api-a3"}, timeout_s=10)
        rows = prometheus.instant('gameday_member_up{replica="tabular-api-a3"}')
        assert rows and rows[0]["metric"]["region"] == "region-a"
    finally:
        local_platform.scale("tabular", "api", "region-a", 2)


def test_the_snapshot_saves_the_series_of_the_run(local_platform: LocalPlatform,
                                                  tmp_path: Path) -> None:
    index = save_snapshot(local_platform.prometheus_url(), tmp_path, time.time() - 20,
                          time.time())
    assert index["error"] == "" and index["errors"] == {}
    assert {"cpu_seconds", "resident_bytes", "member_up", "gpus"} <= set(index["saved"])
    assert "triton_pending" in index["empty"]  # no Triton here: nothing to save, no error
    assert (tmp_path / "metrics" / "cpu_seconds.json").exists()


def test_a_snapshot_with_prometheus_down_says_so(tmp_path: Path) -> None:
    index = save_snapshot(f"http://127.0.0.1:{free_port()}", tmp_path, time.time() - 20,
                          time.time())
    assert index["saved"] == [] and "targets" in index["error"]
    assert (tmp_path / "metrics" / "index.json").exists()
    assert save_snapshot(None, tmp_path, 0, 1)["error"] == "the platform runs no Prometheus"
