"""The fraud service over real HTTP: one uvicorn replica started the way the platform starts it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from targets.tabular.data import make_transactions
from targets.tabular.features import FEATURE_NAMES
from targets.tabular.home import ModelHome
from tests.targets.tabular.tabular_testing import DRIFT_WINDOW, REGION, REPLICA

ORDINARY = {
    "amount": 42.5, "hour": 14, "merchant_risk": 0.2, "distance_km": 3.0,
    "card_age_days": 400, "foreign": False, "tx_last_24h": 2,
}  # fmt: skip
SUSPICIOUS = {
    "amount": 900.0, "hour": 2, "merchant_risk": 0.8, "distance_km": 300.0,
    "card_age_days": 3, "foreign": True, "tx_last_24h": 12,
}  # fmt: skip


def _as_payload(row: Any) -> dict[str, Any]:
    values = dict(zip(FEATURE_NAMES, row.tolist(), strict=True))
    for integer in ("hour", "card_age_days", "tx_last_24h"):
        values[integer] = int(values[integer])
    values["foreign"] = bool(values["foreign"])
    return values


@pytest.fixture
def champion_restored(client: httpx.Client) -> Iterator[None]:
    """Tests that swap models leave the replica serving the champion again."""
    yield
    client.post("/admin/model", json={"uri": "models:/fraud@champion"}).raise_for_status()


def test_predict_returns_a_probability_and_who_served_it(client: httpx.Client) -> None:
    answer = client.post("/predict", json=ORDINARY)
    assert answer.status_code == 200
    body = answer.json()
    assert 0.0 <= body["fraud_score"] <= 1.0
    assert body["model_version"] == "1"
    assert body["model_alias"] == "champion"
    assert body["region"] == REGION
    assert answer.headers["X-Served-By-Region"] == REGION
    assert answer.headers["X-Served-By-Replica"] == REPLICA


def test_a_suspicious_transaction_scores_higher_and_is_flagged(client: httpx.Client) -> None:
    ordinary = client.post("/predict", json=ORDINARY).json()
    suspicious = client.post("/predict", json=SUSPICIOUS).json()
    assert suspicious["fraud_score"] > ordinary["fraud_score"]
    assert suspicious["is_fraud"] is True
    assert ordinary["is_fraud"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hour": None}, "hour"),  # missing
        ({"amount": "a lot"}, "amount"),  # wrong type
        ({"zip_code": "75001"}, "zip_code"),  # extra key
        ({"hour": 24}, "hour"),  # out of range
        ({"merchant_risk": -0.1}, "merchant_risk"),
    ],
)
def test_a_bad_payload_is_422_naming_the_field(
    client: httpx.Client, change: dict[str, Any], field: str
) -> None:
    payload = {**ORDINARY, **change}
    payload = {key: value for key, value in payload.items() if value is not None}
    answer = client.post("/predict", json=payload)
    assert answer.status_code == 422
    assert [error["loc"] for error in answer.json()["detail"]] == [["body", field]]
    assert answer.headers["X-Served-By-Region"] == REGION


def test_health_and_ready_are_200_while_the_champion_serves(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["model_version"] == "1"


def test_metrics_expose_latency_process_cost_model_and_input_drift(client: httpx.Client) -> None:
    for row in make_transactions(DRIFT_WINDOW, 21).features:
        client.post("/predict", json=_as_payload(row)).raise_for_status()
    text = client.get("/metrics").text
    assert (
        'tabular_request_duration_seconds_bucket{endpoint="/predict",le="0.001",status="200"}'
        in text
    )
    for metric in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                   'tabular_predictions_total{model_version="1",outcome="legit"}',
                   'tabular_model_info{alias="champion",uri="models:/fraud@champion",version="1"}',
                   'tabular_input_psi{feature="amount"}',
                   f"tabular_input_window_size {float(DRIFT_WINDOW)}"):  # fmt: skip
        assert metric in text


def _psi(client: httpx.Client) -> dict[str, float]:
    values = {}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("tabular_input_psi{"):
            labels, value = line.rsplit(" ", 1)
            values[labels.split('"')[1]] = float(value)
    return values


def test_the_psi_gauge_rises_for_the_feature_whose_inputs_shift(client: httpx.Client) -> None:
    rows = make_transactions(DRIFT_WINDOW, 22).features
    for row in rows:
        client.post("/predict", json=_as_payload(row)).raise_for_status()
    assert max(_psi(client).values()) < 0.25
    rows[:, FEATURE_NAMES.index("amount")] *= 20
    for row in rows:
        client.post("/predict", json=_as_payload(row)).raise_for_status()
    shifted = _psi(client)
    assert shifted["amount"] > 1.0
    assert max(value for name, value in shifted.items() if name != "amount") < 0.25


@pytest.mark.usefixtures("champion_restored")
def test_an_incompatible_model_keeps_health_green_while_predict_and_ready_fail(
    client: httpx.Client, model_home: ModelHome
) -> None:
    swap = client.post("/admin/model", json={"uri": str(model_home.incompatible_model_dir)})
    assert swap.status_code == 200
    assert swap.json()["model_version"] == "fraud-incompatible"
    assert client.get("/health").status_code == 200  # the lie a shallow check tells
    predict = client.post("/predict", json=ORDINARY)
    assert predict.status_code == 500
    assert predict.json()["detail"].startswith("inference failed: ")
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert "inference failed" in ready.json()["detail"]

    assert client.post("/admin/model", json={"uri": "models:/fraud@champion"}).status_code == 200
    assert client.post("/predict", json=ORDINARY).status_code == 200
    assert client.get("/ready").status_code == 200


@pytest.mark.usefixtures("champion_restored")
def test_the_challenger_can_be_hot_loaded_by_alias(client: httpx.Client) -> None:
    swap = client.post("/admin/model", json={"uri": "models:/fraud@challenger"})
    assert swap.json() == {"model_version": "2", "uri": "models:/fraud@challenger"}
    body = client.post("/predict", json=ORDINARY).json()
    assert (body["model_version"], body["model_alias"]) == ("2", "challenger")


@pytest.mark.parametrize(
    "uri", ["models:/fraud@nobody", "models:/fraud/99", "models:/ghost@champion", "/no/such/model"]
)
def test_a_model_that_cannot_load_is_refused_and_the_old_one_keeps_serving(
    client: httpx.Client, uri: str
) -> None:
    answer = client.post("/admin/model", json={"uri": uri})
    assert answer.status_code == 400
    assert uri in answer.json()["detail"]
    body = client.post("/predict", json=ORDINARY).json()
    assert (body["model_version"], body["model_alias"]) == ("1", "champion")
    assert client.get("/ready").status_code == 200


def test_an_unknown_path_still_says_who_answered(client: httpx.Client) -> None:
    answer = client.get("/nowhere")
    assert answer.status_code == 404
    assert answer.headers["X-Served-By-Replica"] == REPLICA
