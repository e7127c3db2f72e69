"""Trains the fraud models and registers them in MLflow: `python -m targets.tabular.train`.

Version 1 (logistic regression) and version 2 (gradient boosting) of registered model `fraud`,
aliases champion -> 1 and challenger -> 2; versions 3-5, the bad releases the release
experiments must catch (aliases bad-slow, bad-errors, bad-silent); a labelled shadow set of
held-out transactions; and an unregistered model with the wrong input signature for the
model-broken fault. Re-running is a ~1 s no-op once all of that exists.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from contextlib import closing, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from targets.tabular.home import ALIAS_VERSIONS, MODEL_NAME, PROFILE_FILE, ModelHome

if TYPE_CHECKING:
    import numpy as np

    from targets.tabular.candidates import Candidate

__all__ = ["TRAINING_RECIPE", "main", "profiles_have_reference", "registry_up_to_date",
           "train_and_register"]

#: Bump when the data or the candidates change: a registry trained by another recipe is rebuilt.
TRAINING_RECIPE = "3"
# Registered-model tag holding the recipe; set last, so it also marks a finished training.
_RECIPE_TAG = "gameday.training_recipe"
_TEST_SHARE = 0.25
_SHADOW_ROWS = 2000
_EXPERIMENT = "fraud"
# Set before mlflow is imported: no progress bars in logs, nothing sent anywhere.
_MLFLOW_ENV = {
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    home = ModelHome(args.home)
    if not args.force and registry_up_to_date(home) and profiles_have_reference(home):
        print("model registry up to date")
        return 0
    try:
        summary = train_and_register(home, seed=args.seed)
    except (OSError, RuntimeError) as exc:
        print(f"training into {home.root} failed: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary))
    return 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m targets.tabular.train", description=__doc__)
    parser.add_argument("--home", type=Path, default=Path("artifacts"), help="model home directory")
    parser.add_argument("--seed", type=int, default=7, help="seed of data and models")
    parser.add_argument("--force", action="store_true", help="retrain even if up to date")
    return parser.parse_args(argv)


def registry_up_to_date(home: ModelHome) -> bool:
    """True when versions 1 and 2, their aliases and the incompatible model all exist, made
    by this TRAINING_RECIPE from the dataset file as it is now (its digest).

    Reads the SQLite file directly: importing mlflow alone takes longer than the whole check.
    """
    if not home.db_path.is_file() or not (home.incompatible_model_dir / "MLmodel").is_file() \
            or not home.shadow_set_path.is_file() or not home.dataset_path.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"{home.db_path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            locations = dict(
                db.execute(
                    "SELECT version, storage_location FROM model_versions"
                    " WHERE name = ? AND status = 'READY'",
                    (MODEL_NAME,),
                )
            )
            aliases = dict(
                db.execute(
                    "SELECT alias, version FROM registered_model_aliases WHERE name = ?",
                    (MODEL_NAME,),
                )
            )
            recipe = db.execute(
                "SELECT value FROM registered_model_tags WHERE name = ? AND key = ?",
                (MODEL_NAME, _RECIPE_TAG),
            ).fetchone()
    except sqlite3.Error:
        return False
    return recipe == (_recipe(home),) and all(
        aliases.get(alias) == version and _is_model_dir(locations.get(version))
        for alias, version in ALIAS_VERSIONS.items()
    )


def _recipe(home: ModelHome) -> str:
    """The registry's recipe tag: TRAINING_RECIPE and the digest of the data trained on."""
    from targets.tabular.data import dataset_digest

    return f"{TRAINING_RECIPE}+{dataset_digest(home.dataset_path)}"


def _is_model_dir(location: str | None) -> bool:
    if not location or urlparse(location).scheme not in ("file", ""):
        return False
    return (Path(unquote(urlparse(location).path)) / "MLmodel").is_file()


def profiles_have_reference(home: ModelHome) -> bool:
    """True when every registered version's training profile, and the incompatible model's,
    holds the drift test's reference sample. One written before profiles carried it is
    rebuilt by retraining: a logged model's files are not edited in place."""
    try:
        with closing(sqlite3.connect(f"{home.db_path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            locations = [location for (location,) in db.execute(
                "SELECT storage_location FROM model_versions WHERE name = ? AND status = 'READY'",
                (MODEL_NAME,))]
    except sqlite3.Error:
        return False
    model_dirs = [Path(unquote(urlparse(location).path)) for location in locations]
    return all(_has_reference(model_dir / "extra_files" / PROFILE_FILE)
               for model_dir in [*model_dirs, home.incompatible_model_dir])


