"""The Kubernetes-native experiments (``experiments/kind/``): plain Chaos Toolkit with
chaostoolkit-kubernetes providers, valid under ``chaos validate`` (which imports each provider's
module and checks its arguments against the function), acting only on the kind platform's own
clusters in namespace ``gameday``, and accepted by the blast-radius guard, which refuses the same
experiment pointed at a context the suite does not allow-list. Nothing here reaches a cluster."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gameday.blast_radius import KIND_CONTEXTS, plan_run, targets_of
from gameday.config import Suite, load_suite
from gameday.errors import ConfigError
from gameday.platforms.kind import layout
from gameday.preflight import check_suite

REPO = Path(__file__).resolve().parents[2]
CHAOS = Path(sys.executable).parent / "chaos"
KIND_EXPERIMENTS = sorted((REPO / "experiments" / "kind").glob("*.json"))
IDS = [path.stem for path in KIND_EXPERIMENTS]
CONTEXT_KEY = "KUBERNETES_CONTEXT"  # what chaosk8s.create_k8s_api_client looks up
# the experiments' own environment overrides: unset, so the defaults are what is checked
_ENV_KEYS = ("GAMEDAY_REPLICAS", "GAMEDAY_SCALED_REPLICAS", "GAMEDAY_GRACE_PERIOD_S",
             "GAMEDAY_FAULT_DURATION_S", "GAMEDAY_RECOVERY_S", "GAMEDAY_HPA_MIN_REPLICAS",
             "GAMEDAY_PATRONI_URL_REGION_A", "GAMEDAY_PATRONI_URL_REGION_B")


@pytest.fixture(autouse=True)
def _defaults_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in _ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


def _read(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text())
    assert isinstance(document, dict), f"{path}: not an experiment"
    return document


def _suite(tmp_path: Path, experiments: list[Path], *, platform: str = "kind",
           contexts: tuple[str, ...] = ()) -> Suite:
    """The nightly suite (tabular and rag on kind) with one scenario per experiment."""
    document = yaml.safe_load((REPO / "suites" / "nightly.yaml").read_text())
    document["scenarios"] = [{"name": f"s{index}-{path.stem}", "experiment": str(path),
                              "target_region": "region-a"}
                             for index, path in enumerate(experiments)]
    document.update(platform=platform, blast_radius={"kube_contexts": list(contexts)})
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(document))
    return load_suite(path)


def _chaos_validate(paths: list[Path], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """``chaos validate`` of each path, all at once (each CLI start costs about a second)."""
    started = [(path, subprocess.Popen(
        [str(CHAOS), "--no-version-check", "--log-file", str(cwd / f"{index}.log"),
         "validate", str(path)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, env={**os.environ, "NO_COLOR": "1"})) for index, path in enumerate(paths)]
    results = []
    for path, process in started:
        output, _ = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess([str(path)], process.returncode, output))
    return results


def _chaosk8s_providers(experiment: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    activities = [*(experiment.get("steady-state-hypothesis") or {}).get("probes", []),
                  *experiment.get("method", []), *experiment.get("rollbacks", [])]
    return [(activity["name"], activity["provider"]) for activity in activities
            if activity["provider"].get("type") == "python"]


def test_there_are_the_kubernetes_native_variants() -> None:
    assert {"pod-kill", "scale-down", "rag-db-pod-kill", "hpa-min-replicas"} <= set(IDS)


def test_every_kind_experiment_passes_chaos_validate_and_a_wrong_argument_does_not(
        tmp_path: Path) -> None:
    wrong = _read(REPO / "experiments" / "kind" / "pod-kill.json")
    wrong["method"][0]["provider"]["arguments"]["grace_period_seconds"] = 0  # not terminate_pods'
    misspelt = tmp_path / "misspelt-argument.json"
    misspelt.write_text(json.dumps(wrong))
    *shipped, refused = _chaos_validate([*KIND_EXPERIMENTS, misspelt], tmp_path)
    for result in shipped:
        assert result.returncode == 0, f"{result.args[0]}:\n{result.stdout}"
        assert "experiment syntax and semantic look valid" in result.stdout, result.stdout
    assert refused.returncode != 0, refused.stdout
    assert "argument 'grace_period_seconds' is not part of the function signature" \
        in refused.stdout


@pytest.mark.parametrize("path", KIND_EXPERIMENTS, ids=IDS)
def test_the_experiment_is_documented_as_the_others_are(path: Path) -> None:
    experiment = _read(path)
    assert experiment["version"] == "1.0.0"
    assert experiment["title"] and "Kubernetes-native" in experiment["title"]
    assert len(experiment["description"]) > 200
    assert {"gameday", "kind", "kubernetes"} <= set(experiment["tags"])
    assert set(experiment["contributions"]) >= {"availability", "reliability"}
    assert experiment["runtime"] == {"rollbacks": {"strategy": "always"}}
    if not experiment["rollbacks"]:  # a fault with nothing to put back says why
        assert "No rollback:" in experiment["description"]


@pytest.mark.parametrize("path", KIND_EXPERIMENTS, ids=IDS)
def test_every_python_provider_is_chaosk8s_and_names_a_kind_context_by_its_secrets(
        path: Path) -> None:
    """chaosk8s takes its context from the activity's secrets, else from $KUBERNETES_CONTEXT or
    the kubeconfig's current context, which the guard cannot see: each activity names a scope
    whose context is one of the kind platform's own."""
    experiment = _read(path)
    secrets = experiment["secrets"]
    for scope, values in secrets.items():
        assert set(values) == {CONTEXT_KEY}, f"{scope}: only the context is a secret here"
        assert values[CONTEXT_KEY] in KIND_CONTEXTS
        assert scope == values[CONTEXT_KEY].removeprefix("kind-"), "scopes are named by region"
    providers = _chaosk8s_providers(experiment)
    assert providers
    for name, provider in providers:
        assert provider["module"].startswith("chaosk8s."), f"{name}: {provider['module']}"
        assert provider.get("secrets"), f"{name}: no secrets, so no explicit context"
        assert all(scope in secrets for scope in provider["secrets"]), name


