"""The run folder read incrementally: only what was appended since the last read, complete
lines only (a line still being written waits), request records parsed column-wise, the
labelled attack set left out, old records forgotten. Files written by the real RecordWriter
and EventLog."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gameday.live.tail import FileTail, JsonlTail, RequestTail
from gameday.records import EventKind, EventLog, RecordWriter, RequestRecord

T0 = 1_764_061_200.0


def _record(t_s: float, *, ok: bool = True, region: str = "region-a", latency_s: float = 0.02,
            label: str = "") -> RequestRecord:
    return RequestRecord(t_s, t_s, t_s + latency_s, "tabular", "predict",
                         region if ok else "", 200 if ok else 502, ok,
                         "" if ok else "http_5xx", label=label)


def test_a_file_tail_gives_new_complete_lines_and_keeps_a_torn_one_for_later(
        tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    tail = FileTail(path)
    assert tail.read() == b""  # not there yet
    path.write_bytes(b"one\ntw")
    assert tail.read() == b"one\n"
    assert tail.read() == b""
    with path.open("ab") as handle:
        handle.write(b"o\nthree\n")
    assert tail.read() == b"two\nthree\n"


def test_a_jsonl_tail_reads_each_event_once(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    tail = JsonlTail(log.path)
    log.emit(EventKind.LOAD_START, t_s=T0)
    log.emit(EventKind.SCENARIO_START, "s", t_s=T0 + 1)
    assert [e["kind"] for e in tail.read()] == ["load_start", "scenario_start"]
    assert tail.read() == []
    log.emit(EventKind.FAULT_START, "s", t_s=T0 + 2)
    assert [(e["kind"], e["scenario"]) for e in tail.read()] == [("fault_start", "s")]


def test_the_request_tail_reads_only_what_was_appended(tmp_path: Path) -> None:
    tail = RequestTail(tmp_path, keep_s=1000)
    assert tail.update(T0) == 0  # no file yet
    with RecordWriter(tmp_path / "requests-gen0.csv", flush_every_s=0) as writer:
        for k in range(10):
            writer.write(_record(T0 + k, ok=k != 3, region="region-b" if k % 2 else "region-a"))
        writer._file.flush()
        assert tail.update(T0 + 10) == 10
        for k in range(10, 15):
            writer.write(_record(T0 + k))
    assert tail.update(T0 + 15) == 5
    assert tail.update(T0 + 15) == 0
    assert len(tail.end_s) == 15 and tail.rows_read == 15
    np.testing.assert_allclose(tail.latency_s, 0.02, atol=1e-6)
    assert int(np.count_nonzero(~tail.ok)) == 1
    shown = [tail.regions[code] for code in tail.region[:4]]
    assert shown == ["region-a", "region-b", "region-a", ""]  # request 3 failed: no region


def test_a_torn_last_row_waits_until_it_is_complete(tmp_path: Path) -> None:
    path = tmp_path / "requests-gen0.csv"
    with RecordWriter(path) as writer:
        writer.write(_record(T0))
        writer.write(_record(T0 + 1))
    whole = path.read_bytes()
    path.write_bytes(whole[:-20])  # the second row half written
    tail = RequestTail(tmp_path, keep_s=1000)
    assert tail.update(T0 + 2) == 1
    path.write_bytes(whole)
    assert tail.update(T0 + 2) == 1
    np.testing.assert_allclose(tail.end_s, [T0 + 0.02, T0 + 1.02])


def test_labelled_requests_are_left_out_and_generators_are_merged(tmp_path: Path) -> None:
    with RecordWriter(tmp_path / "requests-gen0.csv") as writer:
        writer.write(_record(T0))
        writer.write(_record(T0 + 0.5, ok=False, label="sqli"))  # the WAF refused an attack
    with RecordWriter(tmp_path / "requests-attacks.csv") as writer:
        writer.write(_record(T0 + 0.7, region="region-b"))
    tail = RequestTail(tmp_path, keep_s=1000)
    assert tail.update(T0 + 1) == 2
    assert bool(tail.ok.all())
    assert sorted(tail.regions[code] for code in tail.region) == ["region-a", "region-b"]


def test_records_older_than_the_kept_span_are_forgotten(tmp_path: Path) -> None:
    with RecordWriter(tmp_path / "requests-gen0.csv") as writer:
        for k in range(100):
            writer.write(_record(T0 + k))
    tail = RequestTail(tmp_path, keep_s=30)
    assert tail.update(T0 + 100) == 100
    assert len(tail.end_s) == 30
    assert tail.end_s.min() > T0 + 100 - 30
