"""A run judged against a baseline run (``gameday run --baseline DIR``): the judgement that
``reports.compare`` wrote into the run folder as ``baseline.json`` (schema
``gameday.compare/1``), read back for the verdict, the report, the JUnit file and
``summary.json``.

The judgement is made once, when the run ends, and kept in the folder: ``gameday report``
rebuilds the reports from it without the baseline folder (which a nightly job may have
pruned). A regression (``regressed``: some metric moved its bad way beyond the tolerance with
significance, or the judgement is Fail) fails a run whose SLOs all held; a Nodata judgement
fails nothing, and the reason says that the run was not judged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from gameday.errors import MeasurementError
from reports.compare_text import p_value_text, quantity
from reports.html_table import table

__all__ = ["BASELINE_FILE", "COMPARE_PAGE", "BaselineMetric", "BaselineResult",
           "baseline_markdown", "baseline_section", "read_baseline"]

BASELINE_FILE = "baseline.json"
COMPARE_PAGE = "compare.html"  # the judgement's own page, beside the report
_SCHEMA = "gameday.compare/1"
_LABELS = {"pass": "Pass", "high": "High", "low": "Low", "nodata": "Nodata"}


@dataclass(frozen=True, slots=True)
class BaselineMetric:
    name: str
    unit: str
    classification: str  # pass | high | low | nodata
    failed: bool
    n_baseline: int
    n_candidate: int
    median_baseline: float | None
    median_candidate: float | None
    p_value: float | None
    estimate: float | None  # Hodges–Lehmann, this run − the baseline
    ci_low: float | None
    ci_high: float | None
    tolerance: float | None

    def describe(self) -> str:
        shift = "" if self.estimate is None else \
            f" ({quantity(self.estimate, self.unit, signed=True)})"
        return f"{self.name} {_LABELS[self.classification]}{shift}"


@dataclass(frozen=True, slots=True)
class BaselineResult:
    baseline_run: str
    baseline_path: str
    scope: str
    confidence: float
    verdict: str  # pass | marginal | fail | nodata
    score: float | None
    reason: str
    regressed: bool
    metrics: tuple[BaselineMetric, ...]
    notes: tuple[str, ...]

    def describe(self) -> str:
        """One clause for the run's verdict reason."""
        if self.regressed:
            moved = ", ".join(m.describe() for m in self.metrics if m.failed)
            return f"regressed against baseline {self.baseline_run}: " + (moved or self.reason)
        if self.verdict == "nodata":
            return f"not judged against baseline {self.baseline_run}: {self.reason}"
        return f"no regression against baseline {self.baseline_run} ({self.verdict})"

    def as_json(self) -> dict[str, Any]:
        return {"baseline_run": self.baseline_run, "baseline_path": self.baseline_path,
                "scope": self.scope, "confidence": self.confidence, "verdict": self.verdict,
                "score": self.score,
                "reason": self.reason, "regressed": self.regressed,
                "failed": [m.name for m in self.metrics if m.failed],
                "file": BASELINE_FILE}


def read_baseline(run_dir: Path) -> BaselineResult | None:
    """The run's judgement against its baseline; None when the run had none."""
    path = run_dir / BASELINE_FILE
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text())
        if document.get("schema") != _SCHEMA:
            raise ValueError(f"schema {document.get('schema')!r}, expected {_SCHEMA!r}")
        return BaselineResult(
            baseline_run=str(document["baseline"]["run"]),
            baseline_path=str(document["baseline"]["path"]),
            scope=str(document["scope"]),
            confidence=float(document["config"]["confidence"]),
            verdict=str(document["verdict"]),
            score=document["score"], reason=str(document["reason"]),
            regressed=bool(document["regressed"]),
            metrics=tuple(_metric(m) for m in document["metrics"]),
            notes=tuple(str(n) for n in document["notes"]))
    except (ValueError, KeyError, TypeError) as exc:  # json errors are ValueErrors
        raise MeasurementError(f"{path}: not a judgement gameday wrote: {exc}") from None


def _metric(item: Mapping[str, Any]) -> BaselineMetric:
    return BaselineMetric(
        name=str(item["name"]), unit=str(item["unit"]), classification=str(item["class"]),
        failed=bool(item["failed"]), n_baseline=int(item["n_baseline"]),
        n_candidate=int(item["n_candidate"]), median_baseline=item["median_baseline"],
        median_candidate=item["median_candidate"], p_value=item["p_value"],
        estimate=item["hodges_lehmann"], ci_low=item["ci_low"], ci_high=item["ci_high"],
        tolerance=item["tolerance"])


_HEADERS = ["metric", "n baseline / this run", "median baseline", "median this run", "p",
            "shift (Hodges–Lehmann)", "interval", "tolerance", "class"]


def baseline_section(result: BaselineResult | None) -> list[str]:
    if result is None:
        return []
    rows = []
    for m in result.metrics:
        interval = "—" if m.ci_low is None else (f"[{quantity(m.ci_low, m.unit, signed=True)}, "
                                                 f"{quantity(m.ci_high, m.unit, signed=True)}]")
        rows.append(("fail" if m.failed else "pass" if m.classification == "pass" else "",
                     [m.name, f"{m.n_baseline:,} / {m.n_candidate:,}",
                      quantity(m.median_baseline, m.unit), quantity(m.median_candidate, m.unit),
                      p_value_text(m.p_value),
                      quantity(m.estimate, m.unit, signed=True), interval,
                      "—" if m.tolerance is None else f"±{quantity(m.tolerance, m.unit)}",
                      _LABELS[m.classification]]))
    score = "—" if result.score is None else f"{result.score:.1f}"
    notes = "".join(f'<div class="note">{escape(note)}</div>' for note in result.notes)
    return [
        f'<h2 id="baseline">Against the baseline: <span id="baseline-verdict" '
        f'data-regressed="{str(result.regressed).lower()}">{escape(result.verdict.upper())}'
        f"</span></h2>",
        f'<p class="meta">baseline run {escape(result.baseline_run)} '
        f"({escape(result.baseline_path)}), scope {escape(result.scope)}, score {score}: "
        f"{escape(result.reason)}. Mann–Whitney U (two-sided, α = {1 - result.confidence:.2g}) "
        f"and the Hodges–Lehmann shift with its {result.confidence:g} interval, per metric; "
        f"High or Low only when significant and the "
        f"whole interval is beyond the tolerance. The full statistics: "
        f'<a href="{COMPARE_PAGE}">{COMPARE_PAGE}</a>, {BASELINE_FILE}.</p>',
        notes, table(_HEADERS, rows, status_column=8)]


def baseline_markdown(result: BaselineResult | None) -> list[str]:
    if result is None:
        return []
    return ["", f"**Against the baseline** ({result.baseline_run}): {result.verdict.upper()}"
            f" — {result.describe()}."]
