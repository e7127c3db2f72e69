"""Model loading: registry URIs resolved through MLflow, local model directories, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from targets.tabular.data import make_transactions
from targets.tabular.home import ModelHome
from targets.tabular.loader import ModelLoader, ModelLoadError


@pytest.fixture(scope="module")
def loader(model_home: ModelHome) -> ModelLoader:
    return ModelLoader(model_home.tracking_uri, model_home.root)


def test_an_alias_and_a_version_resolve_to_the_same_registered_model(loader: ModelLoader) -> None:
    by_alias = loader.load("models:/fraud@challenger")
    by_version = loader.load("models:/fraud/2")
    assert (by_alias.version, by_alias.alias) == ("2", "challenger")
    assert (by_version.version, by_version.alias) == ("2", None)
    rows = make_transactions(50, 4).features
    assert np.array_equal(by_alias.fraud_scores(rows), by_version.fraud_scores(rows))


def test_a_loaded_model_brings_its_training_profile(loader: ModelLoader) -> None:
    profile = loader.load("models:/fraud@champion").profile
    assert profile is not None
    assert len(profile.features) == 7


def test_a_relative_model_directory_is_found_under_the_model_home(loader: ModelLoader) -> None:
    model = loader.load("models/fraud-incompatible")
    assert (model.version, model.alias) == ("fraud-incompatible", None)
    with pytest.raises(ValueError, match="features"):
        model.fraud_scores(make_transactions(1, 4).features)


@pytest.mark.parametrize("uri", ["models:/fraud@nobody", "models:/fraud/7", "no/such/dir"])
def test_a_uri_that_does_not_load_raises_model_load_error_naming_it(
    loader: ModelLoader, uri: str
) -> None:
    with pytest.raises(ModelLoadError, match=uri):
        loader.load(uri)
