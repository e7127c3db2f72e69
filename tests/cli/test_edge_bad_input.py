"""A suite's edge section: an unknown policy, an invalid health-check setting, a paranoia
level out of range, a misspelt key exit 2 naming the file and the field (``gameday validate``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import CliResult

Cli = Callable[..., CliResult]


def test_a_suite_with_every_edge_option_is_valid(write_suite: Callable[..., Path],
                                                 cli: Cli) -> None:
    suite = write_suite(lambda d: d.update(edge={
        "health_check": "deep",
        "health": {"inter_ms": 1000, "fall": 3, "rise": 5, "observe": "none", "error_limit": 3},
        "failover": {"policy": "active-active", "weights": {"region-a": 3, "region-b": 1},
                     "fail_back": "immediate"},
        "waf": {"mode": "detection", "paranoia_level": 2, "inbound_anomaly_threshold": 10},
        "cache": {"enabled": False, "max_size_mb": 16, "keep_s": 60},
        "rate_limit_per_s_per_client": 200, "max_body_bytes": 8192}))
    result = cli("validate", str(suite))
    assert result.code == 0, result.output


@pytest.mark.parametrize(("edge", "field", "expected"), [
    ({"failover": {"policy": "round-robin"}}, "edge.failover.policy", "active-passive"),
    ({"health": {"inter_ms": 0}}, "edge.health.inter_ms", "greater than or equal to 50"),
    ({"health": {"fall": 0}}, "edge.health.fall", "greater than or equal to 1"),
    ({"health": {"observe": "layer8"}}, "edge.health.observe", "layer7"),
    ({"health": {"interval_ms": 500}}, "edge.health.interval_ms", "unknown key"),
    ({"waf": {"paranoia_level": 5}}, "edge.waf.paranoia_level", "less than or equal to 4"),
    ({"waf": {"paranoia_level": 0}}, "edge.waf.paranoia_level", "greater than or equal to 1"),
    ({"waf": {"mode": "block"}}, "edge.waf.mode", "blocking"),
    ({"failover": {"policy": "active-active", "weights": {"region-a": 300,
                                                          "region-b": 1}}},
     "edge.failover.weights.region-a", "0 to 256"),
    ({"failover": {"policy": "active-active", "weights": {"region-a": 0, "region-b": 0}}},
     "edge.failover.weights", "no region would serve"),
    ({"failover": {"policy": "active-active", "weights": {"region-a": 1}}},
     "edge.failover.weights", "region-a and region-b"),
    ({"cache": {"ttl_s": 10}}, "edge.cache.ttl_s", "unknown key"),
], ids=["unknown-policy", "zero-interval", "zero-fall", "unknown-observe", "misspelt-health",
        "paranoia-5", "paranoia-0", "unknown-waf-mode", "weight-over-256", "all-weights-zero",
        "weight-missing", "misspelt-cache"])
def test_a_wrong_edge_option_names_the_field(write_suite: Callable[..., Path], cli: Cli,
                                             edge: dict[str, object], field: str,
                                             expected: str) -> None:
    suite = write_suite(lambda d: d.update(edge=edge))
    result = cli("validate", str(suite))
    assert result.code == 2, result.output
    assert f"{suite}: {field}" in result.output.replace("\n", " ")
    assert expected in result.output


def _with_attacks(document: dict, slo: dict) -> None:
    document["load"] = [{**document["load"], "name": "legit"},
                        {"name": "attacks", "stack": "tabular", "endpoint": "attack",
                         "rate_per_s": 5, "duration_s": 40}]
    document["slos"].append(slo)


def test_a_waf_slo_beside_the_labelled_load_is_valid(write_suite: Callable[..., Path],
                                                     cli: Cli) -> None:
    suite = write_suite(lambda d: _with_attacks(d, {
        "kind": "waf", "attack_class": "prompt-injection", "count": "stopped",
        "min_blocked_rate": 0.9, "max_false_positive_rate": 0.01}))
    result = cli("validate", str(suite))
    assert result.code == 0, result.output


@pytest.mark.parametrize(("slo", "field", "expected"), [
    ({"kind": "waf", "attack_class": "sql"}, "slos.3.waf.attack_class", "sqli"),
    ({"kind": "waf", "min_blocked_rate": 1.5}, "slos.3.waf.min_blocked_rate",
     "less than or equal to 1"),
    ({"kind": "waf", "count": "caught"}, "slos.3.waf.count", "stopped"),
    ({"kind": "waf", "max_false_positives": 0}, "slos.3.waf.max_false_positives",
     "unknown key"),
], ids=["unknown-class", "rate-over-1", "unknown-count", "misspelt-key"])
def test_a_wrong_waf_slo_names_the_field(write_suite: Callable[..., Path], cli: Cli,
                                         slo: dict[str, object], field: str,
                                         expected: str) -> None:
    suite = write_suite(lambda d: _with_attacks(d, slo))
    result = cli("validate", str(suite))
    assert result.code == 2, result.output
    assert f"{suite}: {field}" in result.output.replace("\n", " ")
    assert expected in result.output


def test_a_waf_slo_without_the_labelled_load_names_what_it_needs(
        write_suite: Callable[..., Path], cli: Cli) -> None:
    suite = write_suite(lambda d: d["slos"].append({"kind": "waf"}))
    result = cli("validate", str(suite))
    assert result.code == 2, result.output
    assert f"{suite}: slos.3.kind" in result.output.replace("\n", " ")
    assert "endpoint: attack" in result.output
