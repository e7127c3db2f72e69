"""A region's materializer: every ``--interval-s`` it appends a fresh part for every card to
the region's offline source (new ``event_timestamp``, redrawn ``tx_last_24h``) and runs
``materialize_incremental`` into the region's online store.

``python -m targets.tabular.featurestore.materializer --repo DIR --address A --port P`` from
the Feast venv. It re-applies the feature view with ``--ttl-s`` first (the suite's
``tabular.feature_ttl_s``), and serves Prometheus metrics on ``A:P`` (its health check): the
last materialised event time per region, so a frozen materializer shows as a growing age.
"""

from __future__ import annotations

import os

os.environ.setdefault("FEAST_USAGE", "False")  # before Feast is imported: never phone home

import argparse
import contextlib
import io
import signal
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from targets.tabular.featurestore.build import CARD_SEED
from targets.tabular.featurestore.cards import make_cards, next_tick
from targets.tabular.featurestore.parts import write_part
from targets.tabular.featurestore.repo import FeatureRepo

__all__ = ["main"]

#: Tick parts kept in the offline source: older ones are already online, and the folder
#: must not grow for as long as a platform stays up.
KEEP_PARTS = 20


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    # dask (under Feast's file offline store) warns about a pandas deprecation on every tick
    warnings.filterwarnings("ignore", category=FutureWarning, module="dask")
    from feast import FeatureStore

    from targets.tabular.featurestore.definitions import definitions

    repo = FeatureRepo(args.repo)
    registry = CollectorRegistry()
    last = Gauge("feature_materialized_event_timestamp_seconds", "Event time of the newest "
                 "rows materialised into this region's online store.", registry=registry)
    ticks = Counter("feature_materializations", "materialize_incremental runs by outcome.",
                    ["outcome"], registry=registry)
    seconds = Histogram("feature_materialization_seconds", "Time of one tick (write the part, "
                        "materialise it).", registry=registry,
                        buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32))
    store = FeatureStore(repo_path=str(repo.root))
    with contextlib.redirect_stdout(io.StringIO()):
        store.apply(definitions(repo.source_dir, args.ttl_s))
    start_http_server(args.port, addr=args.address, registry=registry)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    cards, rng = make_cards(CARD_SEED), np.random.default_rng(args.seed)
    while not stop.is_set():
        started_s = time.monotonic()
        now = datetime.now(UTC)
        try:
            write_part(repo.source_dir, f"tick-{now:%Y%m%dT%H%M%S%f}", next_tick(cards, rng), now)
            with contextlib.redirect_stdout(io.StringIO()):
                store.materialize_incremental(end_date=datetime.now(UTC))
            repo.publish_registry()  # the server's copy: the view AVAILABLE_ONLINE again
            _prune(repo.source_dir)
        except Exception as exc:  # a failed tick is counted and retried at the next one
            ticks.labels("failed").inc()
            print(f"materializer: tick failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        else:
            ticks.labels("ok").inc()
            last.set(now.timestamp())
        seconds.observe(time.monotonic() - started_s)
        stop.wait(max(0.0, args.interval_s - (time.monotonic() - started_s)))
    return 0


def _prune(source_dir: Path) -> None:
    parts = sorted(source_dir.glob("tick-*.parquet"))
    for old in parts[:-KEEP_PARTS]:
        old.unlink(missing_ok=True)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True, help="the region's Feast repo")
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interval-s", type=float, default=10.0)
    parser.add_argument("--ttl-s", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0, help="seed of the ticks' redraws")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
