"""The Triton section of ``report.html`` (suites with the triton stack whose servers were
scraped): where server time went (queue or compute), the batch size the dynamic batcher
achieved and the throughput, per scope and per server, and the panels of
``reports.triton_charts``."""

from __future__ import annotations

from html import escape

from gameday.measure.triton import TritonFigures, TritonStats
from reports.html_table import table
from reports.numbers import ms, pct, rate
from reports.panels import figure_div
from reports.summary import Summary
from reports.triton_charts import triton_panels

__all__ = ["triton_section"]

_SCOPES = (("all", "all"), ("outside_faults", "outside faults"),
           ("during_faults", "during faults"))
_DEFINITIONS = (
    "From the Triton servers' own metrics, scraped every second (warm-up out). Batch size = "
    "inferences (batch rows) / model executions: how many rows the dynamic batcher gave each "
    "execution. Queue and compute time per request = the servers' cumulative queue and "
    "compute (input + infer + output) durations / successful requests over the same "
    "intervals; server time per request likewise from the request duration, and queue share "
    "= queue / request duration. Rates are each server's counts over the seconds it was "
    "scraped, summed over servers; a counter that went down (a restarted server) counts from "
    "zero. Queue p99 is Triton's own summary over its recent requests (the highest sampled). "
    "An interval that overlaps a fault window is during faults. — : nothing to measure (no "
    "request in it, or no GPU).")
_HEADERS = ["servers", "scrapes", "requests", "failures", "inferences/s", "requests/s",
            "failures/s", "batch size", "queue / request", "compute / request",
            "server / request", "queue share", "max pending", "queue p99 (max)", "GPU util",
            "GPU memory (max)"]
_IDS = {2: "triton-requests-{}", 4: "triton-inferences-{}", 5: "triton-requests-per-s-{}",
        7: "triton-batch-{}", 8: "triton-queue-{}", 9: "triton-compute-{}",
        11: "triton-queue-share-{}", 12: "triton-pending-{}", 14: "triton-gpu-{}"}


def triton_section(summary: Summary) -> list[str]:
    figures = summary.triton
    if figures is None:
        return []
    parts = ['<h2 id="triton">Triton: queue vs compute, batching, throughput</h2>',
             f'<div class="note" id="triton-definitions">{escape(_DEFINITIONS)}</div>',
             _scope_table(figures), "<h3>Per server</h3>", _member_table(figures)]
    parts += [figure_div(figure, div_id)
              for div_id, figure in triton_panels(summary)]
    return parts


def _scope_table(figures: TritonFigures) -> str:
    rows = [("", _row(f"every server, {label}", figures.scopes[scope]))
            for scope, label in _SCOPES]
    return table(_HEADERS, rows, empty="no Triton server was scraped", ids=_IDS,
                 row_keys=[scope for scope, _ in _SCOPES])


def _member_table(figures: TritonFigures) -> str:
    rows, keys = [], []
    for member, scopes in figures.members.items():
        for scope, label in _SCOPES:
            rows.append(("", _row(f"{member}, {label}", scopes[scope])))
            keys.append(f"{member}-{scope}")
    return table(_HEADERS, rows, empty="no Triton server answered a scrape", ids=_IDS,
                 row_keys=keys)


def _row(label: str, stats: TritonStats) -> list[str]:
    return [label, str(stats.scrapes), str(stats.requests), _failures(stats),
            rate(stats.inferences_per_s), rate(stats.requests_per_s),
            _rate2(stats.failures_per_s), _number(stats.batch_size),
            ms(stats.queue_per_request_s), ms(stats.compute_per_request_s),
            ms(stats.server_per_request_s), pct(stats.queue_share),
            "—" if stats.max_pending is None else str(stats.max_pending),
            ms(stats.queue_p99_max_s), pct(stats.gpu_utilization),
            _gib(stats.gpu_memory_used_max_bytes, stats.gpu_memory_total_bytes)]


def _failures(stats: TritonStats) -> str:
    reasons = ", ".join(f"{reason} {count}" for reason, count
                        in sorted(stats.failures_by_reason.items()) if count)
    return f"{stats.failures} ({reasons})" if reasons else str(stats.failures)


def _rate2(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} /s"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _gib(used: float | None, total: float | None) -> str:
    if used is None:
        return "—"
    of = "" if total is None else f" of {total / 2**30:.1f}"
    return f"{used / 2**30:.2f}{of} GiB"
