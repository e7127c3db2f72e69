"""Training: the registry it builds, the models in it, and the quick no-op re-run."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from targets.tabular.data import write_dataset
from targets.tabular.home import ModelHome
from targets.tabular.train import profiles_have_reference, registry_up_to_date
from tests.targets.tabular.tabular_testing import Training, train


@pytest.fixture(scope="module")
def mlflow_client(model_home: ModelHome) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(model_home.tracking_uri, model_home.tracking_uri)


def test_training_registers_champion_challenger_and_the_three_bad_releases(
    mlflow_client: Any,
) -> None:
    versions = mlflow_client.search_model_versions("name = 'fraud'")
    assert sorted(int(v.version) for v in versions) == [1, 2, 3, 4, 5]
    aliases = {alias: str(mlflow_client.get_model_version_by_alias("fraud", alias).version)
               for alias in ("champion", "challenger", "bad-slow", "bad-errors", "bad-silent")}
    assert aliases == {"champion": "1", "challenger": "2", "bad-slow": "3", "bad-errors": "4",
                       "bad-silent": "5"}


def test_training_prints_what_it_registered(training: Training) -> None:
    assert "fraud v1 logistic_regression: roc_auc=" in training.output
    assert "fraud v2 hist_gradient_boosting: roc_auc=" in training.output


def test_the_two_versions_are_different_models_with_their_metrics_logged(
    mlflow_client: Any,
) -> None:
    runs = {
        version: mlflow_client.get_run(mlflow_client.get_model_version("fraud", version).run_id)
        for version in ("1", "2")
    }
    kinds = {version: run.data.params["model_kind"] for version, run in runs.items()}
    assert kinds == {"1": "logistic_regression", "2": "hist_gradient_boosting"}
    for run in runs.values():
        assert {"roc_auc", "pr_auc", "recall_at_0_5"} <= set(run.data.metrics)
        assert run.data.metrics["roc_auc"] > 0.8
    # The data has interactions (foreign at night, bursts) a linear model cannot see.
    assert runs["2"].data.metrics["roc_auc"] > runs["1"].data.metrics["roc_auc"]


def test_each_registered_model_carries_its_training_distribution(
    model_home: ModelHome, mlflow_client: Any
) -> None:
    location = mlflow_client.get_model_version_download_uri("fraud", "1")
    profile_path = Path(location.removeprefix("file://")) / "extra_files" / "training_profile.json"
    profile = json.loads(profile_path.read_text())
    names = [feature["name"] for feature in profile["features"]]
    assert names == [
        "amount", "hour", "merchant_risk", "distance_km", "card_age_days", "foreign", "tx_last_24h"
    ]  # fmt: skip
    for feature in profile["features"]:
        assert len(feature["proportions"]) == len(feature["edges"]) + 1
        assert sum(feature["proportions"]) == pytest.approx(1.0)


def test_the_incompatible_model_is_saved_unregistered_with_a_three_feature_signature(
    model_home: ModelHome, mlflow_client: Any
) -> None:
    from mlflow.models import Model

    signature = Model.load(str(model_home.incompatible_model_dir)).signature
    assert signature is not None
    assert signature.inputs.inputs[0].shape == (-1, 3)
    sources = {v.source for v in mlflow_client.search_model_versions("name = 'fraud'")}
    assert not any("fraud-incompatible" in source for source in sources)


def test_a_second_run_says_up_to_date_without_importing_mlflow(training: Training) -> None:
    again = train(training.home.root, "-X", "importtime")
    assert again.stdout.strip() == "model registry up to date"
    imported = {line.rsplit("|", 1)[-1].strip() for line in again.stderr.splitlines()}
    assert "mlflow" not in imported
    assert "sklearn" not in imported


def _copy_registry(model_home: ModelHome, into: Path) -> ModelHome:
    """A model home holding a copy of ``model_home``'s registry database and dataset only."""
    copy = ModelHome(into)
    copy.db_path.parent.mkdir(parents=True)
    shutil.copy(model_home.db_path, copy.db_path)
    copy.dataset_path.parent.mkdir(parents=True)
    shutil.copy(model_home.dataset_path, copy.dataset_path)
    return copy


def test_a_registry_missing_an_alias_the_incompatible_model_or_the_shadow_set_is_not_up_to_date(
    model_home: ModelHome, tmp_path: Path
) -> None:
    copy = _copy_registry(model_home, tmp_path)
    assert not registry_up_to_date(copy)  # no incompatible model yet
    shutil.copytree(model_home.incompatible_model_dir, copy.incompatible_model_dir)
    assert not registry_up_to_date(copy)  # no labelled shadow set yet
    shutil.copy(model_home.shadow_set_path, copy.shadow_set_path)
    assert registry_up_to_date(copy)
    with closing(sqlite3.connect(copy.db_path)) as db, db:
        db.execute("DELETE FROM registered_model_aliases WHERE alias = 'challenger'")
    assert not registry_up_to_date(copy)


def test_a_registry_trained_by_an_older_recipe_is_not_up_to_date(
    model_home: ModelHome, tmp_path: Path
) -> None:
    copy = _copy_registry(model_home, tmp_path)
    shutil.copytree(model_home.incompatible_model_dir, copy.incompatible_model_dir)
    shutil.copy(model_home.shadow_set_path, copy.shadow_set_path)
    with closing(sqlite3.connect(copy.db_path)) as db, db:
        db.execute("UPDATE registered_model_tags SET value = 'older'")
    assert not registry_up_to_date(copy)


def test_a_registry_trained_on_other_data_is_not_up_to_date(
    model_home: ModelHome, tmp_path: Path
) -> None:
    copy = _copy_registry(model_home, tmp_path)
    shutil.copytree(model_home.incompatible_model_dir, copy.incompatible_model_dir)
    shutil.copy(model_home.shadow_set_path, copy.shadow_set_path)
    assert registry_up_to_date(copy)
    write_dataset(copy.dataset_path, n_rows=1000, seed=8)  # the pipeline's data step, redone
    assert not registry_up_to_date(copy)


def test_every_profile_carries_the_drift_tests_reference_sample(model_home: ModelHome) -> None:
    assert profiles_have_reference(model_home)
    profile = json.loads((model_home.incompatible_model_dir / "extra_files"
                          / "training_profile.json").read_text())
    assert set(profile["reference"]) == {f["name"] for f in profile["features"]}
    assert {len(column) for column in profile["reference"].values()} == {5000}


def test_a_profile_written_without_the_reference_sample_is_rebuilt_by_the_next_run(
    tmp_path: Path,
) -> None:
    home = ModelHome(tmp_path / "home")
    train(home.root)
    profile = home.incompatible_model_dir / "extra_files" / "training_profile.json"
    older = json.loads(profile.read_text())
    del older["reference"]  # as profiles were saved before they carried one
    profile.write_text(json.dumps(older))
    assert registry_up_to_date(home) and not profiles_have_reference(home)
    again = train(home.root)
    assert "model registry up to date" not in again.stdout
    assert profiles_have_reference(home)
    assert train(home.root).stdout.strip() == "model registry up to date"
