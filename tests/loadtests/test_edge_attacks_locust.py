"""``loadtests/edge_attacks.py`` under the plain Locust CLI against a real local server that
marks its answers as the edge does, recording into a run folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameday.load.attacks import labelled_set
from gameday.records import read_requests
from tests.load.fake_edge import FakeEdge

REPO = Path(__file__).resolve().parents[2]
LOCUST = Path(sys.executable).parent / "locust"


@pytest.fixture
def fake_edge() -> Iterator[FakeEdge]:
    edge = FakeEdge(blocks=("sqli", "xss", "traversal"))
    yield edge
    edge.close()


def _locust(host: str, run_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [str(LOCUST), "-f", "loadtests/edge_attacks.py", "--headless", "-u", "3", "-r",
               "3", "-t", "3s", "-H", host, "--only-summary", "--loglevel", "WARNING"]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "GAMEDAY_RUN_DIR": str(run_dir)})


def test_plain_locust_cli_sends_the_labelled_mix_and_records_labels_and_marks(
        fake_edge: FakeEdge, tmp_path: Path) -> None:
    done = _locust(f"{fake_edge.url}/tabular", tmp_path)
    records = read_requests(tmp_path)
    assert len(records) > len(labelled_set("tabular")), done.stderr[-2000:]
    # every request the fake refused or answered as the stack is ok: the whole run succeeds
    assert done.returncode == 0, done.stderr[-2000:]
    assert all(r.ok and r.scheduled_s == r.start_s and r.endpoint == "attack" for r in records)
    assert {r.label for r in records} == {"benign", "sqli", "xss", "traversal", "oversized"}
    assert {r.waf for r in records if r.label in ("sqli", "xss", "traversal")} == {"blocked"}
    assert {(r.status, r.region) for r in records if r.label == "oversized"} == {(413, "")}
    assert {r.edge_cache for r in records if r.label == "benign"} == {"MISS", "HIT"}
    sent = {("/tabular" + r.path, r.body, r.label) for r in labelled_set("tabular")}
    assert {(s.path, s.body, s.label) for s in fake_edge.seen} == sent  # as written, each one
    for label in ("benign", "sqli", "oversized"):  # Locust's statistics are named by label
        assert f" {label} " in done.stdout + done.stderr


def test_a_host_that_names_no_stack_is_refused_before_anything_is_sent(
        fake_edge: FakeEdge, tmp_path: Path) -> None:
    done = _locust(f"{fake_edge.url}/llm", tmp_path)
    assert "expected an edge URL ending in one of the stacks" in done.stderr
    assert not fake_edge.seen
