"""The "degraded answers" section of ``report.html`` and its lines in ``summary.md``: per
stack (rag apart, whose own section counts its fallbacks), the good answers a service scored
from a fallback and marked, by reason, inside and outside the fault windows and per scenario
(``gameday.measure.degraded``)."""

from __future__ import annotations

from html import escape

from gameday.measure.degraded import DegradedFigures
from reports.html_table import table
from reports.numbers import pct
from reports.summary import Summary

__all__ = ["degraded_markdown", "degraded_section"]

_DEFINITIONS = (
    "A degraded answer is a good answer (HTTP 200, valid) the service scored from a fallback "
    "and said so in its X-Degraded header: the tabular service's default features (the training "
    "medians) when its feature store was down (features-down), its row older than the feature "
    "view's ttl (features-stale) or the card absent (features-missing). Counted among the good "
    "answers for availability, and apart here; inside a fault: scheduled in its window, "
    "requests in flight when it began included.")
_HEADERS = ["stack", "good answers", "degraded", "by reason", "inside faults",
            "outside faults", "per scenario"]
_IDS = {2: "degraded-count-{}", 4: "degraded-inside-{}", 5: "degraded-outside-{}"}


def _reasons(figures: DegradedFigures) -> str:
    return ", ".join(f"{reason} {count:,}" for reason, count in figures.by_reason.items()) \
        or "—"


def _scenarios(figures: DegradedFigures) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in figures.by_scenario.items()) or "—"


def _count(figures: DegradedFigures) -> str:
    share = "" if figures.share is None else f" ({pct(figures.share)})"
    return f"{figures.degraded:,}{share}"


def degraded_section(summary: Summary) -> list[str]:
    if not summary.degraded:
        return []
    rows = [("ok" if f.degraded == 0 else "breach",
             [f.stack, f"{f.good:,}", _count(f), _reasons(f), f"{f.during_faults:,}",
              f"{f.outside_faults:,}", _scenarios(f)]) for f in summary.degraded]
    return ['<h2 id="degraded">Degraded answers</h2>',
            f'<div class="note">{escape(_DEFINITIONS)}</div>',
            table(_HEADERS, rows, ids=_IDS, row_keys=[f.stack for f in summary.degraded])]


def degraded_markdown(summary: Summary) -> list[str]:
    if not summary.degraded:
        return []
    lines = ["", "### Degraded answers", ""]
    lines += [f"- **{f.stack}**: {_count(f)} of {f.good:,} good answers degraded "
              f"({_reasons(f)}); {f.during_faults:,} inside faults, {f.outside_faults:,} "
              f"outside; per scenario: {_scenarios(f)}" for f in summary.degraded]
    return lines
