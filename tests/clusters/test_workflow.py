"""The scheduled resilience workflow (``.github/workflows/resilience.yml``), checked offline:
valid under GitHub's workflow schema (check-jsonschema's vendored copy), nightly and on
demand, minimal permissions, the kind platform stood up, the nightly suite run on it with the
CLI's real options (its exit code failing the job), the previous night's run folder as the
baseline when there is one, and the run folder, junit.xml, summary.md and the teardown kept
whatever the run's outcome. The baseline and run steps' own scripts run under bash -eo pipefail
with a fake ``gh`` and ``gameday`` on PATH. Nothing here talks to GitHub or starts a cluster."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from reports.build import JUNIT_FILE, MARKDOWN_FILE

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "resilience.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
NIGHTLY = "suites/nightly.yaml"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    document = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return list(workflow["jobs"]["kind"]["steps"])


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(triggers, dict)
    return triggers


def _step(steps: list[dict[str, Any]], pattern: str) -> tuple[int, dict[str, Any]]:
    """The one step whose `run` or `uses` matches ``pattern``, with its place."""
    found = [(index, step) for index, step in enumerate(steps)
             if re.search(pattern, step.get("run", "") or step.get("uses", ""))]
    assert len(found) == 1, f"{pattern}: {len(found)} steps"
    return found[0]


def _expr(text: str) -> str:
    """A GitHub Actions expression, as the workflow writes it."""
    return "${{ " + text + " }}"


def _schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, timeout=60)


def test_the_workflow_passes_the_github_workflow_schema_and_a_broken_one_does_not(
        tmp_path: Path) -> None:
    result = _schema_check(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.yml"  # a job without runs-on: the schema must refuse it
    broken.write_text(WORKFLOW.read_text().replace("    runs-on: ubuntu-24.04\n", "", 1))
    assert _schema_check(broken).returncode != 0


def test_it_runs_every_night_and_on_demand_with_the_nightly_suite_by_default(
        workflow: dict[Any, Any]) -> None:
    triggers = _triggers(workflow)
    (schedule,) = triggers["schedule"]
    assert len(schedule["cron"].split()) == 5
    suite_input = triggers["workflow_dispatch"]["inputs"]["suite"]
    assert suite_input["default"] == NIGHTLY and (REPO / NIGHTLY).is_file()
    # a scheduled run has no inputs: the suite falls back to the nightly one
    assert workflow["env"]["SUITE"] == _expr(f"inputs.suite || '{NIGHTLY}'")


def test_its_permissions_are_the_least_it_needs(workflow: dict[Any, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read", "actions": "read",
                                       "checks": "write"}
    assert "permissions" not in workflow["jobs"]["kind"]


def test_one_run_at_a_time_never_cancelled_and_bounded(workflow: dict[Any, Any],
                                                       steps: list[dict[str, Any]]) -> None:
    assert "${{ github.ref }}" in workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert 0 < workflow["jobs"]["kind"]["timeout-minutes"] <= 360
    _, run = _step(steps, r"gameday\" run|gameday \"\$\{args")
    assert 0 < run["timeout-minutes"] < workflow["jobs"]["kind"]["timeout-minutes"]


def test_every_action_is_pinned_to_a_version(steps: list[dict[str, Any]]) -> None:
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+(\.\d+)*", action), action
    assert "actions/checkout@v4" in uses and "actions/upload-artifact@v4" in uses


def test_it_sets_up_python_the_harness_and_a_pinned_kind(workflow: dict[Any, Any],
                                                         steps: list[dict[str, Any]]) -> None:
    _, python = _step(steps, r"^actions/setup-python@")
    assert python["with"]["python-version"] == "3.11"
    setup, _ = _step(steps, r"^make setup$")
    kind_at, kind = _step(steps, r"^helm/kind-action@")
    assert kind["with"]["install_only"] is True  # the platform creates its own clusters
    assert re.fullmatch(r"v\d+\.\d+\.\d+", workflow["env"]["KIND_VERSION"])
    assert kind["with"]["version"] == "${{ env.KIND_VERSION }}"
    up_at, _ = _step(steps, r"gameday up \"\$SUITE\" --platform kind$")
    assert setup < kind_at < up_at


def test_it_runs_the_suite_on_kind_and_fails_when_the_run_does(
        workflow: dict[Any, Any], steps: list[dict[str, Any]]) -> None:
    """The run's exit code is the step's (1: an SLO breach or a regression, 2: a harness
    failure): no continue-on-error, no `|| true`, no condition that would skip it."""
    up_at, _ = _step(steps, r"gameday up ")
    run_at, run = _step(steps, r"\.venv/bin/gameday \"\$\{args\[@\]\}\"")
    script = run["run"]
    assert 'args=(run "$SUITE" --platform kind --runs-dir "$RUNS_DIR")' in script
    assert workflow["env"]["RUNS_DIR"] == "runs/nightly"
    assert up_at < run_at
    assert "continue-on-error" not in run and "if" not in run
    assert workflow["defaults"]["run"]["shell"] == "bash"  # -eo pipefail
    assert "|| true" not in script and "set +e" not in script


def test_the_run_commands_options_are_the_clis(steps: list[dict[str, Any]]) -> None:
    from gameday.cli import run as run_command

    parameters = inspect.signature(run_command.command).parameters
    assert {"runs_dir", "platform", "baseline"} <= set(parameters)
    _, run = _step(steps, r"\.venv/bin/gameday \"\$\{args\[@\]\}\"")
    assert "--runs-dir" in run["run"] and "--baseline" in run["run"]


def test_the_previous_nights_folder_is_the_baseline_when_there_is_one(
        steps: list[dict[str, Any]]) -> None:
    fetch_at, fetch = _step(steps, r"gh run download")
    assert fetch["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert "--status success" in fetch["run"] and '--name "$ARTIFACT"' in fetch["run"]
    assert "exit 1" not in fetch["run"] and "::notice::" in fetch["run"]  # none is fine
    run_at, run = _step(steps, r"\.venv/bin/gameday \"\$\{args\[@\]\}\"")
    assert fetch_at < run_at
    assert run["env"]["BASELINE_DIR"] == _expr(f"steps.{fetch['id']}.outputs.dir")
    assert 'if [ -n "$BASELINE_DIR" ]; then args+=(--baseline "$BASELINE_DIR"); fi' \
        in run["run"]


def test_the_run_folder_is_kept_whatever_the_outcome(steps: list[dict[str, Any]]) -> None:
    _, upload = _step(steps, r"^actions/upload-artifact@")
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "${{ env.RUNS_DIR }}/"
    assert upload["with"]["name"] == "${{ env.ARTIFACT }}"  # what the baseline step fetches
    assert 1 <= upload["with"]["retention-days"] <= 90


def test_the_summary_and_the_junit_file_are_published_whatever_the_outcome(
        steps: list[dict[str, Any]]) -> None:
    _, folder = _step(steps, r"find \"\$RUNS_DIR\"")
    assert folder["if"] == "always()"
    _, summary = _step(steps, r'>> "\$GITHUB_STEP_SUMMARY"')
    assert summary["if"].startswith("always()")
    assert f'cat "$RUN_DIR/{MARKDOWN_FILE}" >> "$GITHUB_STEP_SUMMARY"' in summary["run"]
    _, junit = _step(steps, r"^mikepenz/action-junit-report@")
    assert junit["if"].startswith("always()")
    assert junit["with"]["report_paths"] == _expr(f"steps.{folder['id']}.outputs.dir") + \
        f"/{JUNIT_FILE}"


def test_the_platform_is_torn_down_last_whatever_the_outcome(
        steps: list[dict[str, Any]]) -> None:
    down_at, down = _step(steps, r"gameday down --platform kind$")
    assert down["if"] == "always()"
    assert down_at == len(steps) - 1


_FAKE_GH = """#!/usr/bin/env bash
# gh as the baseline step calls it: `run list` prints $FAKE_IDS, `run download` of $FAKE_GOOD
# writes a run folder, of any other run fails as gh does when the artefact is missing
if [ "$1 $2" = "run list" ]; then
  [ -n "$FAKE_LIST_FAILS" ] && exit 1
  printf '%s\\n' $FAKE_IDS; exit 0
