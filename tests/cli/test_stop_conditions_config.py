"""Stop conditions in a suite: burn-rate conditions named by an OpenSLO alert (windows scaled
onto the run as the report scales them) or given inline, guard probes; bad ones exit 2
naming the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gameday import safeguards
from gameday.config import load_suite
from tests.cli.conftest import CliResult

REPO = Path(__file__).resolve().parents[2]
Cli = Callable[..., CliResult]


def _with(conditions: list[dict], *, per_scenario: list[dict] | None = None
          ) -> Callable[[dict], None]:
    def edit(d: dict) -> None:
        d["openslo"] = [str(REPO / "suites" / "openslo" / "tabular.yaml")]
        d["stop_conditions"] = conditions
        if per_scenario is not None:
            d["scenarios"][0]["stop_conditions"] = per_scenario
    return edit


def test_an_openslo_alert_resolves_with_windows_scaled_onto_the_run(
        write_suite: Callable[..., Path]) -> None:
    suite = load_suite(write_suite(_with([
        {"burn_rate": {"slo": "tabular-availability", "alert": "fast-burn"}},
        {"name": "quick", "burn_rate": {"target": 0.999, "threshold": 6, "long_window_s": 12}},
    ])))
    alert, inline = safeguards.resolve(suite, suite.scenarios[0])
    # the smoke suite's load lasts 40 s: 1 h of a 30 d period is 40 / 720 s, so the bucket
    assert (alert["target"], alert["threshold"], alert["max_latency_s"]) == (0.99, 14.4, 0.25)
    assert (alert["long_window_s"], alert["short_window_s"]) == (1.0, 1.0)
    assert inline["name"] == "quick" and inline["short_window_s"] == 1.0  # 12 / 12
    assert inline["max_latency_s"] is None


def test_a_scenario_may_replace_the_suites_conditions(write_suite: Callable[..., Path]) -> None:
    probe = {"type": "probe", "name": "up", "tolerance": True,
             "provider": {"type": "python", "module": "os.path", "func": "isdir",
                          "arguments": {"s": "/"}}}
    suite = load_suite(write_suite(_with(
        [{"burn_rate": {"slo": "tabular-availability", "alert": "fast-burn"}}],
        per_scenario=[{"probe": probe, "every_s": 0.5}])))
    (resolved,) = safeguards.resolve(suite, suite.scenarios[0])
    assert resolved == {"kind": "probe", "name": "up", "probe": probe, "every_s": 0.5}


@pytest.mark.parametrize(("conditions", "field", "expected"), [
    ([{"burn_rate": {"slo": "tabular-availability", "alert": "slow-burn"}}],
     "stop_conditions.0.burn_rate.alert", "tabular-availability/fast-burn"),
    ([{"burn_rate": {"slo": "tabular-availability"}}], "stop_conditions.0.burn_rate.alert",
     "both"),
    ([{"burn_rate": {"target": 0.99, "threshold": 14.4}}],
     "stop_conditions.0.burn_rate.long_window_s", "required"),
    ([{"burn_rate": {"target": 0.99, "threshold": 14.4, "long_window_s": 4}, "probe": {}}],
     "stop_conditions.0.burn_rate", "exactly one"),
    ([{"burn_rate": {"target": 1.2, "threshold": 1, "long_window_s": 4}}],
     "stop_conditions.0.burn_rate.target", "less than 1"),
    ([{"burnrate": {}}], "stop_conditions.0.burnrate", "unknown key"),
    ([{"probe": {"type": "probe", "name": "p"}}], "stop_conditions.0.probe",
     "not a valid Chaos Toolkit probe"),
], ids=["unknown-alert", "half-named", "no-window", "two-kinds", "target", "misspelt",
        "probe-without-provider"])
def test_a_wrong_stop_condition_names_the_field(write_suite: Callable[..., Path], cli: Cli,
                                                conditions: list[dict], field: str,
                                                expected: str) -> None:
    suite = write_suite(_with(conditions))
    result = cli("validate", str(suite))
    assert result.code == 2, result.output
    assert f"{suite}: {field}" in result.output.replace("\n", " ")
    assert expected in result.output
