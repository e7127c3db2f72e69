"""A stack of several components per region, one of which forks, on the real local platform.

The test stack ``forky`` (``stacks/forky/``) is shaped like the database stacks: a coordinator
with a witness beside the edge, a "db" whose process forks two children, an api that sets no
region header. Process groups must make a region outage, a restore and ``down`` reach every
process the members forked.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from gameday.platforms.base import MemberState, StackRequest
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.platform import LocalPlatform
from gameday.platforms.local.topology import Topology

STACKS = Path(__file__).parent / "stacks"


def _group(pgid: int | None) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
            if pgid and os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


def _eventually_served_by(platform: LocalPlatform, region: str, timeout_s: float = 15) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = httpx.get(platform.edge_url("forky") + "/env", timeout=5)
        if answer.status_code == 200 and answer.headers["x-served-by-region"] == region:
            return True
        time.sleep(0.1)
    return False


def _groups(platform: LocalPlatform, region: str, component: str) -> dict[str, int]:
    """Member name → its process group (the supervisor's record)."""
    return {s.spec.name: s.pgid or 0 for s in platform.state().members
            if s.spec.region == region and s.spec.component == component}


@pytest.fixture(scope="module")
def forky(trained_artifacts: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    if not Path("/usr/sbin/haproxy").exists():
        pytest.skip("haproxy is not installed (make setup installs it)")
    platform = LocalPlatform(LocalHome(tmp_path_factory.mktemp("forky-home")))
    try:
        platform.up(StackRequest(stacks=("forky",), replicas=2, stack_dirs=(STACKS,)))
        yield platform
    finally:
        platform.down()


def test_components_start_in_order_with_their_dirs_files_and_peers(forky: LocalPlatform) -> None:
    topology = Topology.load(forky.home)
    assert topology is not None
    names = [s.name for s in topology.processes]
    assert names.index("forky-coord-w1") < names.index("forky-db-a1") < names.index(
        "forky-api-a2")
    db = topology.spec("forky-db-a1")
    conf = Path(db.files[0].path)
    assert conf.is_file() and oct(conf.stat().st_mode & 0o777) == "0o600"
    text = conf.read_text()
    replication = {link.region: link.listen for link in topology.links
                   if link.name == "replication"}
    assert f"replicate_from_region_b = {replication['region-b']}" in text
    assert "forky-coord-w1=http://127.0.0.1:17880" in text  # the witness, port shifted
    assert Path(db.data_dirs[0]).is_dir()
    api = topology.spec("forky-api-b1")
    assert api.env["DB_HOSTS"] == "127.10.7.21:17432,127.20.7.21:17432"


def test_the_edge_names_the_region_for_a_stack_that_sets_no_header(
        forky: LocalPlatform) -> None:
    answer = httpx.get(forky.edge_url("forky") + "/env", timeout=5)
    assert answer.status_code == 200
    assert answer.json()["region"] == "region-a"
    assert answer.headers["x-served-by-region"] == "region-a"
    assert answer.headers["x-served-by-server"].startswith("forky-api-a")


def test_a_region_outage_kills_every_process_of_every_group_and_restore_brings_them_back(
        forky: LocalPlatform) -> None:
    groups = _groups(forky, "region-a", "db")
    before = {name: _group(pgid) for name, pgid in groups.items()}
    assert all(len(family) == 3 for family in before.values()), before  # parent + 2 forks
    forky.stop_region("region-a", freeze=False)
    try:
        assert all(not _group(pgid) for pgid in groups.values())
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                       for family in before.values() for p in family)
        assert {m.state for m in forky.members(region="region-a")} == {MemberState.HELD_DOWN}
        assert _eventually_served_by(forky, "region-b")
    finally:
        forky.restore_region("region-a")
    after = _groups(forky, "region-a", "db")
    assert all(len(_group(pgid)) == 3 for pgid in after.values())
    assert {m.state for m in forky.members(region="region-a")} == {MemberState.HEALTHY}


def test_a_freeze_stops_the_forked_children_too(forky: LocalPlatform) -> None:
    groups = _groups(forky, "region-b", "db")
    forky.stop_region("region-b", freeze=True)
    try:
        assert all(p.status() == psutil.STATUS_STOPPED for pgid in groups.values()
                   for p in _group(pgid))
    finally:
        forky.restore_region("region-b")
    assert all(p.status() != psutil.STATUS_STOPPED for pgid in groups.values()
               for p in _group(pgid))


def test_down_leaves_no_process_of_any_group(trained_artifacts: Path, tmp_path: Path,
                                             forky: LocalPlatform) -> None:
    # a second, short-lived platform would collide on ports: take the module's one down
    groups = [s.pgid for s in forky.state().members]
    forky.down()
    assert all(not _group(pgid) for pgid in groups)
    assert not forky.is_up()
