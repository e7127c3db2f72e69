"""Run-to-run judgement benchmark: ``gameday compare`` on two run folders of 1,000,000 request
records each.

    python bench/compare.py [--requests 1000000] [--keep DIR]

Both folders are the report benchmark's (``bench/report.py``: two generators, Poisson at
1,000 req/s, a region-a outage), seeds 7 and 8, so the candidate differs by chance only. Each
measurement runs in a fresh child process, three times; the round with the median time is
reported:

  compare   ``gameday compare BASE CAND --json`` as the CLI runs it (read both folders,
            samples, Mann–Whitney U and the exact Hodges–Lehmann interval per metric, table)
  judge     the judgement alone on samples already in memory, inside the compare child
  read      the reference: pyarrow reading the same CSV files of both folders, every column

The Hodges–Lehmann interval over 1 M × 1 M samples has 10^12 pairwise differences; a brute
force could not hold them. It is found by selection (``gameday.measure.hodges_lehmann``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report

__all__ = ["main", "summary_lines"]

_CHILD_COMPARE = """
import json, resource, sys, time
started = time.perf_counter()
from pathlib import Path
from gameday.cli import main
from gameday.measure.judge import JudgeConfig, judge
from reports.compare import _paired, _names, run_samples, read_run
imported = time.perf_counter()
code = main(["compare", sys.argv[1], sys.argv[2], "--json", sys.argv[3]])
done = time.perf_counter()
base, cand = (run_samples(read_run(Path(p))) for p in sys.argv[1:3])
paired = [_paired(name, base, cand) for name in _names(base, cand)]
judge_started = time.perf_counter()
judgement = judge(paired, JudgeConfig())
judged = time.perf_counter()
print(json.dumps({"wall_s": done - imported, "import_s": imported - started, "exit_code": code,
                  "judge_s": judged - judge_started,
                  "samples": {m.name: [int(m.baseline.size), int(m.candidate.size)]
                              for m in paired},
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
_CHILD_READ = """
import json, resource, sys, time
started = time.perf_counter()
from pathlib import Path
import pyarrow.csv
imported = time.perf_counter()
rows = sum(pyarrow.csv.read_csv(path).num_rows for folder in sys.argv[1:3]
           for path in sorted(Path(folder).glob("requests*.csv")))
done = time.perf_counter()
print(json.dumps({"wall_s": done - imported, "import_s": imported - started, "rows": rows,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _child(code: str, *args: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, timeout=900, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median_of(code: str, *args: Path, rounds: int) -> dict[str, Any]:
    results = sorted((_child(code, *args) for _ in range(rounds)), key=lambda r: r["wall_s"])
    return {**results[len(results) // 2], "rounds_wall_s": [r["wall_s"] for r in results]}


def measure(base: Path, cand: Path, out: Path, rounds: int = 3) -> dict[str, Any]:
    read = _median_of(_CHILD_READ, base, cand, rounds=rounds)
    compared = _median_of(_CHILD_COMPARE, base, cand, out, rounds=rounds)
    judgement = json.loads(out.read_text())
    return {"requests_per_run": read["rows"] // 2, "compare": compared, "read_reference": read,
            "compare_vs_read_time": compared["wall_s"] / read["wall_s"],
            "compare_vs_read_rss": compared["peak_rss_mb"] / read["peak_rss_mb"],
            "judge_share": compared["judge_s"] / compared["wall_s"],
            "verdict": judgement["verdict"],
            "classes": {m["name"]: m["class"] for m in judgement["metrics"]}}


def summary_lines(result: dict[str, Any]) -> list[str]:
    compared, read = result["compare"], result["read_reference"]
    return [
        f"gameday compare, 2 x {result['requests_per_run']:,} records  {compared['wall_s']:.2f} s,"
        f" peak RSS {compared['peak_rss_mb']:.0f} MB = {result['compare_vs_read_time']:.1f}x the "
        f"time and {result['compare_vs_read_rss']:.1f}x the memory of a bare pyarrow read of "
        f"both ({read['wall_s']:.2f} s, {read['peak_rss_mb']:.0f} MB); the judgement itself "
        f"{compared['judge_s']:.2f} s ({result['judge_share']:.0%}); verdict "
        f"{result['verdict']} (two runs that differ by chance)",
    ]


def main(requests: int = 1_000_000, keep: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="gameday-bench-compare-") as tmp:
        root = keep or Path(tmp)
        # a parent each: write_run checks its format in files beside the folder
        base = report.write_run(root / "a" / "base", requests=requests, seed=7)
        cand = report.write_run(root / "b" / "cand", requests=requests, seed=8)
        result = measure(base, cand, root / "judgement.json")
    for line in summary_lines(result):
        print(line)
    print(f"    samples per metric (baseline, candidate): {result['compare']['samples']}")
    print(f"    classes: {result['classes']}; rounds {result['compare']['rounds_wall_s']}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="write the run folders here")
    options = parser.parse_args()
    main(options.requests, options.keep)
