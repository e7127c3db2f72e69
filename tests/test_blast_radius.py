"""The blast-radius guard on plain data: every address a suite, its experiments (after each
scenario's configuration) and the local platform's address plan name is loopback, every kube
context is the kind platform's own or allow-listed; the addresses are strings here, nothing is
ever sent to one, started or resolved."""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gameday.blast_radius import (
    KIND_CONTEXTS,
    PLAN_SOURCE,
    check_blast_radius,
    check_kube_context,
    plan_run,
    targets_of,
)
from gameday.config import Suite, load_suite
from gameday.errors import ConfigError
from gameday.platforms.base import REGION_BLOCKS
from gameday.preflight import check_suite

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "suites" / "smoke.yaml"
SHIPPED = sorted((REPO / "suites").glob("*.yaml"))

NOT_LOOPBACK = {
    "private-ipv4": ("10.0.0.5", "10.0.0.5 is not a loopback address"),
    "public-ipv4": ("8.8.8.8", "8.8.8.8 is not a loopback address"),
    "every-address": ("0.0.0.0", "0.0.0.0 is not a loopback address"),
    "host-name": ("example.com", "example.com is a host name, not a loopback address"),
    "ipv6": ("2001:db8::1", "2001:db8::1 is not a loopback address"),
    "ipv6-url": ("http://[2001:db8::1]:8080/x", "2001:db8::1 is not a loopback address"),
    "url": ("http://10.0.0.5:8080/predict", "10.0.0.5 is not a loopback address"),
    "host-name-url": ("https://example.com/v1", "example.com is a host name"),
    "host-port": ("example.com:443", "example.com is a host name"),
    "postgres-url": ("postgresql://gameday@10.1.2.3:5432/rag", "10.1.2.3 is not a loopback"),
    "keyword-dsn": ("host=10.0.0.9 port=5432", "10.0.0.9 is not a loopback address"),
}
LOOPBACK = ["127.0.0.1", "127.10.1.2", "127.20.3.21", "::1", "localhost",
            "http://127.0.0.1:8080/x", "http://[::1]:9000/", "http://localhost:8080/",
            "localhost:8080", "127.0.0.1:19000", "host=127.0.0.1,127.10.3.21 port=5432"]


def _suite(tmp_path: Path, *, configuration: dict[str, Any] | None = None,
           experiment: dict[str, Any] | None = None, platform: str = "local",
           contexts: tuple[str, ...] = ()) -> Suite:
    """The smoke suite, its scenario's configuration extended, or its experiment replaced."""
    document = yaml.safe_load(SMOKE.read_text())
    scenario = document["scenarios"][0]
    scenario["experiment"] = str(REPO / scenario["experiment"])
    if experiment is not None:
        path = tmp_path / "experiment.json"
        path.write_text(json.dumps(experiment))
        scenario["experiment"] = str(path)
    scenario["configuration"].update(configuration or {})
    document.update(platform=platform, blast_radius={"kube_contexts": list(contexts)})
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(document))
    return load_suite(suite)


def _experiment(*method: dict[str, Any], configuration: dict[str, Any] | None = None,
                **extra: Any) -> dict[str, Any]:
    return {"version": "1.0.0", "title": "a probe of the guard", "description": "never run",
            "configuration": configuration or {}, "method": list(method), **extra}


def _action(provider: dict[str, Any]) -> dict[str, Any]:
    return {"type": "action", "name": "touch", "provider": provider}


def _refused(suite: Suite) -> str:
    with pytest.raises(ConfigError) as refused:
        check_suite(suite)
    return str(refused.value)


@pytest.mark.parametrize("name", sorted(NOT_LOOPBACK))
def test_a_non_loopback_address_in_a_scenario_configuration_is_refused_naming_the_field(
        name: str, tmp_path: Path) -> None:
    value, expected = NOT_LOOPBACK[name]
    message = _refused(_suite(tmp_path, configuration={"target_url": value}))
    assert message.startswith(f"{tmp_path / 'suite.yaml'}: scenarios.0.configuration.target_url:")
    assert expected in message
    assert "gameday only sends traffic and faults to loopback on the local platform" in message


@pytest.mark.parametrize("value", LOOPBACK)
def test_loopback_forms_pass(value: str, tmp_path: Path) -> None:
    check_suite(_suite(tmp_path, configuration={"target_url": value, "peer": value}))


def test_a_bare_name_counts_as_an_address_only_where_an_address_goes(tmp_path: Path) -> None:
    check_suite(_suite(tmp_path, configuration={"model_uri": "models:/fraud@champion",
                                                "label": "example.com"}))
    assert "example.com is a host name" in _refused(
        _suite(tmp_path, configuration={"upstream_host": "example.com"}))


