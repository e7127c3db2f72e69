"""Request records as numpy columns, and the one percentile rule every figure uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from gameday.records import RequestRecord, read_request_table

__all__ = ["ARRAY_COLUMNS", "RequestArrays", "Requests", "percentile"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int32]
StrArray = npt.NDArray[np.str_]


@dataclass(frozen=True, slots=True)
class RequestArrays:
    """Column view of request records, sorted by scheduled time (as ``read_requests`` gives).

    ``status`` is 0 where no HTTP answer came back; ``error_kind`` is "" for a good answer;
    ``model_version`` is "" where the answer named no model version.
    """

    scheduled_s: FloatArray
    start_s: FloatArray
    end_s: FloatArray
    ok: BoolArray
    region: StrArray
    status: IntArray
    error_kind: StrArray
    model_version: StrArray  # "" where the answer named none

    @classmethod
    def of(cls, records: Sequence[RequestRecord]) -> RequestArrays:
        """From record objects (tests, small runs); a run folder is read with ``read``."""
        ordered = sorted(records, key=lambda r: r.scheduled_s)
        return cls(
            scheduled_s=np.array([r.scheduled_s for r in ordered], dtype=np.float64),
            start_s=np.array([r.start_s for r in ordered], dtype=np.float64),
            end_s=np.array([r.end_s for r in ordered], dtype=np.float64),
            ok=np.array([r.ok for r in ordered], dtype=np.bool_),
            region=np.array([r.region for r in ordered], dtype=np.str_),
            status=np.array([r.status for r in ordered], dtype=np.int32),
            error_kind=np.array([r.error_kind for r in ordered], dtype=np.str_),
            model_version=np.array([r.model_version for r in ordered], dtype=np.str_),
        )

    @classmethod
    def read(cls, run_dir: Path) -> RequestArrays:
        """Every request of a run folder, column-wise: no Python object per row."""
        return cls.from_table(read_request_table(run_dir, ARRAY_COLUMNS))

    @classmethod
    def from_table(cls, table: pa.Table) -> RequestArrays:
        """From ``read_request_table``'s table (already sorted by scheduled time)."""
        return cls(
            scheduled_s=_numbers(table, "scheduled_s", np.float64),
            start_s=_numbers(table, "start_s", np.float64),
            end_s=_numbers(table, "end_s", np.float64),
            ok=_numbers(table, "ok", np.bool_),
            region=_strings(table, "region"),
            status=_numbers(table, "status", np.int32),
            error_kind=_strings(table, "error_kind"),
            model_version=_strings(table, "model_version"),
        )

    @classmethod
    def coerce(cls, requests: Requests) -> RequestArrays:
        return requests if isinstance(requests, RequestArrays) else cls.of(requests)

    def __len__(self) -> int:
        return int(self.scheduled_s.size)

    @property
    def latency_s(self) -> FloatArray:
        """From the *scheduled* send time (no coordinated omission)."""
        return self.end_s - self.scheduled_s

    @property
    def send_lag_s(self) -> FloatArray:
        return self.start_s - self.scheduled_s

    def rows(self, lo: int, hi: int) -> RequestArrays:
        """Rows ``lo`` to ``hi`` (excluded), in scheduled order; views, not copies."""
        return self._each(slice(lo, hi))

    def select(self, mask: BoolArray) -> RequestArrays:
        return self._each(mask)

    def _each(self, index: slice | BoolArray) -> RequestArrays:
        return RequestArrays(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


ARRAY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(RequestArrays))
"""The record columns a ``RequestArrays`` holds (what the report path reads)."""

Requests = Sequence[RequestRecord] | RequestArrays
"""What the measure functions accept: records as read, or their column view."""


def _numbers(table: pa.Table, name: str, dtype: type[Any]) -> Any:
    column = table.column(name)
    if column.null_count:
        raise ValueError(f"request column {name} has {column.null_count} empty values")
    return np.asarray(column.to_numpy(), dtype=dtype)


def _strings(table: pa.Table, name: str) -> StrArray:
    """A dictionary-encoded column as a fixed-width numpy string array, through its codes:
    only the few distinct values ever become Python strings."""
    chunks = table.column(name).unify_dictionaries().chunks
    if not chunks:
        return np.array([], dtype=np.str_)
    values = np.array(chunks[0].dictionary.to_pylist(), dtype=np.str_)
    if values.size == 0:
        return np.array([], dtype=np.str_)
    codes = np.concatenate([chunk.indices.to_numpy(zero_copy_only=False) for chunk in chunks])
    strings: StrArray = values[codes]
    return strings


def percentile(values: FloatArray, percent: float) -> float | None:
    """Nearest-rank percentile (an observed value, never interpolated); None when empty.

    Nearest rank is what an SLO reader expects: "p99 <= 250 ms" means at least 99 % of the
    requests took 250 ms or less.
    """
    if values.size == 0:
        return None
    return float(np.percentile(values, percent, method="inverted_cdf"))
