"""Game-day dashboard benchmark: what the live view costs at 4,000 req/s.

    python bench/gameday_live.py [--seconds 30] [--rate 4000]

One process writes request records at ``rate`` per second into a fresh run folder with the
real RecordWriter (paced every 5 ms, flushed every 0.5 s, as the load generator does: a
region-a / region-b mix with 1 % failures), while another runs the game-day dashboard on
that folder exactly as ``gameday gameday`` does (``LiveSession``: one refresh a second, the
folder read incrementally, the whole screen rendered by rich ``Live`` to a 160x48 terminal
that is /dev/null), for ``seconds``. Each process measures its own CPU seconds. Then the
same dashboard runs alone on a folder that gains nothing (the reference: the loop reading
nothing). Reported as % of one core, and the dashboard's CPU against the writer's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gameday.config import AvailabilitySlo, LoadProfile, Scenario, Suite
from gameday.records import EventKind, EventLog, RecordWriter, RequestRecord

__all__ = ["main", "summary_lines"]

RATE_PER_S = 4000
_BATCH_EVERY_S = 0.005


def _suite(seconds: float) -> Suite:
    return Suite(name="bench-live", load=LoadProfile(rate_per_s=RATE_PER_S, warmup_s=0,
                                                     duration_s=seconds + 60),
                 scenarios=[Scenario(name="region-outage", experiment=Path("x.json")),
                            Scenario(name="replica-kill", experiment=Path("y.json"))],
                 slos=[AvailabilitySlo(kind="availability", objective=0.99)])


def _writer(run_dir: Path, seconds: float, rate: float) -> dict[str, Any]:
    cpu_s, started_s = time.process_time(), time.time()
    written = 0
    with RecordWriter(run_dir / "requests-gen0.csv") as writer:
        while (now := time.time()) < started_s + seconds:
            due = int((now - started_s) * rate)
            for k in range(written, due):
                t_s = started_s + k / rate
                ok = k % 100 != 0
                writer.write(RequestRecord(t_s, t_s, t_s + 0.012 + (k % 7) * 0.001, "tabular",
                                           "predict", ("region-a", "region-b")[k % 2] if ok
                                           else "", 200 if ok else 502, ok,
                                           "" if ok else "http_5xx"))
            written = due
            time.sleep(_BATCH_EVERY_S)
    return {"cpu_s": time.process_time() - cpu_s, "wall_s": time.time() - started_s,
            "records": written}


class _NoKeys:
    def read(self, timeout_s: float) -> str:
        time.sleep(timeout_s)
        return ""


def _dashboard(run_dir: Path, seconds: float) -> dict[str, Any]:
    from rich.console import Console

    from gameday.interrupts import StopSignals
    from gameday.live.session import LiveSession
    from gameday.operator_log import OperatorLog
    from gameday.triggers import OperatorTrigger

    suite = _suite(seconds)
    trigger = OperatorTrigger(StopSignals(), [s.name for s in suite.scenarios])
    with open(os.devnull, "w") as null:
        console = Console(file=null, force_terminal=True, color_system="truecolor", width=160,
                          height=48)
        cpu_s, started_s = time.process_time(), time.time()
        with LiveSession(run_dir, suite, trigger, OperatorLog(run_dir), _NoKeys(),
                         console) as session:
            time.sleep(seconds)
        cpu_s = time.process_time() - cpu_s
    assert session.failure is None, session.failure
    return {"cpu_s": cpu_s, "wall_s": time.time() - started_s, "refreshes": session.refreshes,
            "rows_read": session.view.requests.rows_read}


def _child(role: str, run_dir: Path, seconds: float, rate: float) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, "--role", role, "--dir", str(run_dir),
                             "--seconds", str(seconds), "--rate", str(rate)],
                            stdout=subprocess.PIPE, text=True)


def _result(child: subprocess.Popen[str]) -> dict[str, Any]:
    output, _ = child.communicate(timeout=600)
    if child.returncode != 0:
        raise RuntimeError(f"a benchmark child failed ({child.returncode}): {output}")
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return figures


def _folder(root: Path, name: str) -> Path:
    run_dir = root / name
    run_dir.mkdir()
    EventLog(run_dir / "events.jsonl").emit(EventKind.LOAD_START)
    return run_dir


def main(seconds: float = 30.0, rate: float = RATE_PER_S) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gameday-live-bench-") as work:
        busy = _folder(Path(work), "busy")
        writer = _child("writer", busy, seconds + 2, rate)
        time.sleep(1.0)  # the dashboard starts on a folder already being written
        dashboard = _result(_child("dashboard", busy, seconds, rate))
        written = _result(writer)
        idle = _result(_child("dashboard", _folder(Path(work), "idle"), seconds, rate))
    figures = {"rate_per_s": rate, "seconds": seconds, "writer": written,
               "dashboard": dashboard, "dashboard_idle": idle}
    figures["summary"] = {
        "dashboard_cpu_pct_of_a_core": 100 * dashboard["cpu_s"] / dashboard["wall_s"],
        "idle_dashboard_cpu_pct_of_a_core": 100 * idle["cpu_s"] / idle["wall_s"],
        "writer_cpu_pct_of_a_core": 100 * written["cpu_s"] / written["wall_s"],
        "dashboard_vs_writer_cpu": dashboard["cpu_s"] / written["cpu_s"],
        "dashboard_vs_idle_cpu": dashboard["cpu_s"] / max(idle["cpu_s"], 1e-9),
        "cpu_ms_per_refresh": 1000 * dashboard["cpu_s"] / max(dashboard["refreshes"], 1),
        "idle_cpu_ms_per_refresh": 1000 * idle["cpu_s"] / max(idle["refreshes"], 1),
        "records_read_vs_written": dashboard["rows_read"] / max(written["records"], 1),
    }
    return figures


def summary_lines(figures: dict[str, Any]) -> list[str]:
    s = figures["summary"]
    return [
        f"game-day dashboard at {figures['rate_per_s']:,.0f} req/s  "
        f"{s['dashboard_cpu_pct_of_a_core']:.1f} % of a core "
        f"({s['cpu_ms_per_refresh']:.1f} ms CPU a refresh) = "
        f"{s['dashboard_vs_writer_cpu']:.2f}x the record writer's CPU "
        f"({s['writer_cpu_pct_of_a_core']:.1f} %); reading nothing "
        f"{s['idle_dashboard_cpu_pct_of_a_core']:.1f} % ({s['idle_cpu_ms_per_refresh']:.1f} ms "
        f"a refresh)",
    ]


def _main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=RATE_PER_S)
    parser.add_argument("--role", choices=("writer", "dashboard"), default=None)
    parser.add_argument("--dir", type=Path, default=None)
    options = parser.parse_args()
    if options.role == "writer":
        print(json.dumps(_writer(options.dir, options.seconds, options.rate)))
    elif options.role == "dashboard":
        print(json.dumps(_dashboard(options.dir, options.seconds)))
    else:
        figures = main(options.seconds, options.rate)
        print(json.dumps(figures, indent=2))
        print("\n".join(summary_lines(figures)))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
