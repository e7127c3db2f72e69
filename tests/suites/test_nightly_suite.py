"""``suites/nightly.yaml``, the suite the scheduled resilience workflow runs on the kind
platform: it loads under the suite schema and passes the run's preflight, every experiment it
names exists and acts through the platform or the kind platform's own kube contexts (none is
only meaningful on the local platform), and its scenarios fit inside its load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gameday.autoscale.options import AutoscalingOptions
from gameday.blast_radius import plan_run
from gameday.config import Suite, load_suite, resolve_experiment
from gameday.errors import ConfigError
from gameday.preflight import check_suite
from gameday.slos import LatencySlo

REPO = Path(__file__).resolve().parents[2]
NIGHTLY = REPO / "suites" / "nightly.yaml"
# what a python provider may be: a gameday fault provider (it finds the platform's capability
# through the platform, whichever runs) or chaostoolkit-kubernetes (the kind platform's own)
_AGNOSTIC = ("gameday.faults.", "chaosk8s.")
_SCENARIOS = load_suite(NIGHTLY).scenarios


@pytest.fixture(scope="module")
def nightly() -> Suite:
    return load_suite(NIGHTLY)


def _experiment(suite: Suite, index: int) -> dict[str, Any]:
    document = json.loads(resolve_experiment(suite, suite.scenarios[index]).read_text())
    assert isinstance(document, dict)
    return document


def _activities(experiment: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(experiment.get("steady-state-hypothesis") or {}).get("probes", []),
            *experiment.get("method", []), *experiment.get("rollbacks", [])]


def test_the_nightly_suite_loads_for_the_kind_platform_and_passes_the_preflight(
        nightly: Suite) -> None:
    assert nightly.name == "nightly"
    assert nightly.platform == "kind"
    assert set(nightly.stacks) == {"tabular", "rag"}
    assert {load.stack for load in nightly.load} == {"tabular", "rag"}
    assert nightly.ledger_load is not None and nightly.ledger_load.endpoint == "ingest"
    checked = check_suite(nightly)  # what `gameday run --platform kind` checks first
    assert list(checked.experiments) == [scenario.name for scenario in nightly.scenarios]


def test_every_experiment_it_names_exists(nightly: Suite) -> None:
    for scenario in nightly.scenarios:
        assert resolve_experiment(nightly, scenario).is_file(), scenario.experiment


def test_it_runs_the_outage_isolation_latency_and_replica_scenarios(nightly: Suite) -> None:
    experiments = {scenario.experiment.as_posix() for scenario in nightly.scenarios}
    assert {"experiments/region-outage.json", "experiments/region-isolation.json",
            "experiments/edge-latency.json", "experiments/replica-kill.json"} <= experiments
    assert any(path.startswith("experiments/kind/") for path in experiments)


def test_it_gates_on_availability_latency_p99_rto_and_rpo(nightly: Suite) -> None:
    kinds = {slo.kind for slo in nightly.slos}
    assert {"availability", "latency", "rto", "rpo"} <= kinds
    assert any(isinstance(slo, LatencySlo) and slo.percentile == 99 for slo in nightly.slos)


@pytest.mark.parametrize("index", range(len(_SCENARIOS)), ids=[s.name for s in _SCENARIOS])
def test_no_experiment_is_only_meaningful_on_the_local_platform(nightly: Suite,
                                                                index: int) -> None:
    """No local command (process providers), no nftables asked for by name, no provider
    outside the platform-agnostic fault modules and chaostoolkit-kubernetes."""
    experiment = _experiment(nightly, index)
    for activity in _activities(experiment):
        provider = activity["provider"]
        assert provider["type"] in ("python", "http"), activity["name"]
        if provider["type"] == "python":
            assert provider["module"].startswith(_AGNOSTIC), provider["module"]
        assert "nftables" not in json.dumps(provider.get("arguments") or {}), activity["name"]
    configured = nightly.scenarios[index].configuration
    assert "nftables" not in json.dumps(configured)


def test_each_kind_scenario_targets_the_region_its_kube_context_acts_on(nightly: Suite) -> None:
    """A Kubernetes-native experiment writes its context in its secrets: the scenario's
    target_region (the region RTO and the fault window are told by) must be that one."""
    for index, scenario in enumerate(nightly.scenarios):
        experiment = _experiment(nightly, index)
        if not scenario.experiment.as_posix().startswith("experiments/kind/"):
            continue
        secrets = experiment["secrets"]
        actions = [a for a in experiment["method"] if a["type"] == "action"]
        regions = {secrets[scope]["KUBERNETES_CONTEXT"].removeprefix("kind-")
                   for action in actions for scope in action["provider"]["secrets"]}
        assert regions == {scenario.target_region}, scenario.name


def test_the_scenarios_fit_inside_the_load(nightly: Suite) -> None:
    offsets = [scenario.offset_s for scenario in nightly.scenarios]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    last = nightly.scenarios[-1]
    fault_s = float(last.configuration.get("fault_duration_s", 30))
    for load in nightly.load:  # every generator runs from one start, as long as the first
        assert load.duration_s == nightly.primary_load.duration_s
        assert load.warmup_s == nightly.primary_load.warmup_s
    # the last fault, its recovery and a stability window still have load to be measured by
    assert last.offset_s + fault_s + 60 <= nightly.primary_load.duration_s


def test_a_region_isolation_asks_for_the_cut_the_kind_platform_makes(
        nightly: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Docker network disconnect is both ways: a one-way isolation is refused on kind."""
    monkeypatch.delenv("GAMEDAY_ISOLATION_DIRECTION", raising=False)
    plan = plan_run(nightly, check_suite(nightly).experiments)
    isolations = [activity.provider["arguments"] for scenario in plan.scenarios
                  for activity in scenario.method
                  if activity.provider.get("func") == "isolate_region"]
    assert isolations and all(arguments["direction"] == "both" for arguments in isolations)


def test_on_kind_an_autoscaling_entry_a_real_hpa_cannot_take_fails_the_preflight(
        nightly: Suite) -> None:
    entry = AutoscalingOptions(stack="tabular", component="api", max_replicas=6,
                               metric="in_flight", target=4)
    with pytest.raises(ConfigError) as caught:
        check_suite(nightly.model_copy(update={"autoscaling": [entry]}))
    assert caught.value.field == "autoscaling.0.metric"
    assert "no custom metrics" in str(caught.value)
    fine = AutoscalingOptions(stack="tabular", component="api", max_replicas=6)
    check_suite(nightly.model_copy(update={"autoscaling": [fine]}))
    local = nightly.model_copy(update={"autoscaling": [entry], "platform": "local",
                                       "scenarios": nightly.scenarios[:1]})  # no kube context
    assert check_suite(local).suite.autoscaling == [entry]  # the local autoscaler takes it
