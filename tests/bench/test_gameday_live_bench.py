"""The game-day dashboard bench (``bench/gameday_live.py``) end to end, short and slow: a
writer at 500 req/s and the dashboard on its folder for 2 s, then the idle reference. The
figures are not judged (a benchmark says what it measured), only that they were measured:
the dashboard read what was written and refreshed once a second."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _bench() -> ModuleType:
    # bench/ is a folder of scripts, not a package; loaded under a name that shadows nothing
    path = Path(__file__).resolve().parents[2] / "bench" / "gameday_live.py"
    spec = importlib.util.spec_from_file_location("gameday_bench_live", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_bench_measures_the_dashboard_beside_the_writer_and_idle() -> None:
    bench = _bench()
    figures = bench.main(seconds=2.0, rate=500)
    summary = figures["summary"]
    assert figures["writer"]["records"] >= 900
    assert summary["records_read_vs_written"] > 0.5  # the last second may be unread
    assert figures["dashboard"]["refreshes"] >= 2 and figures["dashboard_idle"]["rows_read"] == 0
    assert summary["dashboard_cpu_pct_of_a_core"] > 0
    assert "game-day dashboard at 500 req/s" in bench.summary_lines(figures)[0]
