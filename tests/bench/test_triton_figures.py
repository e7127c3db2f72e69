"""The Triton bench's pure figures (``bench/triton.py``): what limits a closed loop, a cell's
rates and CPU shares, the batch Triton executed between two metric scrapes. Nothing timed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gameday.tritonrecords import TritonSample


def _bench() -> ModuleType:
    # bench/ is a folder of scripts, not a package; loaded under a name that shadows nothing
    path = Path(__file__).resolve().parents[2] / "bench" / "triton.py"
    spec = importlib.util.spec_from_file_location("gameday_bench_triton", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


bench = _bench()


@pytest.mark.parametrize(("machine", "client", "busiest", "instance", "expected"), [
    (1.8, 0.9, 0.8, 0.0, "machine CPU"),  # both cores full: the client's share does not matter
    (1.2, 0.95, 0.2, 0.0, "client CPU"),
    (1.3, 0.3, 0.9, 0.0, "server CPU"),
    (0.8, 0.3, 0.4, 0.9, "model instance"),
    (0.5, 0.2, 0.2, 0.3, "latency"),
])
def test_limit_is_the_first_resource_that_is_busy(machine: float, client: float,
                                                   busiest: float, instance: float,
                                                   expected: str) -> None:
    assert bench.limiting_resource(machine, client, busiest, 2, instance) == expected


def test_cell_counts_answered_requests_per_second_and_cpu_as_cores() -> None:
    cpu = bench.CpuSeconds(client_s=1.0, server_s={"tritonserver": 1.5, "stub": 0.5},
                           machine_s=3.8)
    cell = bench.cell_figures([0.001] * 98 + [0.010, 0.020], 2, 2.0, cpu)
    assert cell["req_per_s"] == 49.0  # 100 answered, 2 of them wrong, over 2 s
    assert cell["p50_ms"] == pytest.approx(1.0)
    assert cell["client_cpu_cores"] == 0.5 and cell["server_cpu_cores"] == 1.0
    assert cell["other_cpu_cores"] == pytest.approx(0.4)
    assert cell["client_cpu_us_per_req"] == pytest.approx(10_000)


def test_cpu_seconds_since_subtracts_each_process() -> None:
    before = bench.CpuSeconds(1.0, {"tritonserver": 2.0}, 10.0)
    after = bench.CpuSeconds(1.5, {"tritonserver": 2.5, "triton_python_backend_stub": 0.25},
                             11.5)
    assert after.since(before) == bench.CpuSeconds(
        0.5, {"tritonserver": 0.5, "triton_python_backend_stub": 0.25}, 1.5)


def _sample(**counters: float) -> TritonSample:
    return TritonSample(t_s=0.0, member="m", region="", model="fraud", version="1",
                        **counters)  # type: ignore[arg-type]


def test_batch_is_rows_per_execution_and_the_instance_share_follows() -> None:
    before = _sample(inference_count=10, exec_count=10, request_success=10, queue_us=100.0,
                     compute_infer_us=1000.0)
    after = _sample(inference_count=810, exec_count=110, request_success=810,
                    queue_us=80_100.0, compute_infer_us=401_000.0)
    batch = bench.batch_figures(before, after, req_per_s=4000.0)
    assert batch["avg_batch"] == 8.0
    assert batch["queue_us_per_request"] == 100.0
    assert batch["compute_us_per_request"] == 500.0
    # 4000 req/s in batches of 8: 500 executions a second of 500 us each on one instance
    assert batch["instance_busy"] == pytest.approx(0.25)


def test_no_executions_gives_no_batch() -> None:
    batch = bench.batch_figures(_sample(), _sample(), req_per_s=0.0)
    assert batch["avg_batch"] is None and batch["instance_busy"] == 0.0
