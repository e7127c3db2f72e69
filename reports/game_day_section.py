"""The report's Game day section (``reports.game_day``): the hypothesis, the timeline of the
operator's actions and notes beside the harness's steps, the scenarios the operator rolled
back and those never run; nothing for a run without an operator."""

from __future__ import annotations

from html import escape

from reports.html_table import table
from reports.numbers import sentence
from reports.summary import Summary

__all__ = ["game_day_section"]

_WHAT = {"inject": "inject", "roll_back": "roll back now", "note": "note", "quit": "quit"}


def game_day_section(summary: Summary) -> list[str]:
    day = summary.game_day
    if day is None:
        return []
    origin_s = summary.load_start_s
    rows = []
    for entry in day.timeline:
        at = "—" if origin_s is None else f"{entry.t_s - origin_s:+.1f} s"
        rows.append(("" if entry.who == "harness" else "operator",
                     [at, entry.who, _WHAT.get(entry.what, entry.what), entry.scenario or "—",
                      entry.text]))
    hypothesis = escape(day.hypothesis) if day.hypothesis else "<i>none stated</i>"
    parts = ['<h2 id="game-day">Game day</h2>',
             f'<p id="game-day-hypothesis"><b>Hypothesis:</b> {hypothesis}</p>']
    parts += [f'<div class="note" id="rolled-back-{escape(abort.scenario)}">'
              f"{escape(sentence(abort.describe()))}"
              + ("" if abort.at_s is None or origin_s is None
                 else f" at {abort.at_s - origin_s:+.1f} s")
              + ": its fault window closed when the rollback returned, and its SLOs are "
              "judged on that window.</div>" for abort in day.rolled_back]
    parts += [f'<div class="note" id="not-run-{escape(item.scenario)}">'
              f"{escape(sentence(item.describe()))}: its SLOs are left out of the verdict."
              "</div>" for item in day.not_run]
    if day.not_started:
        parts.append(f'<div class="note">Never started (the run stopped first): '
                     f"{escape(', '.join(day.not_started))}.</div>")
    parts.append('<p class="meta">Times are seconds since the load started; the operator\'s '
                 "actions are also marked on the timeline chart.</p>")
    parts.append(table(["time", "who", "what", "scenario", "text"], rows,
                       empty="the operator took no action"))
    return parts
