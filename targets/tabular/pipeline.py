"""The tabular stack's ML pipeline, one step after another: `python -m targets.tabular.pipeline`
(`make setup` runs it; `gameday pipeline` re-runs it on its own).

1. **data**: the generated transactions, written to ``artifacts/data/transactions.parquet``;
2. **features**: the Feast feature repository applied and both regions' online stores
   materialised (``targets.tabular.featurestore.build``, in its own venv ``.venv-feast``);
3. **train**: every candidate trained on that file and evaluated on its held-out rows;
4. **register**: versions and aliases in the MLflow registry, read back from it;
5. **serve**: one real replica started from the registry's champion, answering the labelled
   shadow set (its ROC AUC, its latency);
6. **monitor**: that replica's own monitoring: its Prometheus counters count what it answered,
   and its drift monitor judges the held-out rows no drift.

Steps 1 to 4 are skipped when what they make is up to date (a second run takes seconds); 5
and 6 always run, since they check what is served. Each step prints one line of result. Exit 0
when every step succeeded, 2 at the first that failed (the rest are not run).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import numpy as np

from targets.tabular.home import ALIAS_VERSIONS, MODEL_NAME, ModelHome
from targets.tabular.replica import REPO

__all__ = ["STEPS", "StepResult", "main", "run_pipeline"]

_T = TypeVar("_T")
FEAST_PYTHON = REPO / ".venv-feast" / "bin" / "python"
FEATURE_BUILD = "targets.tabular.featurestore.build"


class StepFailed(RuntimeError):
    """A step could not do its work: the message says what and where to look."""


@dataclass(frozen=True, slots=True)
class StepResult:
    step: str
    status: str  # ran | up to date | checked | skipped
    detail: str
    seconds: float

    def line(self, number: int, total: int) -> str:
        return f"[{number}/{total}] {self.step:<8} {self.status}: {self.detail} " \
               f"({self.seconds:.1f} s)"


@dataclass
class _Context:
    home: ModelHome
    force: bool
    trained: list[str]  # the train step's summary lines (the register step reports them)


def _data(ctx: _Context) -> tuple[str, str]:
    from targets.tabular.data import (
        DATASET_ROWS,
        DATASET_SEED,
        dataset_is_current,
        read_dataset,
        write_dataset,
    )

    path = ctx.home.dataset_path
    if not ctx.force and dataset_is_current(path):
        data = read_dataset(path)
        status = "up to date"
    else:
        data = write_dataset(path)
        status = "ran"
    return status, (f"{len(data.fraud):,} transactions (seed {DATASET_SEED}, "
                    f"{DATASET_ROWS:,} asked), fraud rate {data.fraud_rate:.2%}: {path}")


def _features(ctx: _Context) -> tuple[str, str]:
    if not FEAST_PYTHON.is_file():
        return "skipped", f"{FEAST_PYTHON.parent.parent} is missing (make setup installs Feast)"
    if not (REPO / "targets" / "tabular" / "featurestore").is_dir():
        return "skipped", "no feature store in this checkout"
    args = [str(FEAST_PYTHON), "-m", FEATURE_BUILD, "--artifacts", str(ctx.home.root)]
    if ctx.force:
        args.append("--force")
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=900,
                          check=False)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0:
        raise StepFailed(f"{' '.join(args[1:3])} exited {done.returncode}: "
                         f"{(done.stderr or done.stdout).strip()[-800:]}")
    text = "; ".join(lines) or "done"
    return ("up to date" if "up to date" in text else "ran"), text


def _train(ctx: _Context) -> tuple[str, str]:
    from targets.tabular.train import profiles_have_reference, registry_up_to_date

    if not ctx.force and registry_up_to_date(ctx.home) and profiles_have_reference(ctx.home):
        ctx.trained = []
        return "up to date", f"the registry holds versions 1-{max(ALIAS_VERSIONS.values())} " \
                             "trained on this dataset"
    from targets.tabular.train import train_and_register

    try:
        ctx.trained = train_and_register(ctx.home, seed=7)
    except (OSError, RuntimeError) as exc:
        raise StepFailed(f"training into {ctx.home.root} failed: {exc}") from None
    versions = [line for line in ctx.trained if line.startswith(f"{MODEL_NAME} v")]
    return "ran", "; ".join(versions)


def _register(ctx: _Context) -> tuple[str, str]:
    """Read back from the registry itself what serving will resolve."""
    from targets.tabular.train import registry_up_to_date

    if not registry_up_to_date(ctx.home):
        raise StepFailed(f"the registry at {ctx.home.db_path} lacks a version or an alias "
                         "after training")
    aliases = ", ".join(f"{alias} -> v{version}" for alias, version in ALIAS_VERSIONS.items())
    rows = sum(1 for _ in ctx.home.shadow_set_path.open())
    return ("ran" if ctx.trained else "up to date"), \
        f"models:/{MODEL_NAME}: {aliases}; shadow set {rows:,} labelled rows"


def _shadow_rows(home: ModelHome) -> tuple[list[dict[str, object]], np.ndarray]:
    labelled = [json.loads(line) for line in home.shadow_set_path.open()]
    return [row["transaction"] for row in labelled], \
        np.array([int(row["fraud"]) for row in labelled])


def _serve_and_monitor(ctx: _Context) -> tuple[tuple[str, str], tuple[str, str]]:
    from sklearn.metrics import roc_auc_score

    from targets.tabular.replica import replica

    rows, labels = _shadow_rows(ctx.home)
    with tempfile.TemporaryDirectory(prefix="gameday-pipeline-") as tmp, \
            replica(Path(tmp) / "replica.log", artifacts=ctx.home.root) as url, \
            httpx.Client(timeout=10) as client:
        ready = client.get(f"{url}/ready")
        if ready.status_code != 200:
            raise StepFailed(f"the replica is not ready: {ready.status_code} {ready.text[:200]}")
        scores, latencies, versions = [], [], set()
        for row in rows:
            began = time.perf_counter()
            answer = client.post(f"{url}/predict", json=row)
            latencies.append(time.perf_counter() - began)
            if answer.status_code != 200:
                raise StepFailed(f"/predict answered {answer.status_code}: {answer.text[:200]}")
            body = answer.json()
            scores.append(float(body["fraud_score"]))
            versions.add(str(body["model_version"]))
        metrics = client.get(f"{url}/metrics").text
        drift = client.get(f"{url}/drift").json()
    auc = float(roc_auc_score(labels, scores))
    served = (f"champion v{', v'.join(sorted(versions))} from the registry answered "
              f"{len(rows):,} shadow rows: ROC AUC {auc:.3f}, p50 "
              f"{np.percentile(latencies, 50) * 1e3:.1f} ms, p99 "
              f"{np.percentile(latencies, 99) * 1e3:.1f} ms")
    counted = _predictions_counted(metrics)
    if counted != len(rows):
        raise StepFailed(f"/metrics counts {counted} predictions, not the {len(rows)} served")
    if drift.get("dataset_drift") is not False:
        raise StepFailed(f"/drift calls held-out training rows drifted: {drift}")
    max_psi = max(float(f["psi"]) for f in drift["features"])
    monitored = (f"/metrics counts {counted:,} predictions; /drift over "
                 f"{drift['window_rows']:,} inputs: no dataset drift, max PSI {max_psi:.3f}")
    return ("checked", served), ("checked", monitored)


def _predictions_counted(metrics: str) -> int:
    """The sum of tabular_predictions_total over its labels (Prometheus text format)."""
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("tabular_predictions_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


StepFn = Callable[[_Context], tuple[str, str]]
STEPS: tuple[str, ...] = ("data", "features", "train", "register", "serve", "monitor")


def _guarded(name: str, step: Callable[[_Context], _T], ctx: _Context) -> _T:
    """The step's result; any failure of it a StepFailed naming the step."""
    try:
        return step(ctx)
    except StepFailed as exc:
        raise StepFailed(f"step {name}: {exc}") from None
    except (OSError, RuntimeError, ValueError, httpx.HTTPError) as exc:
        raise StepFailed(f"step {name}: {type(exc).__name__}: {exc}") from None


