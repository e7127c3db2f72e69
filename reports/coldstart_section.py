"""The "cold starts" section of ``report.html``: each model server whose process started during
the run, phase by phase from its process start, and what the users got meanwhile
(``gameday.measure.coldstart``)."""

from __future__ import annotations

from html import escape

from gameday.measure.coldstart import ColdStartFigures
from reports.html_table import table
from reports.numbers import ms, seconds
from reports.summary import Summary

__all__ = ["cold_start_section"]

_DEFINITIONS = (
    "A cold start is a model server whose process started during the run (a killed server "
    "restarted, a region brought back). From the process start (the kernel's clock): to live "
    "(its liveness answered), to model ready (the model's readiness answered), to the first "
    "successful inference (the watch's probe, polled every 50 ms) and that inference's own "
    "latency. Probe failures: probe inferences that failed after it was live. First answer "
    "from its region: the first good answer users got from its region after the process "
    "start. Failed while starting: requests from any region scheduled from the process start "
    "to the first successful inference that got no good answer (during a fault window they "
    "are the fault's too).")
_HEADERS = ["member", "process start", "to live", "to model ready", "to first inference",
            "first inference latency", "probe failures", "first answer from its region",
            "failed while starting", "status"]
_IDS = {2: "cold-live-{}", 3: "cold-ready-{}", 4: "cold-first-{}", 5: "cold-latency-{}",
        6: "cold-probe-failures-{}", 7: "cold-region-{}", 8: "cold-failed-{}"}


def cold_start_section(summary: Summary) -> list[str]:
    starts = summary.cold_starts
    if starts is None:
        return []
    origin_s = summary.load_start_s or 0.0
    rows = [("pass" if not s.gave_up else "fail", _row(s, origin_s)) for s in starts]
    keys = [f"{s.member}-{number}" for number, s in enumerate(starts)]
    return ['<h2 id="cold-starts">Cold starts</h2>',
            f'<div class="note">{escape(_DEFINITIONS)}</div>',
            table(_HEADERS, rows, empty="no model server started during the run",
                  status_column=9, ids=_IDS, row_keys=keys)]


def _row(start: ColdStartFigures, origin_s: float) -> list[str]:
    return [f"{start.member} ({start.region})", f"+{start.process_start_s - origin_s:.2f} s",
            seconds(start.to_live_s), seconds(start.to_model_ready_s),
            seconds(start.to_first_inference_s), ms(start.first_inference_latency_s),
            str(start.probe_failures), seconds(start.to_first_region_answer_s),
            f"{start.failed_while_starting} of {start.requests_while_starting}",
            "gave up" if start.gave_up else "served"]
