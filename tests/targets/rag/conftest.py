"""Fixtures for the rag stack: one real embedding server per session, and for this package
one real PostgreSQL pair and one real RAG replica seeded with the base corpus (started once:
the modules share them, and no test needs a fresh store)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pgcluster import Clusters, PgCluster
from tests.targets.rag.rag_testing import EMBEDDER_PORT, RagProcess, rag_replica

SEEDED_DOCUMENTS = 400  # from the vectors make setup embedded: seconds


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
