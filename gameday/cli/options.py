"""Suite loading for commands, with ``--set key.path=value`` overrides validated like the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gameday.config import Suite, load_suite, validation_message
from gameday.errors import ConfigError

__all__ = ["load_suite_with_overrides"]


def _apply(document: dict[str, Any], assignment: str) -> None:
    if "=" not in assignment:
        raise ConfigError(f"--set expects key.path=value, got {assignment!r}")
    path, raw_value = assignment.split("=", 1)
    keys = path.split(".")
    node: Any = document
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    value = yaml.safe_load(raw_value)
    if isinstance(node, list):
        node[int(keys[-1])] = value
    else:
        node[keys[-1]] = value


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
        raise ConfigError(message, source=f"{path} (with --set)", field=field) from None
