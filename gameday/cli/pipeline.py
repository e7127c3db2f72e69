"""Re-run the tabular stack's ML pipeline on its own (`make setup` runs it too): generate the
data, apply the feature definitions and materialise both regions' online stores, train,
register in the MLflow registry, then serve the champion from one real replica on a loopback
port and check its monitoring (its Prometheus counters and its drift monitor). Steps already
up to date are skipped; serve and monitor always run. Each step prints one line. Starts no
platform. Exit 0; 2 when a step failed (the message says which and why).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

from gameday.errors import ConfigError

NAME = "pipeline"

_REPO = Path(__file__).resolve().parents[2]
_MODULE = "targets.tabular.pipeline"  # the stack's own pipeline: the harness never imports it


def command(
    home: Path | None = typer.Option(None, "--home", show_default=False,
                                     help="the model home (default: the repo's artifacts/)"),
    force: bool = typer.Option(False, "--force", help="redo every step"),
) -> int:
    if not (_REPO / "targets" / "tabular" / "pipeline.py").is_file():
        raise ConfigError("the tabular stack's pipeline is not in this checkout",
                          source=str(_REPO / "targets" / "tabular"))
    args = [sys.executable, "-m", _MODULE]
    if home is not None:
        args += ["--home", str(home.resolve())]
    if force:
        args.append("--force")
    done = subprocess.run(args, cwd=_REPO, check=False)
    return 0 if done.returncode == 0 else 2
