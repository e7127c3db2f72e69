"""GET /drift and /drift/reference through FastAPI's TestClient, over a model trained with a
reference sample: training-like inputs are judged steady, shifted ones drifted, and the same
judgement is on /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from targets.tabular.app import create_app
from targets.tabular.data import make_transactions
from targets.tabular.features import FEATURE_NAMES, row_payload
from targets.tabular.home import ModelHome
from targets.tabular.settings import Settings

WINDOW = 300


@pytest.fixture
def client(model_home: ModelHome) -> Iterator[TestClient]:
    settings = Settings(region="region-a", replica="tabular-a1", model_home=model_home.root,
                        tracking_uri=model_home.tracking_uri, drift_window=WINDOW)
    with TestClient(create_app(settings)) as http:
        yield http


def _payload(row: np.ndarray) -> dict[str, Any]:
    return row_payload(row.tolist())


def _send(client: TestClient, rows: np.ndarray) -> None:
    for row in rows:
        client.post("/predict", json=_payload(row)).raise_for_status()


def test_drift_is_not_judged_until_the_window_holds_enough_inputs(client: TestClient) -> None:
    _send(client, make_transactions(50, 1).features)
    report = client.get("/drift").json()
    assert report["window_rows"] == 50 and report["inputs_total"] == 50
    assert report["dataset_drift"] is None and report["features"] == []


def test_training_like_inputs_are_steady_and_shifted_ones_drift(client: TestClient) -> None:
    _send(client, make_transactions(WINDOW, 11).features)
    steady = client.get("/drift").json()
    assert steady["window_rows"] == WINDOW and steady["reference_rows"] == 5000
    assert steady["dataset_drift"] is False and steady["region"] == "region-a"
    methods = {f["name"]: f["method"] for f in steady["features"]}
    assert methods == {"amount": "ks", "hour": "chi2", "merchant_risk": "ks",
                       "distance_km": "ks", "card_age_days": "ks", "foreign": "chi2",
                       "tx_last_24h": "chi2"}
    assert all(f["psi_level"] == "stable" and f["threshold"] == 0.05 for f in steady["features"])

    rows = make_transactions(WINDOW, 12).features
    rows[:, 0] *= 100  # cents for euros
    rows[:, 2] = np.clip(rows[:, 2] + 0.3, 0, 1)
    rows[:, 5] = 1.0
    rows[:, 1] = (rows[:, 1] + 6) % 24
    _send(client, rows)
    drifted = client.get("/drift").json()
    by_name = {f["name"]: f for f in drifted["features"]}
    assert drifted["dataset_drift"] is True and drifted["drifted_features"] >= 4
    assert drifted["drift_share"] == pytest.approx(drifted["drifted_features"] / 7)
    assert by_name["amount"]["drifted"] and by_name["amount"]["p_value"] < 1e-6
    assert by_name["amount"]["psi_level"] == "alert"
    assert not by_name["card_age_days"]["drifted"]

    metrics = client.get("/metrics").text
    assert 'tabular_input_drifted{feature="amount",method="ks"} 1.0' in metrics
    assert 'tabular_input_drifted{feature="card_age_days",method="ks"} 0.0' in metrics
    assert 'tabular_input_drift_statistic{feature="hour",method="chi2"}' in metrics
    assert 'tabular_input_drift_p_value{feature="foreign",method="chi2"}' in metrics
    assert "tabular_input_dataset_drift 1.0" in metrics
    assert f"tabular_input_window_size {float(WINDOW)}" in metrics


def test_the_reference_is_served_as_transactions_the_service_accepts(
        client: TestClient) -> None:
    transactions = client.get("/drift/reference").json()["transactions"]
    assert len(transactions) == 5000
    assert set(transactions[0]) == set(FEATURE_NAMES)
    assert isinstance(transactions[0]["hour"], int)
    assert isinstance(transactions[0]["foreign"], bool)
    for transaction in transactions[:20]:
        client.post("/predict", json=transaction).raise_for_status()


def test_a_release_analysis_shadow_request_is_scored_but_kept_out_of_the_drift_window(
        client: TestClient) -> None:
    _send(client, make_transactions(40, 2).features)
    shadow = make_transactions(30, 3).features
    for row in shadow:
        answer = client.post("/predict", json=_payload(row), headers={"X-Gameday-Shadow": "1"})
        assert answer.status_code == 200 and "fraud_score" in answer.json()
    report = client.get("/drift").json()
    assert report["window_rows"] == 40 and report["inputs_total"] == 40
    counted = sum(float(line.rsplit(" ", 1)[1]) for line in client.get("/metrics").text
                  .splitlines() if line.startswith("tabular_predictions_total{"))
    assert counted == 70  # still counted: an error-rate analysis sees the shadow answers too
