"""One real Triton server for this package (the model loads in seconds; the tests share it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.targets.triton.triton_testing import TritonServer, triton_server


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    with triton_server(tmp_path_factory.mktemp("triton")) as running:
        yield running
