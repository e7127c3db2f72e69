"""Triton's metrics text as samples, and ``triton.jsonl`` written and read back: the counters,
quantiles and GPU figures of a real server's text (``triton_metrics_cpu.txt``, scraped from
Triton 2.51 with summary latencies on), and damaged lines that name their file and line."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from gameday.tritonrecords import (
    TRITON_FILE,
    TritonSample,
    append_triton_samples,
    parse_triton_metrics,
    read_triton_samples,
)

CPU_TEXT = (Path(__file__).parent / "triton_metrics_cpu.txt").read_text()
GPU_LINES = """\
# HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0)
# TYPE nv_gpu_utilization gauge
nv_gpu_utilization{gpu_uuid="GPU-aaaa"} 0.25
nv_gpu_utilization{gpu_uuid="GPU-bbbb"} 0.75
# HELP nv_gpu_memory_total_bytes GPU total memory, in bytes
# TYPE nv_gpu_memory_total_bytes gauge
nv_gpu_memory_total_bytes{gpu_uuid="GPU-aaaa"} 8000000000
nv_gpu_memory_total_bytes{gpu_uuid="GPU-bbbb"} 8000000000
# HELP nv_gpu_memory_used_bytes GPU used memory, in bytes
# TYPE nv_gpu_memory_used_bytes gauge
nv_gpu_memory_used_bytes{gpu_uuid="GPU-aaaa"} 1000000000
nv_gpu_memory_used_bytes{gpu_uuid="GPU-bbbb"} 500000000
# HELP nv_gpu_power_usage GPU power usage in watts
# TYPE nv_gpu_power_usage gauge
nv_gpu_power_usage{gpu_uuid="GPU-aaaa"} 71.5
"""


def _parse(text: str) -> list[TritonSample]:
    return parse_triton_metrics(text, t_s=100.0, member="triton-server-a1", region="region-a")


def test_a_cpu_servers_metrics_give_one_sample_with_its_counters_and_quantiles() -> None:
    [sample] = _parse(CPU_TEXT)
    assert (sample.member, sample.region, sample.model, sample.version, sample.t_s) == (
        "triton-server-a1", "region-a", "fraud", "1", 100.0)
    assert (sample.inference_count, sample.exec_count, sample.request_success) == (60, 30, 30)
    assert sample.request_failure == 0
    assert sample.failure_by_reason == {"OTHER": 0, "BACKEND": 0, "CANCELED": 0,
                                        "REJECTED": 0}
    assert (sample.request_us, sample.queue_us) == (116954.0, 66850.0)
    assert (sample.compute_input_us, sample.compute_infer_us, sample.compute_output_us) == (
        1386.0, 42936.0, 5621.0)
    assert sample.pending_requests == 0
    assert (sample.queue_p50_us, sample.queue_p99_us) == (2116.0, 2329.0)
    assert (sample.request_p99_us, sample.compute_infer_p99_us) == (4678.0, 736.0)


def test_a_cpu_server_has_no_gpu_figures() -> None:
    [sample] = _parse(CPU_TEXT)
    assert sample.gpu_utilization is None
    assert sample.gpu_memory_used_bytes is None and sample.gpu_memory_total_bytes is None


def test_gpu_utilisation_is_the_mean_of_the_servers_gpus_and_memory_their_sum() -> None:
    [sample] = _parse(CPU_TEXT + GPU_LINES)
    assert sample.gpu_utilization == pytest.approx(0.5)
    assert sample.gpu_memory_used_bytes == 1.5e9
    assert sample.gpu_memory_total_bytes == 16e9


def test_failures_are_summed_over_their_reasons() -> None:
    text = CPU_TEXT.replace('reason="REJECTED",version="1"} 0',
                            'reason="REJECTED",version="1"} 7').replace(
        'reason="BACKEND",version="1"} 0', 'reason="BACKEND",version="1"} 2')
    [sample] = _parse(text)
    assert sample.request_failure == 9
    assert sample.failure_by_reason["REJECTED"] == 7 and sample.failure_by_reason["BACKEND"] == 2


def test_each_model_version_gets_a_sample_of_its_own() -> None:
    lines = []
    for line in CPU_TEXT.splitlines():  # version 2's series right after version 1's
        lines.append(line)
        if 'version="1"' in line:
            lines.append(line.replace('version="1"', 'version="2"'))
    text = "\n".join(lines).replace('nv_inference_count{model="fraud",version="2"} 60',
                                    'nv_inference_count{model="fraud",version="2"} 5')
    samples = _parse(text + "\n")
    assert [(s.model, s.version) for s in samples] == [("fraud", "1"), ("fraud", "2")]
    assert [s.inference_count for s in samples] == [60, 5]
    assert [s.exec_count for s in samples] == [30, 30]


def test_a_quantile_without_recent_requests_is_none() -> None:
    text = CPU_TEXT.replace('nv_inference_queue_summary_us{model="fraud",version="1",'
                            'quantile="0.99"} 2329',
                            'nv_inference_queue_summary_us{model="fraud",version="1",'
                            'quantile="0.99"} NaN')
    [sample] = _parse(text)
    assert sample.queue_p99_us is None and sample.queue_p50_us == 2116.0


def test_text_that_is_not_prometheus_exposition_raises_value_error() -> None:
    with pytest.raises(ValueError):
        _parse("<html>not metrics</html>\n")


def test_a_server_without_a_loaded_model_gives_no_samples() -> None:
    assert _parse("# TYPE nv_cpu_utilization gauge\nnv_cpu_utilization 0.1\n") == []


def test_samples_appended_in_two_writes_read_back_equal_and_in_time_order(
        tmp_path: Path) -> None:
    [first] = _parse(CPU_TEXT + GPU_LINES)
    later = replace(first, t_s=101.0, member="triton-server-b1", region="region-b",
                    failure_by_reason={"REJECTED": 3}, request_failure=3, queue_p99_us=None)
    append_triton_samples(tmp_path, [later])
    append_triton_samples(tmp_path, [first])
    append_triton_samples(tmp_path, [])
    assert read_triton_samples(tmp_path) == [first, later]
    assert len((tmp_path / TRITON_FILE).read_text().splitlines()) == 2


def test_a_run_without_triton_jsonl_has_no_samples(tmp_path: Path) -> None:
    assert read_triton_samples(tmp_path) == []


def test_the_torn_last_line_of_a_crashed_writer_is_skipped(tmp_path: Path) -> None:
    [sample] = _parse(CPU_TEXT)
    append_triton_samples(tmp_path, [sample])
    with (tmp_path / TRITON_FILE).open("a") as handle:
        handle.write('{"t_s": 101.0, "member": "triton-ser')
    assert read_triton_samples(tmp_path) == [sample]


@pytest.mark.parametrize("damage", ['{"t_s": 101.0, "member": "triton-ser',
                                    json.dumps({"t_s": "soon", "member": "x"}),
                                    json.dumps([1, 2])])
def test_a_damaged_line_raises_value_error_naming_the_file_and_line(
        tmp_path: Path, damage: str) -> None:
    [sample] = _parse(CPU_TEXT)
    append_triton_samples(tmp_path, [sample])
    with (tmp_path / TRITON_FILE).open("a") as handle:
        handle.write(damage + "\n")
    append_triton_samples(tmp_path, [sample])
    with pytest.raises(ValueError, match=rf"{tmp_path / TRITON_FILE}: line 2: not a Triton"):
        read_triton_samples(tmp_path)
