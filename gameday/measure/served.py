"""Request records with the stack each was sent to: what the per-stack cost and autoscaling
figures count (``RequestArrays`` keeps no stack column)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from gameday.measure.arrays import BoolArray, RequestArrays, StrArray

__all__ = ["StackRequests"]


@dataclass(frozen=True, slots=True)
class StackRequests:
    """``requests`` in scheduled order, ``stack[i]`` the stack of row ``i`` and, when read,
    ``degraded[i]`` the fallback that served it ("" for none)."""

    requests: RequestArrays
    stack: StrArray
    degraded: StrArray | None = None

    @classmethod
    def from_table(cls, table: pa.Table) -> StackRequests:
        """From ``read_request_table``'s table with the array columns and ``stack`` (and
        ``degraded``, when the table has it)."""
        degraded = _strings(table.column("degraded")) if "degraded" in table.column_names \
            else None
        return cls(RequestArrays.from_table(table), _strings(table.column("stack")), degraded)

    @classmethod
    def one_stack(cls, requests: RequestArrays, stack: str) -> StackRequests:
        """Every request sent to ``stack`` (a folder read without its stack column)."""
        return cls(requests, np.full(len(requests), stack, dtype=np.str_))

    def served(self, stack: str, region: str) -> BoolArray:
        """Which requests ``region`` answered successfully for ``stack``: a failed request
        is never served, whoever answered it."""
        mask: BoolArray = self.requests.ok & (self.stack == stack) & \
            (self.requests.region == region)
        return mask

    def of(self, stack: str) -> RequestArrays:
        return self.requests.select(self.stack == stack)


def _strings(column: pa.ChunkedArray) -> StrArray:
    """A dictionary-encoded column as a numpy string array, through its codes."""
    chunks = column.unify_dictionaries().chunks if pa.types.is_dictionary(column.type) \
        else None
    if chunks is None:
        return np.array(column.to_pylist(), dtype=np.str_)
    if not chunks or len(chunks[0].dictionary) == 0:
        return np.full(len(column), "", dtype=np.str_)
    values = np.array(chunks[0].dictionary.to_pylist(), dtype=np.str_)
    codes = np.concatenate([chunk.indices.to_numpy(zero_copy_only=False) for chunk in chunks])
    strings: StrArray = values[codes]
    return strings
