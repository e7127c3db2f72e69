"""Stack definitions (gameday.stacks): the shipped ones load, and a reference that does not
resolve is refused with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gameday.errors import ConfigError
from gameday.stacks import TARGETS_DIR, load_stack


@pytest.mark.parametrize("name", sorted(p.parent.name for p in TARGETS_DIR.glob("*/stack.yaml")))
def test_every_shipped_stack_loads(name: str) -> None:
    assert load_stack(name).name == name


def test_the_triton_stack_declares_its_model_repository() -> None:
    repository = load_stack("triton").model_repository
    assert repository is not None
    assert (repository.component, repository.model, repository.port) == ("server", "fraud",
                                                                         "http")


@pytest.mark.parametrize(("override", "expected"), [
    ({"component": "nope"}, "unknown component 'nope'"),
    ({"port": "grcp"}, "'grcp' is not a port of server"),
    ({"modle": "fraud"}, "modle"),
])
def test_a_model_repository_that_does_not_resolve_is_refused(
        tmp_path: Path, override: dict[str, str], expected: str) -> None:
    document = yaml.safe_load((TARGETS_DIR / "triton" / "stack.yaml").read_text())
    document["model_repository"] = {**document["model_repository"], **override}
    folder = tmp_path / "triton"
    folder.mkdir()
    (folder / "stack.yaml").write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=expected) as caught:
        load_stack("triton", search=(tmp_path,))
    assert "model_repository" in str(caught.value)
