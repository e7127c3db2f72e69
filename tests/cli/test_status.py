"""``gameday status`` exits 0 only when the platform is up, every member healthy and no fault
in force; 1 otherwise, saying why; ``--json`` carries the same facts for a machine.

Most cases use a small platform that is up by declaration (``members`` and ``faults`` as the
test sets them); the last one asks the real local platform, with a region held down.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gameday.platforms import PLATFORMS
from gameday.platforms.base import Member, MemberState
from tests.cli.conftest import CliResult

Cli = Callable[..., CliResult]


def _member(name: str, region: str, state: str, port: int) -> Member:
    return Member(name=name, region=region, stack="tabular", component="api",
                  address="127.10.1.1", port=port, pid=4242, state=MemberState(state),
                  ports={"http": port})


class _DeclaredPlatform:
    """Up, with the members the test declares; no fault ledger."""

    name = "declared"

    def __init__(self, members: list[Member], up: bool = True) -> None:
        self._members, self._up = members, up

    def is_up(self) -> bool:
        return self._up

    def members(self, **_: Any) -> list[Member]:
        return list(self._members)

    # the rest of the Platform interface, so capability checks see a whole platform
    def up(self, *_: Any, **__: Any) -> None:
        return None

    def down(self, **_: Any) -> list[str]:
        return []

    def edge_url(self, stack: str) -> str:
        return f"http://127.0.0.1:1/{stack}"

    def reset_faults(self) -> list[str]:
        return []

    def check_prerequisites(self) -> None:
        return None

    def experiment_configuration(self) -> dict[str, str]:
        return {"gameday_platform": self.name}


class _DeclaredWithLedger(_DeclaredPlatform):
    name = "declared-ledger"

    def __init__(self, members: list[Member], faults: list[str]) -> None:
        super().__init__(members)
        self._faults = faults

    def faults_in_force(self) -> list[str]:
        return list(self._faults)


Declare = Callable[[_DeclaredPlatform], str]


@pytest.fixture
def declare(monkeypatch: pytest.MonkeyPatch) -> Declare:
    """Registers a platform instance under its name; returns the name for --platform."""

    def register(platform: _DeclaredPlatform) -> str:
        monkeypatch.setitem(PLATFORMS, platform.name, lambda home: platform)
        return platform.name

    return register


def _healthy() -> list[Member]:
    return [_member("tabular-a1", "region-a", "healthy", 18100),
            _member("tabular-b1", "region-b", "healthy", 18100)]


def test_a_platform_that_is_not_up_exits_1_and_creates_nothing(
        cli: Cli, untouched_home: Path) -> None:
    result = cli("status")
    assert result.code == 1
    assert f"the local platform is not up (home {untouched_home})" in result.output
    assert not untouched_home.exists()


def test_json_says_the_platform_is_down(cli: Cli, tmp_path: Path) -> None:
    result = cli("status", "--json", "--home", str(tmp_path / "home"), "--platform", "local")
    assert result.code == 1
    document = json.loads(result.stdout)
    assert document["platform"] == "local" and document["up"] is False
    assert document["home"] == str(tmp_path / "home")
    assert document["members"] == [] and document["faults"] == []


def test_every_member_healthy_and_no_fault_exits_0(
        cli: Cli, declare: Declare) -> None:
    name = declare(_DeclaredWithLedger(_healthy(), faults=[]))
    result = cli("status", "--platform", name)
    assert result.code == 0, result.output
    assert "2 members healthy, no fault in force" in result.output


def test_json_lists_each_member_with_its_address_and_state(
        cli: Cli, declare: Declare) -> None:
    name = declare(_DeclaredWithLedger(_healthy(), faults=[]))
    document = json.loads(cli("status", "--json", "--platform", name).stdout)
    assert document["up"] is True and document["platform"] == name
    assert document["members"][0] == {"name": "tabular-a1", "region": "region-a",
                                      "stack": "tabular", "component": "api",
                                      "address": "127.10.1.1",
                                      "port": 18100, "pid": 4242, "state": "healthy"}
    assert document["faults"] == [] and document["problems"] == []


def test_a_member_that_is_not_healthy_exits_1_naming_it(
        cli: Cli, declare: Declare) -> None:
    members = [*_healthy(), _member("tabular-a2", "region-a", "starting", 18101)]
    name = declare(_DeclaredWithLedger(members, faults=[]))
    result = cli("status", "--platform", name)
    assert result.code == 1 and "tabular-a2 is starting" in result.output


def test_a_fault_in_force_exits_1_saying_which(cli: Cli,
                                               declare: Declare) -> None:
    fault = "link_toxics: toxic gameday_latency (latency) on 2 links into region-a (owner pid 1)"
    name = declare(_DeclaredWithLedger(_healthy(), faults=[fault]))
    result = cli("status", "--platform", name)
    assert result.code == 1
    assert f"fault in force: {fault}" in result.output
    document = json.loads(cli("status", "--json", "--platform", name).stdout)
    assert document["faults"] == [fault]


def test_without_a_fault_ledger_a_held_region_is_read_off_its_members(
        cli: Cli, declare: Declare) -> None:
    members = [_member("tabular-a1", "region-a", "held-down", 18100),
               _member("tabular-b1", "region-b", "healthy", 18100)]
    name = declare(_DeclaredPlatform(members))
    document = json.loads(cli("status", "--json", "--platform", name).stdout)
    assert document["faults"] == ["region_hold: region-a (held-down)"]
    assert "tabular-a1 is held-down" in document["problems"]


def test_status_and_down_take_the_platform_from_the_environment(
        cli: Cli, untouched_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMEDAY_PLATFORM", "kind")
    monkeypatch.setenv("PATH", str(untouched_home.parent / "no-binaries"))
    elsewhere = str(untouched_home.parent / "kind-home")  # its fault ledger is kept there
    result = cli("status", "--json", "--home", elsewhere)
    assert result.code == 1 and json.loads(result.stdout)["platform"] == "kind"
    result = cli("down")  # nothing of kind's was stood up here (and without kind none could be)
    assert result.code == 0, result.output
    monkeypatch.setenv("GAMEDAY_PLATFORM", "docker")
    result = cli("status")
    assert result.code == 2 and "$GAMEDAY_PLATFORM: unknown platform 'docker'" in result.output
    assert not untouched_home.exists()
