"""The "model releases" section of ``report.html``: per release scenario, what was released,
how it ended, how long the analysis took to catch a bad version and the rollback to stop it,
and the requests it harmed (``gameday.measure.release``); per canary step, every measurement
of its analysis with its value and its verdict (what Argo Rollouts users ask to see)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from gameday.measure.release import ReleaseOutcome
from reports.html_table import table
from reports.numbers import pct, seconds
from reports.summary import Summary

__all__ = ["release_markdown", "release_section"]

_DEFINITIONS = (
    "Time to detect: from the release taking traffic to its analysis' failing verdict. Time to "
    "roll back: from that verdict (or the rollback decision) to the end of the last request "
    "the release answered. Served: requests the release answered; a canary's share against "
    "the share its weights promised of its region's requests. Harmed: its answers that failed "
    "or were slower than the latency bound; when its analysis failed on answer quality (the "
    "shadow set), every answer it gave. Blue-green: failed requests scheduled within 2 s of "
    "the switch, and mixed answers (from the old colour, begun after the first answer from "
    "the new one ended); the goal is none of either.")
_HEADERS = ["scenario", "release", "outcome", "time to detect", "time to roll back",
            "served", "harmed", "switch: failed / mixed"]
_IDS = {2: "release-outcome-{}", 3: "release-detect-{}", 4: "release-rollback-{}",
        5: "release-served-{}", 6: "release-harmed-{}", 7: "release-switch-{}"}
_STEP_HEADERS = ["step", "share", "metric", "at", "value", "verdict"]


def release_section(summary: Summary) -> list[str]:
    releases = summary.releases
    if not releases:
        return []
    rows = [("ok" if r.outcome in ("promoted", "switched") or r.harmed == 0 else "breach",
             _row(r)) for r in releases]
    parts = ['<h2 id="releases">Model releases</h2>',
             f'<div class="note">{escape(_DEFINITIONS)}</div>',
             table(_HEADERS, rows, ids=_IDS, row_keys=[r.scenario for r in releases])]
    for release in releases:
        if release.steps:
            parts += [f"<h3>Analysis of {escape(release.scenario)} "
                      f"(v{escape(release.version)})</h3>", _steps(release)]
    return parts


def _row(release: ReleaseOutcome) -> list[str]:
    served = f"{release.served:,}"
    if release.served_share is not None and release.expected_share is not None:
        served += f" ({pct(release.served_share)} of its region; weights: " \
                  f"{pct(release.expected_share)})"
    switch = "—" if release.switch_failed is None else \
        f"{release.switch_failed} / {release.mixed}"
    verdict = f" ({release.decision_phase})" if release.decision_phase else ""
    return [release.scenario, f"{release.kind} v{release.version}",
            release.outcome + verdict, seconds(release.time_to_detect_s),
            _roll_back(release), served,
            f"{release.harmed:,} ({release.failed} failed, {release.slowed} slowed)", switch]


def _roll_back(release: ReleaseOutcome) -> str:
    if release.served_until_decision is False:
        return f"{seconds(0.0)} (its last answer ended before the decision)"
    return seconds(release.time_to_roll_back_s)


def _clock(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, UTC).strftime("%H:%M:%S.%f")[:-3]


def _steps(release: ReleaseOutcome) -> str:
    rows = []
    for number, step in enumerate(release.steps, start=1):
        for measured in step.measurements:
            value = measured.get("value")
            rows.append(("breach" if measured.get("phase") == "Failed" else "", [
                f"{number} ({step.phase})", pct(step.share), str(measured.get("metric")),
                _clock(float(measured.get("t_s", 0.0))),
                "no data" if value is None else f"{float(value):.4g}",
                f"{measured.get('phase')}: {measured.get('detail', '')}"]))
    return table(_STEP_HEADERS, rows, empty="no measurement taken")


def release_markdown(summary: Summary) -> list[str]:
    """summary.md: one line per release scenario."""
    if not summary.releases:
        return []
    lines = ["", "### Model releases", ""]
    for r in summary.releases:
        parts = [f"**{r.scenario}**: {r.kind} v{r.version} {r.outcome}"]
        if r.time_to_detect_s is not None:
            parts.append(f"detected in {seconds(r.time_to_detect_s)}")
        if r.served_until_decision is False:
            parts.append("none of its answers ended after the decision")
        elif r.time_to_roll_back_s is not None:
            parts.append(f"last answer {seconds(r.time_to_roll_back_s)} after the decision")
        parts.append(f"{r.served:,} answers, {r.harmed:,} harmed")
        if r.switch_failed is not None:
            parts.append(f"switch: {r.switch_failed} failed, {r.mixed} mixed")
        lines.append("- " + ", ".join(parts))
    return lines