def _has_reference(profile: Path) -> bool:
    try:
        document = json.loads(profile.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and bool(document.get("reference"))


def train_and_register(home: ModelHome, seed: int) -> list[str]:
    """Train every candidate, register versions 1 and 2 afresh, save the incompatible model."""
    os.environ.update(_MLFLOW_ENV)
    import mlflow
    from sklearn.model_selection import train_test_split

    from targets.tabular.candidates import incompatible_candidate, registry_candidates
    from targets.tabular.data import dataset_is_current, read_dataset, write_dataset
    from targets.tabular.drift import TrainingProfile

    if not dataset_is_current(home.dataset_path, seed=seed):
        write_dataset(home.dataset_path, seed=seed)
    data = read_dataset(home.dataset_path)
    x_train, x_test, y_train, y_test = train_test_split(
        data.features, data.fraud, test_size=_TEST_SHARE, random_state=seed, stratify=data.fraud
    )
    home.artifacts_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(home.tracking_uri)
    mlflow.set_registry_uri(home.tracking_uri)
    client = mlflow.MlflowClient()
    _forget_registered_model(client)
    mlflow.set_experiment(experiment_id=_experiment_id(client, home))
    summary = [f"data: {len(data.fraud)} rows, fraud rate {data.fraud_rate:.2%}, seed {seed} "
               f"({home.dataset_path})"]
    with tempfile.TemporaryDirectory() as scratch:
        profile_path = Path(scratch) / PROFILE_FILE
        profile_path.write_text(json.dumps(TrainingProfile.from_matrix(x_train, seed=seed)
                                           .to_dict()))
        for expected_version, candidate in enumerate(registry_candidates(seed), start=1):
            candidate.pipeline.fit(_columns_for(candidate, x_train), y_train)
            metrics = _evaluate(candidate, x_test, y_test)
            version = _log_version(candidate, metrics, x_train, profile_path, data.fraud_rate)
            if version != expected_version:
                raise RuntimeError(
                    f"registered v{version} of {MODEL_NAME}, not v{expected_version}"
                )
            summary.append(f"{MODEL_NAME} v{version} {candidate.kind}: " + _format(metrics))
        for alias, version in ALIAS_VERSIONS.items():
            client.set_registered_model_alias(MODEL_NAME, alias, str(version))
        _save_incompatible(home, incompatible_candidate(), x_train, y_train, profile_path)
    _write_shadow_set(home, x_test, y_test, seed)
    client.set_registered_model_tag(MODEL_NAME, _RECIPE_TAG, _recipe(home))
    summary.append(f"aliases: {ALIAS_VERSIONS}; incompatible model: {home.incompatible_model_dir}")
    return summary


def _forget_registered_model(client: Any) -> None:
    # Versions left by an earlier run (half-finished, or retrained with --force) go, so that
    # numbering starts again at 1 and the aliases mean what the platform expects.
    from mlflow.exceptions import MlflowException

    with suppress(MlflowException):
        client.delete_registered_model(MODEL_NAME)


def _experiment_id(client: Any, home: ModelHome) -> str:
    experiment = client.get_experiment_by_name(_EXPERIMENT)
    if experiment is not None:
        return str(experiment.experiment_id)
    return str(client.create_experiment(_EXPERIMENT, home.artifacts_dir.resolve().as_uri()))


def _columns_for(candidate: Candidate, x_train: np.ndarray) -> np.ndarray:
    """The matrix ``candidate`` is trained on: the serving order, or two columns swapped (the
    skew bug of a bad release; it is evaluated, and served, in the serving order)."""
    from targets.tabular.features import FEATURE_NAMES

    if candidate.swapped_columns is None:
        return x_train
    first, second = (FEATURE_NAMES.index(name) for name in candidate.swapped_columns)
    skewed = x_train.copy()
    skewed[:, [first, second]] = x_train[:, [second, first]]
    return skewed


def _scorer(candidate: Candidate) -> Any:
    """What evaluation scores: a bad release wrapper's model itself (the wrapper's failures and
    delays are its fault, not its accuracy)."""
    release = candidate.pipeline.named_steps.get("release")
    return candidate.pipeline if release is None else release.pipeline


def _write_shadow_set(home: ModelHome, x_test: np.ndarray, y_test: np.ndarray,
                      seed: int) -> None:
    import numpy as np

    from targets.tabular.features import FEATURE_NAMES

    picked = np.random.default_rng(seed).choice(len(y_test), size=_SHADOW_ROWS, replace=False)
    lines = []
    for row, fraud in zip(x_test[picked], y_test[picked], strict=True):
        transaction: dict[str, Any] = dict(zip(FEATURE_NAMES, (float(v) for v in row),
                                               strict=True))
        for name in ("hour", "card_age_days", "tx_last_24h"):
            transaction[name] = int(transaction[name])
        transaction["foreign"] = bool(transaction["foreign"])
        lines.append(json.dumps({"transaction": transaction, "fraud": int(fraud)}))
    home.shadow_set_path.parent.mkdir(parents=True, exist_ok=True)
    staging = home.shadow_set_path.with_suffix(f".{os.getpid()}")
    staging.write_text("\n".join(lines) + "\n")
    staging.replace(home.shadow_set_path)


def _evaluate(candidate: Candidate, x_test: np.ndarray, y_test: np.ndarray) -> dict[str, float]:
    from sklearn import metrics as sk

    from targets.tabular.features import FRAUD_THRESHOLD

    score = _scorer(candidate).predict_proba(x_test)[:, 1]
    flagged = score >= FRAUD_THRESHOLD
    return {
        "roc_auc": float(sk.roc_auc_score(y_test, score)),
        "pr_auc": float(sk.average_precision_score(y_test, score)),
        "recall_at_0_5": float(sk.recall_score(y_test, flagged)),
        "precision_at_0_5": float(sk.precision_score(y_test, flagged, zero_division=0)),
    }


def _log_version(
    candidate: Candidate,
    metrics: dict[str, float],
    x_train: np.ndarray,
    profile_path: Path,
    fraud_rate: float,
) -> int:
    import mlflow
    import mlflow.sklearn

    from targets.tabular.features import FEATURE_NAMES, FRAUD_THRESHOLD

    with mlflow.start_run(run_name=f"{MODEL_NAME}-{candidate.kind}"):
        mlflow.log_params(
            {
                **candidate.params,
                "model_kind": candidate.kind,
                "n_train": len(x_train),
                "fraud_rate": round(fraud_rate, 4),
                "fraud_threshold": FRAUD_THRESHOLD,
            }
        )
        mlflow.log_metrics(metrics)
        info = mlflow.sklearn.log_model(
            candidate.pipeline,
            name="model",
            registered_model_name=MODEL_NAME,
            **_model_files(candidate, x_train, FEATURE_NAMES, profile_path),
        )
    return int(info.registered_model_version)


def _save_incompatible(
    home: ModelHome, candidate: Candidate, x_train: np.ndarray, y_train: np.ndarray, profile: Path
) -> None:
    import mlflow.sklearn

    from targets.tabular.candidates import INCOMPATIBLE_FEATURES
    from targets.tabular.features import FEATURE_NAMES

    columns = [FEATURE_NAMES.index(name) for name in INCOMPATIBLE_FEATURES]
    candidate.pipeline.fit(x_train[:, columns], y_train)
    target = home.incompatible_model_dir
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    mlflow.sklearn.save_model(
        candidate.pipeline,
        staging,
        **_model_files(candidate, x_train[:, columns], INCOMPATIBLE_FEATURES, profile),
    )
    # Swap in whole so the up-to-date check never sees a half-written model.
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def _model_files(
    candidate: Candidate, x_train: np.ndarray, feature_names: Sequence[str], profile: Path
) -> dict[str, Any]:
    """Keyword arguments shared by log_model and save_model."""
    import numpy as np
    import sklearn
    from mlflow.models import infer_signature

    sample = x_train[:5]
    return {
        "signature": infer_signature(sample, _scorer(candidate).predict_proba(sample)),
        # Naming the requirements skips MLflow's inference, which re-imports the model.
        "pip_requirements": [f"scikit-learn=={sklearn.__version__}", f"numpy=={np.__version__}"],
        "metadata": {"feature_names": list(feature_names), "description": candidate.description},
        "extra_files": [str(profile)],
        "skops_trusted_types": list(candidate.trusted_types) or None,
    }


def _format(metrics: dict[str, float]) -> str:
    return " ".join(f"{name}={value:.3f}" for name, value in metrics.items())


if __name__ == "__main__":
    sys.exit(main())
