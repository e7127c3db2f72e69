"""Fixtures for the tabular stack: a model home trained once per session, a real replica."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from targets.tabular.home import ModelHome
from tests.targets.tabular.tabular_testing import DRIFT_WINDOW, Training, running_replica, train


@pytest.fixture(scope="session")
def training(tmp_path_factory: pytest.TempPathFactory) -> Training:
    root = tmp_path_factory.mktemp("tabular-home")
    return Training(ModelHome(root), train(root).stdout)


@pytest.fixture(scope="session")
def model_home(training: Training) -> ModelHome:
    return training.home


@pytest.fixture(scope="module")
def replica(model_home: ModelHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of one replica serving the champion, shared by a test module."""
    log = tmp_path_factory.mktemp("replica") / "uvicorn.log"
    with running_replica(model_home, log, GAMEDAY_DRIFT_WINDOW=str(DRIFT_WINDOW)) as url:
        yield url


@pytest.fixture
def client(replica: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=replica, timeout=30.0) as http:
        yield http
