"""``summary.md``: the verdict, its reason, the SLOs, each scenario's RTO with its parts and (for
a database run) a paragraph per scenario on RPO, write RTO and split brain, in
GitHub-flavoured Markdown a CI job can append to ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

from collections.abc import Sequence

from reports.baseline import baseline_markdown
from reports.database_markdown import database_markdown
from reports.degraded_section import degraded_markdown
from reports.edge_section import EdgeFigures, edge_markdown
from reports.numbers import objective, seconds, sentence, slo_objective
from reports.release_section import release_markdown
from reports.score_section import score_markdown
from reports.summary import ScenarioOutcome, Summary

__all__ = ["slo_table", "summary_markdown"]

_MARKS = {"pass": "✅", "fail": "❌", "error": "⛔", "inconclusive": "⚠️", "aborted": "🛑"}
_RELATION = {"availability": "≥", "latency": "≤", "rto": "≤", "write_rto": "≤", "cost": "≤"}


def summary_markdown(summary: Summary, edge: EdgeFigures | None = None) -> str:
    """``edge``: the edge section's figures (``reports.edge_section``), a short block."""
    mark = _MARKS.get(summary.verdict, "")
    lines = [
        f"## {mark} gameday {_text(summary.suite.name)}: {summary.verdict.upper()}",
        "",
        f"**{_text(summary.reason)}** (exit code {summary.exit_code})",
        "",
        f"Run `{summary.run_id}` on platform {summary.suite.platform}, started "
        f"{summary.started_at or '—'}, ended {summary.ended_at or '—'}.",
        "",
        *_notes(summary),
        "### SLOs",
        "",
        *slo_table(summary),
        "",
        "### Scenarios and recovery (RTO)",
        "",
        *_scenario_table(summary),
        "",
        "RTO: from fault start until every request of the next stability window succeeded "
        "within the latency bound; detect = first bad answer, failover = first good answer "
        "from another region, edge down = HAProxy marked a target-region server down. "
        "Details in `report.html` of the run folder.",
        *_cost_line(summary),
        *score_markdown(summary.score),
        *baseline_markdown(summary.baseline),
        *edge_markdown(edge),
        *database_markdown(summary),
        *release_markdown(summary),
        *degraded_markdown(summary),
    ]
    return "\n".join(lines) + "\n"


def _cost_line(summary: Summary) -> list[str]:
    """One line: each stack's steady-state cost per 1,000 successful requests."""
    cost = summary.cost
    if cost is None:
        return []
    if cost.measurement_error:
        return ["", f"**Cost**: not measured: {_text(cost.measurement_error)}."]
    parts = []
    for figure in (c for c in cost.stacks if c.phase == "outside_faults"):
        if figure.measurement_error or figure.per_1k is None:
            why = figure.measurement_error or "no successful request"
            parts.append(f"{figure.stack} not measured ({why})")
            continue
        standby = f", {figure.standby_cost:.4g} standby apart" if figure.standby_cost else ""
        parts.append(f"{figure.stack} {figure.per_1k:.4g} per 1,000 successful requests "
                     f"({figure.cost:.4g} serving{standby})")
    return ["", f"**Cost** ({cost.currency}, steady state): {_text('; '.join(parts))}."]


def _notes(summary: Summary) -> list[str]:
    notes = []
    if summary.interruption is not None:
        notes.append(f"> **Interrupted.** {_text(sentence(summary.interruption.what()))}. "
                     "This is not a verdict on the system under test.")
    notes += [f"> **Rollback failed.** {_text(sentence(f.describe()))}."
              for f in summary.incidents.rollback_failures]
    if summary.health.saturated:
        notes.append(f"> **Generator saturated.** {_text(summary.health.why)}")
    return [line for note in notes for line in (note, "")]


def slo_table(summary: Summary) -> list[str]:
    """Each SLO: case, scenario, scope, objective, measured, pass or fail."""
    if not summary.slos:
        return ["The suite sets no SLOs."]
    judged = summary.verdict in ("pass", "fail", "aborted")  # else not the system's figures
    rows = []
    for result in summary.slos:
        status = ("✅ pass" if result.passed else "❌ fail") if judged else "not judged"
        measured = "not measured" if result.measurement_error else (
            "—" if result.measured is None else objective(result.kind, result.measured))
        relation = _RELATION.get(result.kind, "")
        rows.append([f"`{result.case_name}`", result.scenario or "run", result.scope or "—",
                     slo_objective(result, relation), measured,
                     status])
    return _table(["SLO", "scenario", "scope", "objective", "measured", "status"], rows)


def _scenario_table(summary: Summary) -> list[str]:
    if not summary.scenarios:
        return ["The suite has no scenarios."]
    return _table(["scenario", "target", "RTO", "detect", "failover", "edge down",
                   "canary failed", "recovered", "bad requests", "steady state", "rollback"],
                  [_scenario_row(outcome) for outcome in summary.scenarios])


def _scenario_row(outcome: ScenarioOutcome) -> list[str]:
    rto = outcome.rto
    steady = {None: "unknown", False: "held", True: "❌ deviated"}[outcome.deviated]
    rollback = "⛔ failed" if outcome.rollback_failure else (
        "—" if outcome.window is None else
        "ok" if outcome.window.end_s is not None else "never returned")
    if rto is None:
        return [outcome.name, outcome.target_region, "fault never started", "—", "—", "—",
                "—", "—", "—", steady, rollback]
    return [outcome.name, outcome.target_region, seconds(rto.rto_s), seconds(rto.detect_s),
            seconds(rto.failover_s), seconds(outcome.edge_down_s),
            seconds(outcome.canary_failed_s), "yes" if rto.recovered else "❌ no",
            f"{rto.bad_requests} ({rto.failed_requests} failed, {rto.slow_requests} slow)",
            steady, rollback]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_text(cell) for cell in row) + " |" for row in rows]
    return lines


def _text(value: str) -> str:
    """Table- and line-safe: a pipe would split a cell, a newline would end the table."""
    return value.replace("|", "\\|").replace("\n", " ")
