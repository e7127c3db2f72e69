"""Reading a run folder's request records column-wise (``RequestArrays.read``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gameday.measure import RequestArrays
from gameday.records import RecordWriter, RequestRecord, read_requests


def _record(scheduled_s: float, *, ok: bool = True, region: str = "region-a",
            status: int = 200, error_kind: str = "") -> RequestRecord:
    return RequestRecord(scheduled_s, scheduled_s + 0.001, scheduled_s + 0.020, "tabular",
                         "predict", region, status, ok, error_kind)


def _write(path: Path, records: list[RequestRecord]) -> None:
    with RecordWriter(path) as writer:
        for record in records:
            writer.write(record)


def test_columns_read_back_are_the_records_written(tmp_path):
    written = [_record(10.0), _record(10.5, ok=False, region="", status=0, error_kind="timeout"),
               _record(11.0, ok=False, region="region-b", status=503, error_kind="http_5xx")]
    _write(tmp_path / "requests-gen0.csv", written)
    arrays = RequestArrays.read(tmp_path)
    expected = RequestArrays.of(written)
    for name in ("scheduled_s", "start_s", "end_s", "ok", "region", "status", "error_kind"):
        assert getattr(arrays, name).tolist() == getattr(expected, name).tolist(), name
    assert arrays.latency_s == pytest.approx([0.020] * 3)


def test_every_generator_file_is_merged_by_scheduled_time(tmp_path):
    # each generator appends in completion order, not in scheduled order
    _write(tmp_path / "requests-gen0.csv", [_record(3.0), _record(1.0, region="region-b")])
    _write(tmp_path / "requests-gen1.csv", [_record(2.0, status=503, ok=False, region="",
                                                    error_kind="http_5xx"), _record(0.5)])
    arrays = RequestArrays.read(tmp_path)
    assert arrays.scheduled_s.tolist() == [0.5, 1.0, 2.0, 3.0]
    assert arrays.region.tolist() == ["region-a", "region-b", "", "region-a"]
    assert arrays.status.tolist() == [200, 200, 503, 200]
    assert arrays.error_kind.tolist() == ["", "", "http_5xx", ""]


def test_strings_come_back_as_fixed_width_arrays_not_one_object_per_row(tmp_path):
    _write(tmp_path / "requests.csv", [_record(float(i)) for i in range(100)])
    arrays = RequestArrays.read(tmp_path)
    assert arrays.region.dtype.kind == "U" and arrays.error_kind.dtype.kind == "U"
    assert arrays.ok.dtype == np.bool_ and arrays.status.dtype == np.int32


def test_a_torn_last_line_after_a_crash_is_skipped(tmp_path):
    path = tmp_path / "requests-gen0.csv"
    _write(path, [_record(1.0), _record(2.0)])
    with path.open("a") as handle:
        handle.write("3.000000,3.001000,3.0")  # the writer died mid-line
    assert RequestArrays.read(tmp_path).scheduled_s.tolist() == [1.0, 2.0]
    assert [r.scheduled_s for r in read_requests(tmp_path)] == [1.0, 2.0]


def test_a_writer_reopening_a_torn_file_starts_a_new_line(tmp_path):
    path = tmp_path / "requests-gen0.csv"
    _write(path, [_record(1.0)])
    with path.open("a") as handle:
        handle.write("2.000000,2.0")
    _write(path, [_record(3.0)])  # appended after the torn line, not glued to it
    assert RequestArrays.read(tmp_path).scheduled_s.tolist() == [1.0, 3.0]


def test_an_empty_or_header_only_file_holds_no_requests(tmp_path):
    (tmp_path / "requests-gen0.csv").write_text("")
    (tmp_path / "requests-gen1.csv").write_text("scheduled_s,start_s,en")  # torn header
    _write(tmp_path / "requests-gen2.csv", [])
    arrays = RequestArrays.read(tmp_path)
    assert len(arrays) == 0 and arrays.region.dtype.kind == "U"


def test_a_file_that_is_not_request_records_is_named_in_the_error(tmp_path):
    (tmp_path / "requests-other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"requests-other\.csv.*not a request record file"):
        RequestArrays.read(tmp_path)
