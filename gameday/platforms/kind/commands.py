"""How the kind platform runs ``kind``, ``docker`` and ``kubectl``: every command goes through a
``CommandRunner``, so ``--dry-run`` prints the exact commands instead of running them and the
tests check the commands a fault issues against a ``RecordingRunner`` (no Docker here).

A missing binary is a ``ConfigError`` (exit 2) that names what to install.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gameday.errors import ConfigError, PlatformError

__all__ = ["INSTALL_HINTS", "CommandResult", "CommandRunner", "PrintingRunner",
           "RecordingRunner", "SubprocessRunner", "require_binaries"]

INSTALL_HINTS = {
    "kind": "kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation; "
            "`go install sigs.k8s.io/kind@v0.24.0` or its release binary)",
    "docker": "Docker Engine with a running daemon (https://docs.docker.com/engine/install/)",
    "kubectl": "kubectl (Debian: `apt-get install kubectl`, or "
               "https://kubernetes.io/docs/tasks/tools/)",
}


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def line(self) -> str:
        return shlex.join(self.argv)


class CommandRunner(Protocol):
    def run(self, argv: Sequence[str], *, check: bool = True, timeout_s: float = 300.0,
            input_text: str | None = None) -> CommandResult:
        """Run ``argv`` (no shell); with ``check`` a non-zero exit is a PlatformError that
        quotes the command and its stderr."""
        ...


def _checked(result: CommandResult, check: bool) -> CommandResult:
    if check and result.returncode != 0:
        raise PlatformError(f"`{result.line}` exited {result.returncode}: "
                            f"{result.stderr.strip() or result.stdout.strip()}")
    return result


class SubprocessRunner:
    """Runs each command for real."""

    def run(self, argv: Sequence[str], *, check: bool = True, timeout_s: float = 300.0,
            input_text: str | None = None) -> CommandResult:
        try:
            done = subprocess.run(list(argv), input=input_text, capture_output=True, text=True,
                                  timeout=timeout_s, check=False)
        except FileNotFoundError:
            require_binaries([argv[0]])
            raise
        except subprocess.TimeoutExpired as exc:
            raise PlatformError(f"`{shlex.join(argv)}` did not end within {timeout_s:g} s") \
                from exc
        return _checked(CommandResult(tuple(argv), done.returncode, done.stdout, done.stderr),
                        check)


Reply = CommandResult | Callable[[tuple[str, ...]], CommandResult]


@dataclass
class RecordingRunner:
    """Runs nothing: records every command and answers from ``replies``, keyed by the
    command's leading words (the longest key that matches wins), else exit 0 with no output.
    The tests' stand-in for Docker and kind."""

    replies: dict[tuple[str, ...], Reply] = field(default_factory=dict)
    commands: list[tuple[str, ...]] = field(default_factory=list)

    def reply(self, prefix: Sequence[str], stdout: str = "", returncode: int = 0,
              stderr: str = "") -> None:
        key = tuple(prefix)
        self.replies[key] = CommandResult(key, returncode, stdout, stderr)

    def run(self, argv: Sequence[str], *, check: bool = True, timeout_s: float = 300.0,
            input_text: str | None = None) -> CommandResult:
        command = tuple(argv)
        self.commands.append(command)
        keys = [k for k in self.replies if command[:len(k)] == k]
        if not keys:
            return CommandResult(command, 0)
        reply = self.replies[max(keys, key=len)]
        result = reply(command) if callable(reply) else reply
        return _checked(CommandResult(command, result.returncode, result.stdout,
                                      result.stderr), check)

    def lines(self) -> list[str]:
        return [shlex.join(c) for c in self.commands]


@dataclass
class PrintingRunner:
    """``--dry-run``: prints each command as it would run (a shell-quoted line) and answers
    exit 0 with no output."""

    emit: Callable[[str], None]

    def run(self, argv: Sequence[str], *, check: bool = True, timeout_s: float = 300.0,
            input_text: str | None = None) -> CommandResult:
        self.emit(shlex.join(argv))
        return CommandResult(tuple(argv), 0)


def require_binaries(names: Sequence[str]) -> None:
    """ConfigError (exit 2) naming what to install for every binary that is not on PATH."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise ConfigError("the kind platform needs " + "; ".join(
            f"`{name}`, not found on PATH: install {INSTALL_HINTS.get(name, name)}"
            for name in missing))
