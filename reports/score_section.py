"""The report's resilience score (``gameday.measure.score``): the run's score, each
scenario's with its components (what was measured, what failed and when, where to look)."""

from __future__ import annotations

from html import escape

from gameday.measure.score import RunScore, ScenarioScore
from reports.html_table import table
from reports.summary import Summary

__all__ = ["score_markdown", "score_section"]

_HEADERS = ["part", "component", "score", "weight", "measured", "what failed, when",
            "where to look"]
_NOTE = ("0–100. A scenario: the weighted mean of its components — recovery (RTO against "
         "its objective, 0 at twice it; weight 3), error budget (the fault window's burn rate, "
         "1 at 1x, 0 at 10x; weight 3), its RPO / write RTO / split-brain SLOs (met or not; "
         "weight 3 each), the steady-state hypothesis (weight 1); a failed rollback makes it "
         "0; an aborted scenario is not scored. Steady state: the run-wide SLOs. The run: the "
         "mean of the parts. Formula and examples: docs/score.md.")


def score_section(summary: Summary) -> list[str]:
    score = summary.score
    if score is None:
        return []
    parts: list[ScenarioScore] = [*score.scenarios, *([score.steady] if score.steady else [])]
    rows = []
    for part in parts:
        if not part.components:
            rows.append(("", [part.name, "—", "not scored", "—", "—", part.note, "—"]))
        for number, component in enumerate(part.components):
            head = f"{part.name}: {_shown(part.score)}" if number == 0 else ""
            rows.append(("fail" if component.failed else "",
                         [head, component.name, f"{component.score * 100:.0f}",
                          f"{component.weight:g}", component.measured,
                          component.failed or "—", component.look]))
        if part.note and part.components:
            rows.append(("fail", ["", "gate", "0", "—", "—", part.note, "—"]))
    return [f'<h2 id="score">Resilience score: <span id="score-run">{_shown(score.score)}'
            "</span> / 100</h2>", f'<div class="note">{escape(_NOTE)}</div>',
            table(_HEADERS, rows)]


def score_markdown(score: RunScore | None) -> list[str]:
    if score is None:
        return []
    scenarios = ", ".join(f"{s.name} {_shown(s.score)}" for s in score.scenarios)
    return ["", f"**Resilience score**: {_shown(score.score)} / 100"
            + (f" ({scenarios})" if scenarios else "")]


def _shown(value: int | None) -> str:
    return "not scored" if value is None else str(value)