@pytest.mark.parametrize("path", KIND_EXPERIMENTS, ids=IDS)
def test_each_activity_acts_in_namespace_gameday_on_the_layouts_names_and_labels(
        path: Path, tmp_path: Path) -> None:
    """After the configuration (as chaoslib substitutes it): namespace gameday, workloads
    named ``<stack>-<component>``, label selectors on the layout's stack, component and region
    labels, the region being the one of the context the activity uses."""
    (scenario,) = plan_run(_suite(tmp_path, [path]), {f"s0-{path.stem}": _read(path)}).scenarios
    secrets = scenario.experiment["secrets"]
    for activity in (*scenario.hypothesis, *scenario.method, *scenario.rollbacks):
        provider = activity.provider
        if provider.get("type") != "python":
            continue
        arguments = provider["arguments"]
        assert arguments["ns"] == layout.NAMESPACE, activity.name
        (scope,) = provider["secrets"]
        region = secrets[scope][CONTEXT_KEY].removeprefix("kind-")
        selector = arguments.get("label_selector")
        if selector is not None:
            labels = dict(pair.split("=") for pair in selector.split(","))
            assert set(labels) == {layout.LABEL_STACK, layout.LABEL_COMPONENT,
                                   layout.LABEL_REGION}, activity.name
            assert labels[layout.LABEL_REGION] == region, activity.name
            stack, component = labels[layout.LABEL_STACK], labels[layout.LABEL_COMPONENT]
            if "name" in arguments:  # a Deployment, or its HPA: named as the workload
                assert arguments["name"] == layout.workload_name(stack, component)


@pytest.mark.parametrize("path", KIND_EXPERIMENTS, ids=IDS)
def test_the_blast_radius_sees_each_context_and_accepts_the_experiment(path: Path,
                                                                      tmp_path: Path) -> None:
    suite = _suite(tmp_path, [path])
    checked = check_suite(suite)  # the preflight of `gameday run`: validation, blast radius
    contexts = {target.host for target in targets_of(plan_run(suite, checked.experiments))
                if target.kind == "kube-context"}
    assert contexts == {values[CONTEXT_KEY] for values in _read(path)["secrets"].values()}
    assert contexts <= set(KIND_CONTEXTS)


@pytest.mark.parametrize("path", KIND_EXPERIMENTS, ids=IDS)
def test_the_experiment_pointed_at_another_context_is_refused_unless_allow_listed(
        path: Path, tmp_path: Path) -> None:
    rewritten = copy.deepcopy(_read(path))
    scope = sorted(rewritten["secrets"])[0]
    rewritten["secrets"][scope][CONTEXT_KEY] = "prod-eu"
    elsewhere = tmp_path / path.name
    elsewhere.write_text(json.dumps(rewritten))
    with pytest.raises(ConfigError) as refused:
        check_suite(_suite(tmp_path, [elsewhere]))
    message = str(refused.value)
    assert f"{elsewhere} (scenario s0-{path.stem}): secrets.{scope}.{CONTEXT_KEY}: kube " \
           "context 'prod-eu' is neither the kind platform's own (kind-region-a, " \
           "kind-region-b) nor in blast_radius.kube_contexts (none listed)" in message
    check_suite(_suite(tmp_path, [elsewhere], contexts=("prod-eu",)))


def test_on_the_local_platform_a_kind_experiment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        check_suite(_suite(tmp_path, [REPO / "experiments" / "kind" / "pod-kill.json"],
                           platform="local"))
    assert "secrets.region-a.KUBERNETES_CONTEXT: kube context 'kind-region-a': the local " \
           "platform acts on no cluster" in str(refused.value)


def test_the_patroni_urls_are_the_layouts_loopback_host_ports(tmp_path: Path) -> None:
    path = REPO / "experiments" / "kind" / "rag-db-pod-kill.json"
    (scenario,) = plan_run(_suite(tmp_path, [path]), {"s0-rag-db-pod-kill": _read(path)}
                           ).scenarios
    node_port = layout.NODE_PORTS[("rag", "db", "patroni")]
    for region in ("region-a", "region-b"):
        key = f"patroni_url_{region.replace('-', '_')}"
        assert scenario.configuration[key] == \
            f"http://127.0.0.1:{layout.host_port(region, node_port)}"
    urls = [activity.provider["url"] for activity in (*scenario.hypothesis, *scenario.method)
            if activity.provider.get("type") == "http"]
    assert urls and all(url.startswith("http://127.0.0.1:") for url in urls)