def test_an_http_provider_url_is_checked_after_the_scenario_configuration(
        tmp_path: Path) -> None:
    # the scenario's value alone names no address: only the URL it completes does
    experiment = _experiment(
        _action({"type": "http", "url": "http://${where}:8080/health"}),
        configuration={"where": {"type": "env", "key": "GAMEDAY_TEST_BLAST_WHERE",
                                 "default": "localhost"}})
    check_suite(_suite(tmp_path, experiment=experiment))
    message = _refused(_suite(tmp_path, experiment=experiment,
                              configuration={"where": "example"}))
    assert f"{tmp_path / 'experiment.json'} (scenario region-outage): " \
           "method.0.provider.url: http://example:8080/health: example is a host name" \
           in message


def test_the_scenario_configuration_is_refused_first_naming_the_suite(tmp_path: Path) -> None:
    experiment = _experiment(
        _action({"type": "http", "url": "${target}/health"}),
        configuration={"target": {"type": "env", "key": "GAMEDAY_TEST_BLAST_TARGET",
                                  "default": "http://127.0.0.1:9"}})
    message = _refused(_suite(tmp_path, experiment=experiment,
                              configuration={"target": "http://8.8.8.8"}))
    assert message.startswith(f"{tmp_path / 'suite.yaml'}: scenarios.0.configuration.target: "
                              "http://8.8.8.8: 8.8.8.8 is not a loopback address")


def test_an_address_from_the_environment_is_checked_as_chaoslib_resolves_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    experiment = _experiment(
        _action({"type": "http", "url": "${target}"}),
        configuration={"target": {"type": "env", "key": "GAMEDAY_TEST_BLAST_TARGET",
                                  "default": "http://127.0.0.1:9"}})
    monkeypatch.setenv("GAMEDAY_TEST_BLAST_TARGET", "http://10.0.0.5:80")
    message = _refused(_suite(tmp_path, experiment=experiment))
    assert "(scenario region-outage): configuration.target: http://10.0.0.5:80: " \
           "10.0.0.5 is not a loopback address" in message


@pytest.mark.parametrize(("provider", "field", "expected"), [
    # a harmless function whose parameter is an address (chaoslib checks the signature)
    ({"type": "python", "module": "ipaddress", "func": "ip_address",
      "arguments": {"address": "http://10.0.0.5:8080"}},
     "method.0.provider.arguments.address", "10.0.0.5 is not a loopback"),
    ({"type": "process", "path": "true", "arguments": "--host example.com --port 80"},
     "method.0.provider.arguments.1", "example.com is a host name"),
    ({"type": "process", "path": "true", "arguments": ["--target=8.8.8.8:53"]},
     "method.0.provider.arguments.0", "8.8.8.8 is not a loopback"),
    ({"type": "process", "path": "true", "arguments": "curl -s http://[2001:db8::2]/"},
     "method.0.provider.arguments.2", "2001:db8::2 is not a loopback"),
], ids=["python-argument", "process-flag-and-name", "process-flag-equals", "process-ipv6-url"])
def test_provider_arguments_that_name_an_address_are_checked(
        provider: dict[str, Any], field: str, expected: str, tmp_path: Path) -> None:
    message = _refused(_suite(tmp_path, experiment=_experiment(_action(provider))))
    assert f"(scenario region-outage): {field}: " in message and expected in message


def test_a_static_secret_naming_a_cluster_address_is_checked(tmp_path: Path) -> None:
    experiment = _experiment(
        _action({"type": "http", "url": "http://127.0.0.1:9/"}),
        secrets={"k8s": {"KUBERNETES_HOST": "https://10.96.0.1:6443"}})
    message = _refused(_suite(tmp_path, experiment=experiment))
    assert "secrets.k8s.KUBERNETES_HOST: https://10.96.0.1:6443: 10.96.0.1 is not" in message


def test_an_address_the_configuration_does_not_give_cannot_be_checked_so_is_refused(
        tmp_path: Path) -> None:
    message = _refused(_suite(tmp_path, experiment=_experiment(
        _action({"type": "http", "url": "http://${nowhere}:8080/"}))))
    assert "method.0.provider.url" in message and "cannot be checked before the run" in message


