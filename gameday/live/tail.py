"""The run folder read incrementally, as its writers append to it: the new complete lines of
each file since the last read (a line still being written waits for the next read).

``RequestTail`` keeps the request records of the last ``keep_s`` seconds (by end time) as
numpy arrays, parsed column-wise by pyarrow from the new bytes alone, so a refresh costs what
was appended since the one before, not the whole file. ``JsonlTail`` gives the new objects of
a JSON-lines file (events.jsonl, db.jsonl, replication.jsonl).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from gameday.records import REQUEST_COLUMN_TYPES, REQUESTS_GLOB

__all__ = ["FileTail", "JsonlTail", "RequestTail"]

_WANTED = ("end_s", "scheduled_s", "region", "ok", "label")


@dataclass
class FileTail:
    """The new complete lines of one file since the last ``read``."""

    path: Path
    offset: int = 0

    def read(self) -> bytes:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:  # not there yet
            return b""
        end = chunk.rfind(b"\n")
        if end < 0:
            return b""
        self.offset += end + 1
        return chunk[:end + 1]


@dataclass
class JsonlTail:
    """The new objects of a JSON-lines file; a line that is not a JSON object is skipped."""

    path: Path
    _tail: FileTail = field(init=False)

    def __post_init__(self) -> None:
        self._tail = FileTail(self.path)

    def read(self) -> list[dict[str, Any]]:
        found = []
        for line in self._tail.read().splitlines():
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                found.append(value)
        return found


class _RequestFile:
    """One requests*.csv: its header (the first line), then its new rows as a table."""

    def __init__(self, path: Path) -> None:
        self.tail = FileTail(path)
        self.header = b""
        self.columns: list[str] = []

    def new_rows(self) -> pa.Table | None:
        chunk = self.tail.read()
        if not self.header:
            line, _, chunk = chunk.partition(b"\n")
            if not line:
                return None
            self.header = line + b"\n"
            names = line.rstrip(b"\r").decode(errors="replace").split(",")
            self.columns = [name for name in _WANTED if name in names]
        if not chunk or "end_s" not in self.columns:
            return None
        return pacsv.read_csv(
            io.BytesIO(self.header + chunk),
            # one thread: a second's rows parse in about a millisecond, and arrow's thread
            # pool costs more CPU than it saves on so little
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=pacsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
            convert_options=pacsv.ConvertOptions(
                include_columns=self.columns, strings_can_be_null=False,
                column_types={name: REQUEST_COLUMN_TYPES[name] for name in self.columns}))


class RequestTail:
    """Request records of the run folder ended in the last ``keep_s`` seconds (labelled
    requests, the edge's attack set, left out), as arrays: ``end_s``, ``latency_s`` (from
    the scheduled send), ``ok``, ``region`` (an index into ``regions``)."""

    def __init__(self, run_dir: Path, keep_s: float = 70.0) -> None:
        self.run_dir = run_dir
        self.keep_s = keep_s
        self.regions: list[str] = []
        self._codes: dict[str, int] = {}
        self._files: dict[Path, _RequestFile] = {}
        self.end_s: npt.NDArray[np.float64] = np.empty(0)
        self.latency_s: npt.NDArray[np.float64] = np.empty(0)
        self.ok: npt.NDArray[np.bool_] = np.empty(0, dtype=bool)
        self.region: npt.NDArray[np.int32] = np.empty(0, dtype=np.int32)
        self.rows_read = 0

    def update(self, now_s: float) -> int:
        """Read what was appended since the last update; forget what ended before
        ``now_s - keep_s``. The number of new rows."""
        parts = [self._arrays(table) for path in sorted(self.run_dir.glob(REQUESTS_GLOB))
                 if (table := self._files.setdefault(path, _RequestFile(path)).new_rows())
                 is not None and table.num_rows]
        added = sum(len(part[0]) for part in parts)
        self.rows_read += added
        end_s = np.concatenate([self.end_s, *(part[0] for part in parts)])
        keep = end_s > now_s - self.keep_s
        self.end_s = end_s[keep]
        self.latency_s = np.concatenate([self.latency_s, *(part[1] for part in parts)])[keep]
        self.ok = np.concatenate([self.ok, *(part[2] for part in parts)])[keep]
        self.region = np.concatenate([self.region, *(part[3] for part in parts)])[keep]
        return added

    def _arrays(self, table: pa.Table) -> tuple[Any, ...]:
        if "label" in table.column_names:
            label = pc.cast(table.column("label"), pa.string())
            table = table.filter(pc.equal(label, ""))
        end_s = table.column("end_s").to_numpy()
        scheduled_s = table.column("scheduled_s").to_numpy() if "scheduled_s" in \
            table.column_names else end_s
        ok = table.column("ok").to_numpy(zero_copy_only=False) if "ok" in table.column_names \
            else np.zeros(len(end_s), dtype=bool)
        return (end_s, end_s - scheduled_s, ok.astype(bool), self._region_codes(table))

    def _region_codes(self, table: pa.Table) -> npt.NDArray[np.int32]:
        if "region" not in table.column_names:
            return np.full(table.num_rows, self._code(""), dtype=np.int32)
        column = table.column("region").combine_chunks()
        if not isinstance(column, pa.DictionaryArray):
            column = column.dictionary_encode()
        codes = np.array([self._code(str(name)) for name in column.dictionary.to_pylist()],
                         dtype=np.int32)
        return codes[column.indices.to_numpy(zero_copy_only=False)] if len(codes) \
            else np.empty(0, dtype=np.int32)

    def _code(self, region: str) -> int:
        if region not in self._codes:
            self._codes[region] = len(self.regions)
            self.regions.append(region)
        return self._codes[region]
