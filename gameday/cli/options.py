"""What every command resolves once at the edge: the platform (name and home) and the suite.

The platform is ``--platform``, else ``$GAMEDAY_PLATFORM``, else the suite's ``platform`` (for
commands that take a suite), else ``local``; its home is ``--home``, else ``$GAMEDAY_HOME``,
else ``.gameday`` in the current directory. Nothing below the CLI reads those variables again:
the resolved pair is passed down explicitly. Suites are loaded with ``--set key.path=value``
overrides, validated like the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, cast, get_args

import typer
import yaml
from pydantic import ValidationError

from gameday.config import Suite, load_suite, validation_message
from gameday.errors import ConfigError
from gameday.measure import Scope
from gameday.platforms import PLATFORMS, open_platform
from gameday.platforms.base import Platform

__all__ = [
    "DEFAULT_HOME",
    "DEFAULT_PLATFORM",
    "HomeOption",
    "PlatformOption",
    "PlatformTarget",
    "load_suite_with_overrides",
    "resolve_platform",
    "scope_option",
    "write_output",
]

DEFAULT_PLATFORM = "local"
DEFAULT_HOME = Path(".gameday")
_PLATFORM_ENV = "GAMEDAY_PLATFORM"
_HOME_ENV = "GAMEDAY_HOME"

PlatformOption = Annotated[str | None, typer.Option(
    "--platform", show_default=False,
    help=f"{' or '.join(PLATFORMS)} (default: ${_PLATFORM_ENV}, else the suite's platform "
         f"(up, run), else {DEFAULT_PLATFORM})")]
HomeOption = Annotated[Path | None, typer.Option(
    "--home", show_default=False,
    help=f"the platform's home folder (default: ${_HOME_ENV}, else {DEFAULT_HOME})")]


@dataclass(frozen=True)
class PlatformTarget:
    """The platform a command talks to, and where it said so (for error messages)."""

    name: str
    home: Path
    name_from: str
    home_from: str

    def open(self) -> Platform:
        return open_platform(self.name, self.home)


def _env(key: str) -> str | None:
    value = os.environ.get(key, "").strip()
    return value or None


def resolve_platform(platform: str | None, home: Path | None,
                     suite: Suite | None = None) -> PlatformTarget:
    """The one place the platform's name and home are decided (see the module docstring)."""
    if platform is not None:
        name, name_from = platform, "--platform"
    elif (from_env := _env(_PLATFORM_ENV)) is not None:
        name, name_from = from_env, f"${_PLATFORM_ENV}"
    elif suite is not None:
        name, name_from = suite.platform, f"{suite.source or 'the suite'}: platform"
    else:
        name, name_from = DEFAULT_PLATFORM, "the default"
    if name not in PLATFORMS:
        raise ConfigError(f"unknown platform {name!r}; expected one of {', '.join(PLATFORMS)}",
                          source=name_from)
    if home is not None:
        root, home_from = home, "--home"
    elif (home_env := _env(_HOME_ENV)) is not None:
        root, home_from = Path(home_env), f"${_HOME_ENV}"
    else:
        root, home_from = DEFAULT_HOME, "the default"
    return PlatformTarget(name=name, home=root.expanduser().resolve(), name_from=name_from,
                          home_from=home_from)


def _apply(document: dict[str, Any], assignment: str) -> None:
    if "=" not in assignment:
        raise ConfigError(f"--set expects key.path=value, got {assignment!r}")
    path, raw_value = assignment.split("=", 1)
    keys = path.split(".")
    node: Any = document
    for key in keys[:-1]:
        node = _one(node, key)
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    value = yaml.safe_load(raw_value)
    node = _one(node, keys[-1])
    if isinstance(node, list):
        node[int(keys[-1])] = value
    else:
        node[keys[-1]] = value


def _one(node: Any, key: str) -> Any:
    """A list of one (a suite's single load) is addressed as that one: load.rate_per_s."""
    if isinstance(node, list) and len(node) == 1 and not key.isdigit():
        return node[0]
    return node


def load_suite_with_overrides(path: Path, assignments: list[str]) -> Suite:
    suite = load_suite(path)
    if not assignments:
        return suite
    document = suite.model_dump(mode="json", exclude={"source"})
    for assignment in assignments:
        try:
            _apply(document, assignment)
        except (IndexError, ValueError, TypeError, AttributeError):
            raise ConfigError(f"--set {assignment!r}: no such place in the suite") from None
    try:
        return Suite.model_validate({**document, "source": path})
    except ValidationError as exc:
        field, message = validation_message(exc)
        if len(suite.load) == 1 and field.startswith("load.0"):
            field = "load" + field[len("load.0"):]
        raise ConfigError(message, source=f"{path} (with --set)", field=field) from None


def write_output(path: Path, text: str, option: str) -> None:
    """A file an option asked for (``--json``, ``--html``), or a ConfigError naming both."""
    try:
        path.write_text(text)
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror}", source=f"{option} {path}") from None


def scope_option(scope: str) -> Scope:
    """``--scope`` of the commands that read run folders, checked."""
    if scope not in get_args(Scope):
        raise ConfigError(f"expected one of {', '.join(get_args(Scope))}, got {scope!r}",
                          source="--scope")
    return cast(Scope, scope)
