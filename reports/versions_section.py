"""The "model versions" section of ``report.html``: per fault window, which version answered in
the target region and elsewhere, and the failed, slowed and mixed-version answers a release
(a hot-swap, a broken version, a rollback) cost its users, beside the same counts just before
and after the window (``gameday.measure.versions``)."""

from __future__ import annotations

from html import escape

from gameday.measure.versions import MARGIN_S, VersionCounts, VersionWindow
from reports.html_table import table
from reports.numbers import seconds
from reports.summary import Summary

__all__ = ["versions_section"]

_DEFINITIONS = (
    "Over the requests scheduled in each fault window (or in flight when it began). Answers by "
    "version: good answers by the model version they named. Failed: no good answer. Slowed: a "
    "good answer slower than the latency bound, from its scheduled send. Ended on: the last "
    "version the target region answered with before the rollback started; switched after: "
    "from the fault's start to that version's first answer. Mixed: the target region's "
    "answers from another version after that first one (a swap that flaps); a clean swap "
    "counts none, and the rollback's switch back is not a mix. Before and after: every "
    "region, over {margin:g} s on each side. The goal of a release is no failed, slowed or "
    "mixed answer beyond what before shows.")
_HEADERS = ["scenario", "target region: answers by version", "failed", "slowed", "mixed",
            "ended on", "switched after", "other regions", "before", "after"]
_IDS = {1: "versions-target-{}", 2: "versions-failed-{}", 3: "versions-slowed-{}",
        4: "versions-mixed-{}", 5: "versions-final-{}", 6: "versions-switched-{}",
        7: "versions-others-{}", 8: "versions-before-{}", 9: "versions-after-{}"}


def versions_section(summary: Summary) -> list[str]:
    windows = summary.versions
    if windows is None:
        return []
    rows = [("", _row(window)) for window in windows]
    keys = [f"{window.scenario}-{number}" for number, window in enumerate(windows)]
    return ['<h2 id="versions">Model versions around each fault</h2>',
            f'<div class="note">{escape(_DEFINITIONS.format(margin=MARGIN_S))}</div>',
            table(_HEADERS, rows, empty="no fault window", ids=_IDS, row_keys=keys)]


def _row(window: VersionWindow) -> list[str]:
    target = window.target
    return [window.scenario, f"{window.target_region}: {_by_version(target)}",
            str(target.failed), str(target.slowed), str(window.mixed),
            window.final_version or "—", seconds(window.switched_after_s),
            _brief(window.others), _brief(window.before),
            _brief(window.after)]


def _by_version(counts: VersionCounts) -> str:
    named = ", ".join(f"v{version} {count:,}" for version, count in counts.by_version.items())
    return f"{counts.requests:,} requests ({named or 'no version named'})"


def _brief(counts: VersionCounts) -> str:
    return f"{_by_version(counts)}; {counts.failed} failed, {counts.slowed} slowed"