fi
id=$3; shift 3
while [ $# -gt 0 ]; do case $1 in --dir) dir=$2; shift 2 ;; *) shift ;; esac; done
[ "$id" = "$FAKE_GOOD" ] || { echo "no artifact matches" >&2; exit 1; }
mkdir -p "$dir/20261204T021700Z-nightly"
touch "$dir/20261204T021700Z-nightly/suite.json" "$dir/20261204T021700Z-nightly/events.jsonl"
"""
_FAKE_GAMEDAY = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$ARGS_FILE"
exit "$FAKE_RC"
"""


def _run_step(script: str, tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str],
                                                              dict[str, str]]:
    """A step's script under bash -eo pipefail, as the runner runs it, with the fakes first on
    PATH; its $GITHUB_OUTPUT read back."""
    output = tmp_path / "github_output"
    output.write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "gh").write_text(_FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=tmp_path,
        capture_output=True, text=True, timeout=30,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "RUNNER_TEMP": str(runner_temp),
             "GITHUB_OUTPUT": str(output), "GITHUB_REF_NAME": "main",
             "ARTIFACT": "resilience-nightly", "SUITE": NIGHTLY, "RUNS_DIR": "runs/nightly",
             **env})
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if line)
    return result, outputs


@pytest.mark.parametrize(("ids", "good", "list_fails", "found"), [
    ("333 222 111", "222", "", "222"),  # the newest run that kept the artefact
    ("", "", "", None),                 # the first night
    ("333", "", "", None),              # an expired artefact
    ("", "", "1", None),                # gh itself failed: run without a baseline
], ids=["found", "no-runs", "no-artefact", "gh-fails"])
def test_the_baseline_step_finds_the_newest_kept_folder_or_goes_on_without(
        steps: list[dict[str, Any]], tmp_path: Path, ids: str, good: str, list_fails: str,
        found: str | None) -> None:
    _, fetch = _step(steps, r"gh run download")
    result, outputs = _run_step(fetch["run"], tmp_path, FAKE_IDS=ids, FAKE_GOOD=good,
                                FAKE_LIST_FAILS=list_fails)
    assert result.returncode == 0, result.stdout + result.stderr
    if found is None:
        assert "dir" not in outputs and "::notice::" in result.stdout
    else:
        folder = Path(outputs["dir"])
        assert folder == tmp_path / "runner-temp" / "baseline" / found / \
            "20261204T021700Z-nightly"
        assert (folder / "events.jsonl").is_file()


@pytest.mark.parametrize(("baseline", "exit_code"), [("", 0), ("", 1), ("/b/run", 1), ("", 2)])
def test_the_run_step_passes_the_baseline_if_any_and_exits_as_gameday_run_does(
        steps: list[dict[str, Any]], tmp_path: Path, baseline: str, exit_code: int) -> None:
    _, run = _step(steps, r"\.venv/bin/gameday \"\$\{args\[@\]\}\"")
    fake = tmp_path / ".venv" / "bin" / "gameday"
    fake.parent.mkdir(parents=True)
    fake.write_text(_FAKE_GAMEDAY)
    fake.chmod(0o755)
    args_file = tmp_path / "args"
    result, _ = _run_step(run["run"], tmp_path, BASELINE_DIR=baseline, FAKE_RC=str(exit_code),
                          ARGS_FILE=str(args_file))
    assert result.returncode == exit_code, result.stdout + result.stderr
    expected = ["run", NIGHTLY, "--platform", "kind", "--runs-dir", "runs/nightly"]
    assert args_file.read_text().splitlines() == \
        expected + (["--baseline", baseline] if baseline else [])
