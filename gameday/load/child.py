"""The command line every load generator child takes (``--plan --run-dir --name
--parent-pid``), checked the same way for the HTTP pacer and the numbered writer."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from gameday.errors import LoadError

__all__ = ["parse_child_args", "read_plan_text"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def parse_child_args(argv: list[str] | None, *, prog: str, description: str, plan_kind: str,
                     default_name: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--plan", type=Path, required=True, help=f"{plan_kind} JSON file")
    parser.add_argument("--run-dir", type=Path, required=True, help="run folder to write into")
    parser.add_argument("--name", default=default_name,
                        help="generator name (requests-<name>.csv)")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="stop when this process is no longer our parent")
    return parser.parse_args(argv)


def read_plan_text(args: argparse.Namespace) -> str:
    """The plan file's text, once the generator name and the run folder are checked."""
    if not _NAME.fullmatch(args.name):
        raise LoadError(f"--name {args.name!r}: expected letters, digits, '_', '.', '-'")
    if not args.run_dir.is_dir():
        raise LoadError(f"--run-dir {args.run_dir}: not a directory")
    try:
        return str(args.plan.read_text())
    except OSError as exc:
        raise LoadError(f"--plan {args.plan}: cannot read: {exc.strerror}") from None
