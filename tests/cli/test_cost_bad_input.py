"""A suite's price table and cost SLOs: a misspelt key, a region not priced or a cost SLO on a
stack the suite does not run exits 2 naming the file and the field (``gameday validate``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gameday.config import Suite
from gameday.cost_options import DEFAULT_PRICE_SOURCE
from tests.cli.conftest import CliResult

Cli = Callable[..., CliResult]
_PRICES = {"vcpu_hour": 0.04, "gb_hour": 0.005, "gpu_hour": 0.4}


def _cost_slo(**fields: object) -> dict[str, object]:
    return {"kind": "cost", "stack": "tabular", "max_per_1k": 0.05, **fields}


def test_a_suite_with_prices_and_a_cost_slo_is_valid(write_suite: Callable[..., Path],
                                                     cli: Cli) -> None:
    suite = write_suite(lambda d: (d.update(prices={"currency": "EUR", "source": "ours, 2026",
                                                    "regions": {"region-a": _PRICES,
                                                                "region-b": _PRICES}}),
                                   d["slos"].append(_cost_slo(region="region-b"))))
    result = cli("validate", str(suite))
    assert result.code == 0, result.output


def test_the_default_prices_are_a_dated_public_list() -> None:
    prices = Suite(name="x", allow_no_slos=True).prices
    assert prices.currency == "USD" and prices.source == DEFAULT_PRICE_SOURCE
    assert "2024" in prices.source and "us-central1" in prices.source
    assert prices.regions["region-a"].vcpu_hour == 0.031611
    assert prices.regions["region-b"].gb_hour == 0.004661


@pytest.mark.parametrize(("edit", "field", "expected"), [
    (lambda d: d.update(prices={"regions": {"region-a": {**_PRICES, "cpu_hour": 1},
                                            "region-b": _PRICES}}),
     "prices.regions.region-a.cpu_hour", "unknown key"),
    (lambda d: d.update(prices={"curency": "EUR"}), "prices.curency", "unknown key"),
    (lambda d: d.update(prices={"regions": {"region-a": _PRICES}}), "prices.regions",
     "missing region-b"),
    (lambda d: d.update(prices={"regions": {"region-a": _PRICES, "region-b": _PRICES,
                                            "region-c": _PRICES}}), "prices.regions.region-c",
     "region-a"),
    (lambda d: d.update(prices={"regions": {"region-a": {**_PRICES, "gpu_hour": -1},
                                            "region-b": _PRICES}}),
     "prices.regions.region-a.gpu_hour", "greater than or equal to 0"),
    (lambda d: d["slos"].append(_cost_slo(max_per_1k=0)), "slos.3.cost.max_per_1k",
     "greater than"),
    (lambda d: d["slos"].append(_cost_slo(per_1k=1)), "slos.3.cost.per_1k", "unknown key"),
    (lambda d: d["slos"].append(_cost_slo(stack="rag")), "slos.3.stack", "tabular"),
], ids=["misspelt-price", "misspelt-table-key", "region-unpriced", "unknown-region",
        "negative-price", "zero-objective", "misspelt-slo-key", "stack-not-in-suite"])
def test_a_wrong_price_table_or_cost_slo_names_the_field(write_suite: Callable[..., Path],
                                                         cli: Cli,
                                                         edit: Callable[[dict], object],
                                                         field: str, expected: str) -> None:
    suite = write_suite(edit)
    result = cli("validate", str(suite))
    assert result.code == 2, result.output
    assert f"{suite}: {field}" in result.output.replace("\n", " ")
    assert expected in result.output
