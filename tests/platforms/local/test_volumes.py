"""Size-capped volumes and the disk-full fault, on a real tmpfs (needs root and mount(8))."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameday.errors import FaultError
from gameday.platforms.local.faults import DiskFill, FaultContext
from gameday.platforms.local.home import LocalHome
from gameday.platforms.local.specs import ProcessSpec, Volume
from gameday.platforms.local.volumes import mount_volumes, unmount_volumes


def _spec(path: Path, size_mb: int = 8) -> ProcessSpec:
    return ProcessSpec(name="rag-db-a1", region="region-a", stack="rag", component="db",
                       argv=("true",), address="127.10.3.21", ports={"pg": 15432},
                       volumes=(Volume(path=str(path), size_mb=size_mb),))


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[Path]:
    spec = _spec(tmp_path / "pgdata")
    try:
        mount_volumes(spec)
    except Exception as exc:  # not root, or no mount here: said, not hidden
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    yield tmp_path / "pgdata"
    unmount_volumes(spec)


def _ctx(tmp_path: Path) -> FaultContext:
    def call(op: str, **arguments: object) -> object:
        raise AssertionError(f"the disk fault needs no supervisor ({op})")

    return FaultContext(home=LocalHome(tmp_path / "home"), proxy_api_url="", call=call)


def test_a_volume_is_a_filesystem_of_the_size_asked_and_survives_a_second_mount(
        volume: Path) -> None:
    stats = os.statvfs(volume)
    assert os.path.ismount(volume)
    assert 7.5 * 2**20 <= stats.f_blocks * stats.f_frsize <= 8.5 * 2**20
    (volume / "kept").write_text("data")
    mount_volumes(_spec(volume))  # a restart of the member: mounted already, data kept
    assert (volume / "kept").read_text() == "data"


def test_disk_fill_leaves_no_byte_and_its_undo_frees_the_volume(volume: Path,
                                                                tmp_path: Path) -> None:
    fault = DiskFill(member="rag-db-a1", volume=str(volume))
    done = fault.inject(_ctx(tmp_path))
    fault.verify(_ctx(tmp_path))
    assert done["written_bytes"] > 7 * 2**20
    with pytest.raises(OSError):  # what PostgreSQL meets writing WAL
        (volume / "wal").write_bytes(b"\0" * 65536)
    fault.undo(_ctx(tmp_path))
    stats = os.statvfs(volume)
    assert stats.f_bavail * stats.f_frsize > 7 * 2**20


def test_disk_fill_refuses_a_directory_that_is_not_a_capped_volume(tmp_path: Path) -> None:
    with pytest.raises(FaultError, match="host's disk"):
        DiskFill(member="rag-db-a1", volume=str(tmp_path)).inject(_ctx(tmp_path))


def test_unmount_takes_the_volume_away(tmp_path: Path) -> None:
    spec = _spec(tmp_path / "pgdata")
    try:
        mount_volumes(spec)
    except Exception as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    assert unmount_volumes(spec) == [str(tmp_path / "pgdata")]
    subprocess.run(["sync"], check=False)
    assert not os.path.ismount(tmp_path / "pgdata")
