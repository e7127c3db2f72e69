"""Failed requests per bucket broken down by error kind and by HTTP status (stacked bars, in
failures per second), for two rows of the report's timeline."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

from gameday.measure import BucketSli
from reports.stacked import add_stacked, note_in_row

__all__ = ["MAX_STATUS_SERIES", "add_errors_by_kind", "add_errors_by_status"]

MAX_STATUS_SERIES = 8  # the most frequent statuses get a series each, the rest is "other"
_KIND_COLOURS = {"timeout": "#9467bd", "connection": "#8c564b", "http_5xx": "#d62728",
                 "http_4xx": "#e377c2", "payload": "#17becf", "": "#7f7f7f"}
_KIND_LABELS = {"": "unclassified"}
_OTHER = "other"


def add_errors_by_kind(figure: go.Figure, buckets: Sequence[BucketSli], centres: npt.NDArray[
        np.float64], bucket_s: float, row: int) -> None:
    totals: Counter[str] = Counter()
    for bucket in buckets:
        totals.update(bucket.errors_by_kind)
    names = [name for name, _ in totals.most_common()]
    _stack(figure, centres, bucket_s, row, names, lambda b: b.errors_by_kind,
           label=lambda name: _KIND_LABELS.get(name, name),
           colour=lambda index, name: _KIND_COLOURS.get(name, _palette(index)),
           group="kind", buckets=buckets)


def add_errors_by_status(figure: go.Figure, buckets: Sequence[BucketSli], centres: npt.NDArray[
        np.float64], bucket_s: float, row: int) -> None:
    totals: Counter[str] = Counter()
    for bucket in buckets:
        totals.update({str(code): count for code, count in bucket.errors_by_status.items()})
    ranked = [code for code, _ in totals.most_common()]
    kept = ranked[:MAX_STATUS_SERIES] if len(ranked) <= MAX_STATUS_SERIES \
        else ranked[:MAX_STATUS_SERIES - 1]

    def counts(bucket: BucketSli) -> Mapping[str, int]:
        by_code = {str(code): count for code, count in bucket.errors_by_status.items()}
        other = sum(count for code, count in by_code.items() if code not in kept)
        return {**{code: by_code.get(code, 0) for code in kept}, _OTHER: other}

    names = kept + ([_OTHER] if len(ranked) > len(kept) else [])
    _stack(figure, centres, bucket_s, row, names, counts, label=_status_label,
           colour=_status_colour, group="status", buckets=buckets)


def _stack(figure: go.Figure, centres: npt.NDArray[np.float64], bucket_s: float, row: int,
           names: Sequence[str], counts: Callable[[BucketSli], Mapping[str, int]], *,
           label: Callable[[str], str], colour: Callable[[int, str], str], group: str,
           buckets: Sequence[BucketSli]) -> None:
    if not names:
        until_s = float(centres[-1]) + bucket_s / 2 if centres.size else 0.0
        note_in_row(figure, row, "no failed requests", until_s)
        figure.update_yaxes(title_text="failed/s", range=[0, 1], row=row, col=1)
        return
    for index, name in enumerate(names):
        per_s = np.array([counts(bucket).get(name, 0) for bucket in buckets],
                         dtype=np.float64) / bucket_s
        add_stacked(figure, centres, per_s, name=label(name), colour=colour(index, name),
                    group=group, bucket_s=bucket_s, row=row,
                    hover=f"{label(name)} %{{y:.1f}}/s")
    figure.update_yaxes(title_text="failed/s", row=row, col=1)


def _status_label(code: str) -> str:
    if code == "0":
        return "no HTTP answer"
    return code if code == _OTHER else f"HTTP {code}"


def _status_colour(index: int, code: str) -> str:
    if code == "0":
        return "#7f7f7f"
    if code == _OTHER:
        return "#c7c7c7"
    if code.startswith("5"):
        return ("#d62728", "#ff7f0e", "#b5332e", "#f2a65a")[index % 4]
    if code.startswith("4"):
        return ("#e377c2", "#9467bd", "#c5b0d5")[index % 3]
    return _palette(index)


def _palette(index: int) -> str:
    return ("#1f77b4", "#bcbd22", "#17becf", "#aec7e8", "#98df8a")[index % 5]
