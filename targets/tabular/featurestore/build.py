"""Build each region's Feast repo: feature_store.yaml, the offline source from the project's
own data, ``FeatureStore.apply`` (what ``feast apply`` does) and the first materialisation.

``python -m targets.tabular.featurestore.build [--artifacts DIR] [--force]`` from the Feast
venv; idempotent: a second run checks the stamp and the online stores and says "up to date".
"""

from __future__ import annotations

import os

os.environ.setdefault("FEAST_USAGE", "False")  # before Feast is imported: never phone home

import argparse
import contextlib
import io
import json
import shutil
import sqlite3
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from targets.tabular.featurestore.cards import make_cards
from targets.tabular.featurestore.repo import (
    CARD_COUNT,
    DEFAULT_TTL_S,
    FEATURE_VIEW,
    PROJECT,
    REGIONS,
    FeatureRepo,
)

__all__ = ["CARD_SEED", "RECIPE", "build_region", "main", "up_to_date"]

#: Seed of the cards' features (the project's transaction generator).
CARD_SEED = 11
#: What a built repo was built from; a change rebuilds.
RECIPE = {"cards": CARD_COUNT, "seed": CARD_SEED, "ttl_s": DEFAULT_TTL_S, "feast": "0.67.0",
          "layout": 2}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, default=Path("artifacts"))
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    repos = [FeatureRepo.of(args.artifacts, region) for region in REGIONS]
    if not args.force and all(up_to_date(repo) for repo in repos):
        print(f"features: up to date ({CARD_COUNT} cards, {len(repos)} regions' online "
              f"stores under {args.artifacts / 'features'})")
        return 0
    started_s = time.monotonic()
    rows = [build_region(repo) for repo in repos]
    print(f"features: {CARD_COUNT} cards applied and materialised into "
          f"{', '.join(f'{r}: {n} rows' for r, n in zip(REGIONS, rows, strict=True))} "
          f"in {time.monotonic() - started_s:.1f} s")
    return 0


def up_to_date(repo: FeatureRepo) -> bool:
    """The stamp says this recipe, and the online store holds a row per card."""
    try:
        stamp = json.loads(repo.stamp_path.read_text())
    except (OSError, ValueError):
        return False
    return stamp == RECIPE and online_rows(repo) >= CARD_COUNT


def online_rows(repo: FeatureRepo) -> int:
    """Cards the region's SQLite online store holds (0 when it has no table yet)."""
    if not repo.online_path.exists():
        return 0
    with sqlite3.connect(f"file:{repo.online_path}?mode=ro", uri=True) as db:
        try:
            (count,) = db.execute(
                f"SELECT COUNT(DISTINCT entity_key) FROM {PROJECT}_{FEATURE_VIEW}").fetchone()
        except sqlite3.OperationalError:
            return 0
    return int(count)


def build_region(repo: FeatureRepo) -> int:
    """A fresh repo: base rows, apply, materialise; returns the online store's card count."""
    from feast import FeatureStore

    from targets.tabular.featurestore.definitions import definitions
    from targets.tabular.featurestore.parts import write_part

    if repo.root.exists():
        shutil.rmtree(repo.root)
    repo.root.mkdir(parents=True)
    repo.config_path.write_text(repo.config_yaml())
    now = datetime.now(UTC)
    write_part(repo.source_dir, "base", make_cards(CARD_SEED), now)
    store = FeatureStore(repo_path=str(repo.root))
    with contextlib.redirect_stdout(io.StringIO()):  # Feast's progress chatter: one line is ours
        store.apply(definitions(repo.source_dir, DEFAULT_TTL_S))
        store.materialize_incremental(end_date=datetime.now(UTC))
    repo.serving_root.mkdir()
    (repo.serving_root / "feature_store.yaml").write_text(repo.config_yaml(serving=True))
    repo.publish_registry()
    repo.stamp_path.write_text(json.dumps(RECIPE))
    return online_rows(repo)


if __name__ == "__main__":
    sys.exit(main())
