"""Rebuild a run's summary.json, report.html, junit.xml and summary.md from its folder alone."""

from __future__ import annotations

import json
from pathlib import Path

from reports.drift import drift_markdown, drift_section, read_drift
from reports.edge_section import edge_figures, edge_section
from reports.html import render_html
from reports.junit import junit_xml
from reports.markdown import summary_markdown
from reports.run_folder import read_run_folder
from reports.summary import Summary, summarize
from reports.summary_json import summary_document

__all__ = ["HTML_FILE", "JUNIT_FILE", "MARKDOWN_FILE", "SUMMARY_FILE", "build_reports",
           "write_atomically"]

SUMMARY_FILE = "summary.json"
HTML_FILE = "report.html"
JUNIT_FILE = "junit.xml"
MARKDOWN_FILE = "summary.md"  # for CI: cat it >> "$GITHUB_STEP_SUMMARY"


def build_reports(run_dir: Path) -> Summary:
    """Recompute every figure from ``run_dir`` and write the four reports into it.

    Raises MeasurementError when the folder has no readable ``suite.json``; anything else
    wrong with the run (harness error, interruption, no records) is a verdict, not an error.
    """
    folder = read_run_folder(run_dir)
    summary = summarize(folder)
    edge = edge_figures(folder, summary)
    drift = read_drift(folder)
    write_atomically(run_dir / SUMMARY_FILE,
                      json.dumps(summary_document(summary, edge, drift), indent=2,
                                 allow_nan=False) + "\n")
    write_atomically(run_dir / HTML_FILE,
                      _with_section(render_html(summary), [*edge_section(summary, edge),
                                                           *drift_section(summary, drift)]))
    write_atomically(run_dir / JUNIT_FILE, junit_xml(summary))
    write_atomically(run_dir / MARKDOWN_FILE,
                      summary_markdown(summary, edge) + "".join(
                          f"{line}\n" for line in drift_markdown(drift)))
    return summary


_SECTION_BEFORE = "<h2>SLOs</h2>"  # the edge and drift sections go after resources and cost


def _with_section(page: str, section: list[str]) -> str:
    """The page with ``section`` put in before the SLO table (at the end of the body when
    the page has none)."""
    if not section:
        return page
    text = "\n".join(section) + "\n"
    at = page.find(_SECTION_BEFORE)
    at = at if at >= 0 else page.rfind("</body>")
    return page[:at] + text + page[at:]


def write_atomically(path: Path, text: str) -> None:
    """A reader (CI, a browser) never sees half a file."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
