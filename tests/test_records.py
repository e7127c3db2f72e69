"""Request record files (gameday.records): the model version round-trips, and a file written
before that column existed still reads, the column empty."""

from __future__ import annotations

from pathlib import Path

from gameday.records import (
    REQUEST_COLUMNS,
    RecordWriter,
    RequestRecord,
    read_request_table,
    read_requests,
)


def test_the_model_version_round_trips(tmp_path: Path) -> None:
    with RecordWriter(tmp_path / "requests-gen0.csv") as writer:
        writer.write(RequestRecord(1.0, 1.0, 1.1, "triton", "infer", "region-a", 200, True,
                                   model_version="2"))
        writer.write(RequestRecord(2.0, 2.0, 2.1, "triton", "infer", "", 0, False,
                                   "timeout"))
    table = read_request_table(tmp_path, ["scheduled_s", "model_version"])
    assert table.column("model_version").cast("string").to_pylist() == ["2", ""]
    assert [r.model_version for r in read_requests(tmp_path)] == ["2", ""]


def test_a_file_from_before_model_versions_still_reads(tmp_path: Path) -> None:
    older = [*REQUEST_COLUMNS[:22], "latency_s"]
    row = ["1.000000", "1.000000", "1.200000", "rag", "ask", "region-a", "200", "1", "",
           "0.100000", "0.020000", "", "kb-1-q0", "vector", "miss", "", "", "complete", "",
           "1.000000", "1.000000", "1.000000", "0.200000"]
    assert len(row) == len(older)
    (tmp_path / "requests-gen0.csv").write_text(",".join(older) + "\n" + ",".join(row) + "\n")
    table = read_request_table(tmp_path, ["endpoint", "recall", "model_version"])
    assert table.column("endpoint").cast("string").to_pylist() == ["ask"]
    assert table.column("recall").to_pylist() == [1.0]
    assert table.column("model_version").cast("string").to_pylist() in ([""], [None])
    assert [r.model_version for r in read_requests(tmp_path)] == [""]


def test_a_file_from_before_the_edge_marks_still_reads(tmp_path: Path) -> None:
    older = [*REQUEST_COLUMNS[:23], "latency_s"]
    row = ["1.000000", "1.000000", "1.200000", "triton", "infer", "region-a", "200", "1", "",
           "", "", "", "", "", "", "", "", "", "", "", "", "", "1", "0.200000"]
    assert len(row) == len(older)
    (tmp_path / "requests-gen0.csv").write_text(",".join(older) + "\n" + ",".join(row) + "\n")
    (record,) = read_requests(tmp_path)
    assert (record.model_version, record.edge_cache, record.waf, record.label) == ("1", "", "", "")
