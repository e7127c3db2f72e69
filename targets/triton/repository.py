"""Builds the Triton stack's model versions: ``python -m targets.triton.repository``.

Writes ``<out>/fraud/<version>/`` (``artifacts/triton/fraud`` by default), each with the one
``model.py`` (``targets.triton.model``) and the weights that version computes:

- 1: the tabular stack's version 1 (log1p, scaler, logistic regression) read from its MLflow
  registry, so both stacks give the same score for the same transaction;
- 2: a small MLP (7 -> 32 -> 16 -> 1, ReLU) trained here on the same data and features;
- 3: a broken release: ``model.py`` without weights, which fails to load.

Beside them ``fraud-v2.skops``, version 2 as the scikit-learn pipeline it was trained as: the
tests' reference for it (version 1's is the registry itself). ``config.pbtxt`` is not written
here: each server member renders its own (``targets/triton/config.pbtxt.tmpl``: batching and
instance kind come from the suite) into its own repository, whose version folders link here.
Re-running is a no-op once the versions of this recipe and this ``model.py`` exist.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BROKEN_VERSION", "MODEL_NAME", "RECIPE", "VERSIONS", "build_versions", "main"]

MODEL_NAME = "fraud"
VERSIONS = (1, 2)  # the genuine ones
BROKEN_VERSION = 3
RECIPE = "1"  # bump when what a version computes changes: older builds are rebuilt
_STAMP = "recipe.json"
_MLP_ROWS = 60_000
_MLP_SEED = 11
_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parents[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=_REPO / "artifacts" / "triton")
    parser.add_argument("--model-home", type=Path, default=_REPO / "artifacts",
                        help="the tabular stack's model home (make setup trains it first)")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    try:
        print(build_versions(args.out, args.model_home, force=args.force))
    except (OSError, RuntimeError, KeyError) as exc:
        print(f"building the Triton model versions into {args.out} failed: {exc}",
              file=sys.stderr)
        return 2
    return 0


def build_versions(out: Path, model_home: Path, *, force: bool = False) -> str:
    folder = out / MODEL_NAME
    stamp = folder / _STAMP
    # the recipe, and model.py itself: an edited model.py is copied again
    built = {"recipe": RECIPE,
             "model_py": hashlib.sha256((_HERE / "model.py").read_bytes()).hexdigest()}
    if not force and stamp.is_file() and json.loads(stamp.read_text()).get("built") == built:
        return f"triton model versions up to date in {folder}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    _write_version(folder, 1, _logistic_weights(model_home))
    mlp = _train_mlp()
    _write_version(folder, 2, _mlp_weights(mlp))
    _write_version(folder, BROKEN_VERSION, None)
    import skops.io

    skops.io.dump(mlp, out / "fraud-v2.skops")
    stamp.write_text(json.dumps({"built": built, "versions": [*VERSIONS, BROKEN_VERSION]}))
    return f"triton model versions 1, 2 and broken {BROKEN_VERSION} written to {folder}"


def _write_version(folder: Path, version: int, weights: dict[str, Any] | None) -> None:
    target = folder / str(version)
    target.mkdir()
    shutil.copyfile(_HERE / "model.py", target / "model.py")
    if weights is not None:
        np.savez(target / "weights.npz", **weights)


def _logistic_weights(model_home: Path) -> dict[str, Any]:
    """The tabular registry's version 1, step by step: log1p, scaler, logistic regression."""
    from targets.tabular.home import ModelHome
    from targets.tabular.loader import ModelLoader

    home = ModelHome(model_home)
    pipeline: Any = ModelLoader(home.tracking_uri, home.root).load(
        f"models:/{MODEL_NAME}/1").estimator
    steps = dict(pipeline.steps)
    if set(steps) != {"log1p", "scale", "classifier"}:
        raise RuntimeError(f"tabular version 1 has steps {sorted(steps)}; expected log1p, "
                           "scale, classifier (targets.tabular.candidates changed?)")
    scale, classifier = steps["scale"], steps["classifier"]
    return {"kind": "logistic", "mean": scale.mean_, "scale": scale.scale_, "layers": 1,
            "w0": classifier.coef_.T, "b0": classifier.intercept_}


def _train_mlp() -> Any:
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from targets.tabular.data import make_transactions

    data = make_transactions(_MLP_ROWS, seed=_MLP_SEED)
    pipeline = Pipeline([
        ("log1p", FunctionTransformer(np.log1p)),
        ("scale", StandardScaler()),
        ("classifier", MLPClassifier(hidden_layer_sizes=(32, 16), max_iter=60,
                                     early_stopping=True, random_state=_MLP_SEED)),
    ])
    return pipeline.fit(data.features, data.fraud)


def _mlp_weights(pipeline: Any) -> dict[str, Any]:
    scale, classifier = pipeline.named_steps["scale"], pipeline.named_steps["classifier"]
    weights: dict[str, Any] = {"kind": "mlp", "mean": scale.mean_, "scale": scale.scale_,
                               "layers": len(classifier.coefs_)}
    for index, (w, b) in enumerate(zip(classifier.coefs_, classifier.intercepts_, strict=True)):
        weights[f"w{index}"], weights[f"b{index}"] = w, b
    return weights


if __name__ == "__main__":
    raise SystemExit(main())
