"""The blast-radius guard at the command line, and ``gameday run --dry-run``: a suite that names
a non-loopback address is refused with exit 2 naming the field before anything starts (no run
folder, no platform home, the platform never called); a dry run prints what would be injected
where and starts nothing either. The addresses are strings in files: nothing is sent to one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import gameday.cli.run as run_command
import gameday.platforms
from tests.cli.conftest import SMOKE, CliResult

Cli = Callable[..., CliResult]
SHIPPED = sorted((SMOKE.parent).glob("*.yaml"))
NOT_LOOPBACK = {"10.0.0.5": "10.0.0.5 is not a loopback address",
                "8.8.8.8": "8.8.8.8 is not a loopback address",
                "example.com": "example.com is a host name, not a loopback address",
                "2001:db8::1": "2001:db8::1 is not a loopback address"}


@pytest.fixture
def platform_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every platform factory and the run itself record a call instead of starting anything."""
    calls: list[str] = []

    def tripwire(what: str) -> Callable[..., None]:
        def called(*args: object, **kwargs: object) -> None:
            calls.append(what)
            raise AssertionError(f"{what} was called")
        return called

    for name in gameday.platforms.PLATFORMS:
        monkeypatch.setitem(gameday.platforms.PLATFORMS, name, tripwire(f"platform {name}"))
    monkeypatch.setattr(run_command, "run_suite", tripwire("run_suite"))
    monkeypatch.setattr(run_command, "new_run_dir", tripwire("new_run_dir"))
    return calls


def _nothing_started(runs: Path, home: Path, calls: list[str]) -> None:
    assert calls == []
    assert not runs.exists() and not home.exists()
    assert not (Path.cwd() / ".gameday").exists()


@pytest.mark.parametrize("argv", [["validate"], ["run"], ["run", "--dry-run"]],
                         ids=["validate", "run", "dry-run"])
@pytest.mark.parametrize("address", sorted(NOT_LOOPBACK))
def test_a_suite_pointing_at_a_non_loopback_address_is_refused_before_anything_starts(
        address: str, argv: list[str], write_suite: Callable[..., Path], untouched_home: Path,
        platform_calls: list[str], tmp_path: Path, cli: Cli) -> None:
    suite = write_suite(lambda d: d["scenarios"][0]["configuration"].update(
        target_url=address))
    runs = tmp_path / "runs"
    extra = ["--runs-dir", str(runs)] if argv[0] == "run" else []
    result = cli(argv[0], str(suite), *argv[1:], *extra)
    assert result.code == 2, result.output
    flat = result.output.replace("\n", " ")
    assert f"{suite}: scenarios.0.configuration.target_url: {NOT_LOOPBACK[address]}" in flat
    _nothing_started(runs, untouched_home, platform_calls)


def test_an_experiment_naming_a_non_loopback_url_is_refused_naming_its_field(
        write_suite: Callable[..., Path], untouched_home: Path, platform_calls: list[str],
        tmp_path: Path, cli: Cli) -> None:
    experiment = tmp_path / "experiments" / "outward.json"
    experiment.write_text(json.dumps({
        "title": "an http probe outward", "description": "refused, never run",
        "method": [{"type": "probe", "name": "poke", "provider": {
            "type": "http", "url": "http://10.0.0.5:8080/health"}}]}))
    suite = write_suite(lambda d: d["scenarios"][0].update(
        experiment="experiments/outward.json"))
    runs = tmp_path / "runs"
    result = cli("run", str(suite), "--runs-dir", str(runs))
    assert result.code == 2, result.output
    assert f"{experiment} (scenario region-outage): method.0.provider.url: " \
           "http://10.0.0.5:8080/health: 10.0.0.5 is not a loopback address" \
           in result.output.replace("\n", " ")
    _nothing_started(runs, untouched_home, platform_calls)


def test_a_dry_run_prints_each_scenarios_actions_and_each_loads_target(
        write_suite: Callable[..., Path], untouched_home: Path, platform_calls: list[str],
        tmp_path: Path, cli: Cli) -> None:
    def edit(document: dict) -> None:
        document["scenarios"].append({"name": "replica-kill", "offset_s": 20,
                                      "experiment": "experiments/replica-kill.json",
                                      "target_region": "region-b"})
    suite = write_suite(edit)
    runs = tmp_path / "runs"
    result = cli("run", str(suite), "--dry-run", "--runs-dir", str(runs))
    assert result.code == 0, result.output
    out = result.stdout.replace("\n", " ")
    assert "load predict: tabular predict -> http://127.0.0.1:8080/tabular/predict; poisson " \
           "50 req/s for 40 s after a 3 s warm-up" in out
    assert "region-outage at +8 s:" in out and "on region-a, fault 8 s" in out
    assert "method action kill-region: python gameday.faults.region.actions.kill_region(" \
           "region='region-a'); pause after 8 s" in out
    assert "rollback action restore-region: python gameday.faults.region.actions." \
           "restore_region(region='region-a')" in out
    assert "replica-kill at +20 s:" in out and "on region-b" in out
    assert out.index("region-outage at") < out.index("replica-kill at")
    assert "tabular.api region-b: tabular-api-b2 127.20.1.2" in out
    assert "slo rto threshold_s 5.0" in out
    _nothing_started(runs, untouched_home, platform_calls)


