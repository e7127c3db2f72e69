"""Fixtures for the rag stack: one real embedding server per session, and for this package
one real PostgreSQL pair and one real RAG replica seeded with the base corpus (started once:
the modules share them, and no test needs a fresh store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgcluster import Clusters, PgCluster
from tests.targets.rag.rag_testing import EMBEDDER_PORT, RagProcess, rag_replica

SEEDED_DOCUMENTS = 400  # from the vectors make setup embedded: seconds


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The package shares one store: a test that breaks it (``damages_store``) runs after
    the package's other tests, still inside the package (its fixtures stay up)."""
    here = Path(__file__).parent
    ours = [index for index, item in enumerate(items) if here in item.path.parents]
    damaging = [items[index] for index in ours if items[index].get_closest_marker(
        "damages_store")]
    others = [index for index in ours if items[index] not in damaging]
    if not damaging or not others:
        return
    last = max(others)
    rest = [item for item in items if item not in damaging]
    at = rest.index(items[last]) + 1
    items[:] = [*rest[:at], *damaging, *rest[at:]]


@pytest.fixture(scope="session")
def embedder() -> Iterator[str]:
    with RagProcess("embedder", EMBEDDER_PORT, {"EMBEDDER_THREADS": "1"}) as process:
        yield process.url


@pytest.fixture(scope="package")
def clusters() -> Iterator[Clusters]:
    with Clusters() as held:
        yield held


@pytest.fixture(scope="package")
def cluster(clusters: Clusters) -> PgCluster:
    return clusters.intact()


@pytest.fixture(scope="package")
def replica(cluster: PgCluster, embedder: str) -> Iterator[str]:
    """A replica reading from the standby, seeded with the first base documents; the cache on
    and tokens streamed without a pause."""
    with rag_replica(cluster, embedder, seed_documents=SEEDED_DOCUMENTS,
                     token_delay_s=0) as process:
        yield process.url