def test_the_rag_generator_url_is_checked_even_when_unused(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    suite = suite.model_copy(update={"rag": suite.rag.model_copy(
        update={"openai_base_url": "https://api.example.com/v1"})})
    message = _refused(suite)
    assert f"{tmp_path / 'suite.yaml'}: rag.openai_base_url: https://api.example.com/v1: " \
           "api.example.com is a host name" in message


@pytest.mark.parametrize("suite", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_the_shipped_suites_pass(suite: Path) -> None:
    check_suite(load_suite(suite))


@pytest.mark.parametrize("stacks", [["tabular"], ["rag"], ["triton"]])
def test_the_local_address_plan_is_checked_and_stays_in_the_region_blocks(
        stacks: list[str], tmp_path: Path) -> None:
    suite = _suite(tmp_path).model_copy(update={"stacks": stacks, "load": [],
                                                "scenarios": []})
    plan = plan_run(suite, {})
    planned = [t for t in targets_of(plan) if t.source == PLAN_SOURCE]
    blocks = {region: ipaddress.ip_network(block) for region, block in REGION_BLOCKS.items()}
    assert plan.topology is not None
    for spec in plan.topology.processes:
        assert ipaddress.ip_address(spec.address) in blocks[spec.region], spec.name
        assert any(t.field == f"{spec.name}.address" for t in planned)
    regions = {spec.region for spec in plan.topology.processes}
    assert {"region-a", "region-b", "edge"} <= regions
    check_blast_radius(plan)


def test_planning_starts_nothing_and_opens_no_socket(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the blast-radius check started or opened something: {args}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for suite in SHIPPED:
        check_suite(load_suite(suite))


@pytest.mark.parametrize("context", [*KIND_CONTEXTS, "staging-eu", "kind-extra"])
def test_the_kind_platforms_own_and_allow_listed_contexts_are_accepted(
        context: str, tmp_path: Path) -> None:
    suite = _suite(tmp_path, platform="kind", contexts=("staging-eu", "kind-extra"))
    check_kube_context(suite, context)


@pytest.mark.parametrize("context", ["prod-eu", "kind-region-c", "minikube", "Kind-region-a"])
def test_any_other_kube_context_is_refused(context: str, tmp_path: Path) -> None:
    suite = _suite(tmp_path, platform="kind", contexts=("staging-eu",))
    with pytest.raises(ConfigError) as refused:
        check_kube_context(suite, context, field="scenarios.0.configuration.kube_context")
    message = str(refused.value)
    assert f"suite.yaml: scenarios.0.configuration.kube_context: kube context {context!r} " \
           "is neither the kind platform's own (kind-region-a, kind-region-b) nor in " \
           "blast_radius.kube_contexts (staging-eu)" in message


def test_an_experiment_kube_context_is_checked_against_the_allow_list(tmp_path: Path) -> None:
    experiment = _experiment(_action({"type": "process", "path": "true",
                                      "arguments": "kubectl --context prod-eu get pods"}))
    refused = _refused(_suite(tmp_path, experiment=experiment, platform="kind"))
    assert "method.0.provider.arguments.2: kube context 'prod-eu' is neither" in refused
    check_suite(_suite(tmp_path, experiment=experiment, platform="kind",
                       contexts=("prod-eu",)))


_K8S_ACTION = {"type": "python", "module": "chaosk8s.pod.actions", "func": "terminate_pods",
               "arguments": {"label_selector": "gameday.dev/component=api", "ns": "gameday"}}


@pytest.mark.parametrize("secrets", [
    None,  # no secrets at all: $KUBERNETES_CONTEXT or the kubeconfig's current context
    {"k8s": {"KUBERNETES_CONTEXT": {"type": "env", "key": "CTX"}}},  # known only at run time
    {"other": {"KUBERNETES_CONTEXT": "kind-region-a"}},  # a scope the activity does not list
])
def test_a_chaosk8s_activity_that_names_no_context_as_text_is_refused(
        secrets: dict[str, Any] | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CTX", "prod-eu")  # chaoslib would find it; the plan cannot judge it
    provider = {**_K8S_ACTION, "secrets": ["k8s"]}
    experiment = _experiment(_action(provider), **({"secrets": secrets} if secrets else {}))
    refused = _refused(_suite(tmp_path, experiment=experiment, platform="kind"))
    assert "method.0.provider.secrets: a chaostoolkit-kubernetes activity that names no " \
           "KUBERNETES_CONTEXT" in refused


def test_a_chaosk8s_activity_naming_its_context_is_judged_by_that_context(
        tmp_path: Path) -> None:
    provider = {**_K8S_ACTION, "secrets": ["k8s"]}
    own = _experiment(_action(provider), secrets={"k8s": {"KUBERNETES_CONTEXT": "kind-region-b"}})
    check_suite(_suite(tmp_path, experiment=own, platform="kind"))
    other = _experiment(_action(provider), secrets={"k8s": {"KUBERNETES_CONTEXT": "prod-eu"}})
    assert "kube context 'prod-eu' is neither" in _refused(
        _suite(tmp_path, experiment=other, platform="kind"))


def test_a_kube_context_on_the_local_platform_is_refused(tmp_path: Path) -> None:
    message = _refused(_suite(tmp_path, configuration={"kube_context": "kind-region-a"}))
    assert "scenarios.0.configuration.kube_context: kube context 'kind-region-a': the local " \
           "platform acts on no cluster" in message


@pytest.mark.parametrize(("blast_radius", "field", "expected"), [
    ({"kube_context": ["x"]}, "blast_radius.kube_context", "unknown key"),
    ({"kube_contexts": ["has space"]}, "blast_radius.kube_contexts.0", "no spaces"),
    ({"kube_contexts": ["a", "a"]}, "blast_radius.kube_contexts", "each context once"),
])
def test_a_wrong_allow_list_names_its_field(blast_radius: dict[str, Any], field: str,
                                            expected: str, tmp_path: Path) -> None:
    document = yaml.safe_load(SMOKE.read_text())
    document["scenarios"][0]["experiment"] = str(REPO / document["scenarios"][0]["experiment"])
    document["blast_radius"] = blast_radius
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError) as refused:
        load_suite(path)
    assert f"{path}: {field}: " in str(refused.value) and expected in str(refused.value)
