"""What the edge figures read from a run folder: the WAF's own log (``waf.jsonl``, one
ModSecurity audit-log entry per line, as ``gameday.records`` describes it) and the edge's marks
on the request records (``edge_cache``, ``waf``, ``label``, with the service's ``policy``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gameday.jsonl import read_jsonl
from gameday.measure.arrays import ARRAY_COLUMNS, BoolArray, RequestArrays, StrArray
from gameday.records import WAF_FILE, read_request_table

__all__ = ["BLOCKING_EVALUATION_RULE", "CACHE_SERVED", "EDGE_COLUMNS", "EdgeRequests", "WafEntry",
           "read_waf_log", "values_in"]

BLOCKING_EVALUATION_RULE = 949110  # CRS: the inbound anomaly score reached the threshold
# X-Cache-Status of an answer the edge cache served (a stored answer, fresh or stale)
CACHE_SERVED = ("HIT", "STALE", "UPDATING")
_TEXT = ("stack", "endpoint", "policy", "edge_cache", "waf", "label")
EDGE_COLUMNS: tuple[str, ...] = (*ARRAY_COLUMNS, *_TEXT)
"""The record columns the edge figures read."""


@dataclass(frozen=True, slots=True)
class WafEntry:
    """One request a CRS rule matched. ``blocked``: the WAF refused it (blocking mode only);
    ``score``: CRS's inbound anomaly score when the log gave it; ``rules``: the ids of every
    rule that matched, the blocking evaluation (949110) included."""

    t_s: float  # whole seconds: all ModSecurity's audit log gives
    label: str  # the request's X-Gameday-Label, "" when it had none
    method: str
    uri: str
    status: int  # what the client got
    blocked: bool
    score: int | None
    rules: tuple[int, ...]
    mode: str  # blocking | detection

    def would_block(self, threshold: int) -> bool:
        """Blocked, or would have been in blocking mode: the blocking evaluation matched, or
        the anomaly score reached the suite's ``inbound_anomaly_threshold``."""
        return self.blocked or BLOCKING_EVALUATION_RULE in self.rules or (
            self.score is not None and self.score >= threshold)


def read_waf_log(run_dir: Path) -> tuple[WafEntry, ...] | None:
    """The WAF's log of a run, in file order; None when the run has no ``waf.jsonl``. A torn
    last line is skipped; any other bad line raises ValueError naming the file and line."""
    path = run_dir / WAF_FILE
    if not path.is_file():
        return None
    return tuple(read_jsonl(path, _entry, "a WAF log entry"))


def _entry(raw: dict[str, Any]) -> WafEntry:
    rules = raw.get("rules") or []
    score = raw.get("score")
    if not isinstance(rules, list):
        raise TypeError(f"rules is {type(rules).__name__}, expected a list of rule ids")
    return WafEntry(t_s=float(raw["t_s"]), label=str(raw.get("label") or ""),
                    method=str(raw.get("method") or ""), uri=str(raw.get("uri") or ""),
                    status=int(raw.get("status") or 0), blocked=raw.get("blocked") is True,
                    score=None if score is None else int(score),
                    rules=tuple(int(rule) for rule in rules), mode=str(raw.get("mode") or ""))


@dataclass(frozen=True, slots=True)
class EdgeRequests:
    """Request records with the edge's marks, in scheduled order: ``waf`` is X-Edge-Waf
    (blocking | detection | off | blocked | refused, "" when no edge answered), ``edge_cache``
    X-Cache-Status (NONE: not through the cache), ``label`` the labelled class ("" for ordinary
    load), ``policy`` what the service's policy did (``guard:<rule>`` for a guard refusal)."""

    requests: RequestArrays
    stack: StrArray
    endpoint: StrArray
    policy: StrArray
    edge_cache: StrArray
    waf: StrArray
    label: StrArray

    @classmethod
    def read(cls, run_dir: Path) -> EdgeRequests:
        """Every request of a run folder with its edge columns (ValueError for a damaged
        file, naming it)."""
        return cls.from_table(read_request_table(run_dir, EDGE_COLUMNS))

    @classmethod
    def from_table(cls, table: pa.Table) -> EdgeRequests:
        """From ``read_request_table`` with ``EDGE_COLUMNS`` (sorted by scheduled time)."""
        return cls(RequestArrays.from_table(table.select(list(ARRAY_COLUMNS))),
                   **{name: _strings(table.column(name)) for name in _TEXT})

    def __len__(self) -> int:
        return len(self.requests)

    def select(self, mask: BoolArray) -> EdgeRequests:
        return EdgeRequests(self.requests.select(mask), **{
            f.name: getattr(self, f.name)[mask] for f in fields(self) if f.name != "requests"})

    @property
    def labelled(self) -> BoolArray:
        mask: BoolArray = self.label != ""
        return mask


def _strings(column: pa.ChunkedArray) -> StrArray:
    """A dictionary-encoded column as a numpy string array, through its codes: only the few
    distinct values ever become Python strings."""
    if not pa.types.is_dictionary(column.type):
        return np.array(column.fill_null("").to_pylist(), dtype=np.str_).reshape(-1)
    chunks = column.unify_dictionaries().chunks
    if not chunks or len(chunks[0].dictionary) == 0:
        return np.full(len(column), "", dtype=np.str_)
    values = np.array(chunks[0].dictionary.to_pylist(), dtype=np.str_)
    codes = np.concatenate([chunk.indices.to_numpy(zero_copy_only=False) for chunk in chunks])
    strings: StrArray = values[codes]
    return strings


def values_in(column: StrArray, values: Sequence[str]) -> BoolArray:
    """Which cells of a string column are one of ``values``."""
    mask: BoolArray = np.isin(column, np.array(values, dtype=np.str_))
    return mask