def test_a_dry_run_shows_the_configuration_a_set_override_gives(
        untouched_home: Path, platform_calls: list[str], tmp_path: Path, cli: Cli) -> None:
    runs = tmp_path / "runs"
    result = cli("run", str(SMOKE), "--dry-run", "--runs-dir", str(runs), "--set",
                 "scenarios.0.configuration.fault_duration_s=3", "--set",
                 "scenarios.0.target_region=region-b")
    assert result.code == 0, result.output
    assert "kill_region(region='region-b'); pause after 3 s" in result.stdout
    assert "on region-b, fault 3 s" in result.stdout
    _nothing_started(runs, untouched_home, platform_calls)


def test_a_dry_run_writes_the_same_plan_as_json(
        untouched_home: Path, platform_calls: list[str], tmp_path: Path, cli: Cli) -> None:
    runs, plan_file = tmp_path / "runs", tmp_path / "plan.json"
    result = cli("run", str(SMOKE), "--dry-run", "--json", str(plan_file), "--runs-dir",
                 str(runs))
    assert result.code == 0, result.output
    plan = json.loads(plan_file.read_text())
    assert plan["platform"] == "local" and plan["home"] == str(untouched_home)
    assert plan["loads"][0]["target_url"] == "http://127.0.0.1:8080/tabular/predict"
    scenario = plan["scenarios"][0]
    assert (scenario["name"], scenario["offset_s"], scenario["fault_duration_s"]) == \
        ("region-outage", 8, 8)
    method = scenario["method"][0]
    assert method["provider"]["func"] == "kill_region"
    assert method["provider"]["arguments"] == {"region": "region-a"}
    assert method["pauses"] == {"after": 8}
    assert scenario["rollbacks"][0]["name"] == "restore-region"
    addresses = {m["name"]: m["address"] for m in plan["members"]}
    assert addresses["tabular-api-a1"] == "127.10.1.1"
    assert addresses["tabular-api-b1"] == "127.20.1.1"
    assert [slo["kind"] for slo in plan["slos"]] == ["availability", "latency", "rto"]
    _nothing_started(runs, untouched_home, platform_calls)


def test_json_without_a_dry_run_is_refused(untouched_home: Path, platform_calls: list[str],
                                           tmp_path: Path, cli: Cli) -> None:
    runs = tmp_path / "runs"
    result = cli("run", str(SMOKE), "--json", str(tmp_path / "plan.json"), "--runs-dir",
                 str(runs))
    assert result.code == 2
    assert "--json writes the dry run's plan: it needs --dry-run" in result.output
    assert not (tmp_path / "plan.json").exists()
    _nothing_started(runs, untouched_home, platform_calls)


def test_a_kind_dry_run_names_the_kube_contexts_it_may_act_on(
        write_suite: Callable[..., Path], untouched_home: Path, platform_calls: list[str],
        tmp_path: Path, cli: Cli) -> None:
    suite = write_suite(lambda d: d.update(blast_radius={"kube_contexts": ["staging-eu"]}))
    runs = tmp_path / "runs"
    result = cli("run", str(suite), "--platform", "kind", "--dry-run", "--runs-dir", str(runs))
    assert result.code == 0, result.output
    assert "kube contexts: kind-region-a, kind-region-b, staging-eu" in result.stdout
    assert "kill_region(region='region-a')" in result.stdout
    _nothing_started(runs, untouched_home, platform_calls)


@pytest.mark.parametrize("suite", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_every_shipped_suite_has_a_dry_run(suite: Path, untouched_home: Path,
                                           platform_calls: list[str], tmp_path: Path,
                                           cli: Cli) -> None:
    runs = tmp_path / "runs"
    result = cli("run", str(suite), "--dry-run", "--runs-dir", str(runs))
    assert result.code == 0, result.output
    assert "nothing is started" in result.stdout
    _nothing_started(runs, untouched_home, platform_calls)
