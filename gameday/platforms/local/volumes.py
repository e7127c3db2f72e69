"""Size-capped data directories: a tmpfs of the stated size mounted where a member keeps its
data, so a disk-full fault fills that and never the host's disk."""

from __future__ import annotations

import contextlib
import os
import pwd
import subprocess
from pathlib import Path

from gameday.errors import PlatformError
from gameday.platforms.local.specs import ProcessSpec, Volume

__all__ = ["mount_volumes", "unmount_volumes", "volume_of"]


def mount_volumes(spec: ProcessSpec) -> None:
    owner = pwd.getpwnam(spec.user) if spec.user else None
    for volume in spec.volumes:
        path = Path(volume.path)
        path.mkdir(parents=True, exist_ok=True)
        if os.path.ismount(path):
            continue  # a restart: the data stays, as on a disk
        ids = f",uid={owner.pw_uid},gid={owner.pw_gid}" if owner else ""
        done = subprocess.run(["mount", "-t", "tmpfs", "-o",
                               f"size={volume.size_mb}m,mode=0700{ids}", "gameday-volume",
                               str(path)], capture_output=True, text=True, timeout=10)
        if done.returncode != 0:
            raise PlatformError(f"{spec.name}: cannot mount a {volume.size_mb} MB volume at "
                                f"{path} (root and mount(8) needed): {done.stderr.strip()}")


def unmount_volumes(spec: ProcessSpec) -> list[str]:
    """Unmounted paths; one still busy is detached lazily (it goes once its last user does)."""
    done = []
    for volume in spec.volumes:
        if os.path.ismount(volume.path):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                subprocess.run(["umount", "-l", volume.path], capture_output=True, timeout=10)
                done.append(volume.path)
    return done


def volume_of(spec: ProcessSpec) -> Volume | None:
    return spec.volumes[0] if spec.volumes else None