def run_pipeline(home: ModelHome, *, force: bool = False,
                 echo: Callable[[str], None] = print) -> list[StepResult]:
    """Every step in order; a StepFailed stops the pipeline (raised after its line)."""
    ctx = _Context(home=home, force=force, trained=[])
    results: list[StepResult] = []
    single: list[tuple[str, StepFn]] = [("data", _data), ("features", _features),
                                        ("train", _train), ("register", _register)]
    for name, step in single:
        began = time.monotonic()
        status, detail = _guarded(name, step, ctx)
        results.append(StepResult(name, status, detail, time.monotonic() - began))
        echo(results[-1].line(len(results), len(STEPS)))
    began = time.monotonic()
    served, monitored = _guarded("serve", _serve_and_monitor, ctx)
    spent = time.monotonic() - began
    for name, (status, detail) in (("serve", served), ("monitor", monitored)):
        results.append(StepResult(name, status, detail, spent))
        echo(results[-1].line(len(results), len(STEPS)))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m targets.tabular.pipeline",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=REPO / "artifacts",
                        help="the model home (default: artifacts/)")
    parser.add_argument("--force", action="store_true", help="redo every step")
    options = parser.parse_args(argv)
    try:
        run_pipeline(ModelHome(options.home), force=options.force)
    except StepFailed as exc:
        print(f"pipeline failed at {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
