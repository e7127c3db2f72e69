"""Rendering the kind platform's kustomize overlays offline for the tests: which renders there
are (every clusters/manifests/<stack>/overlays/<region>, alone and with each of its stack's
Components) and what `kubectl kustomize` makes of each."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from gameday.platforms.kind import layout

__all__ = ["MANIFESTS", "WORKLOAD_KINDS", "Render", "Renderer", "binary", "pod_templates",
           "renders", "selects"]

MANIFESTS = layout.CLUSTERS_DIR / "manifests"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet"}


@dataclass(frozen=True)
class Render:
    """One overlay, possibly with one of its stack's kustomize Components added."""

    stack: str
    region: str
    overlay: Path
    component: Path | None = None

    @property
    def id(self) -> str:
        suffix = f"+{self.component.name}" if self.component else ""
        return f"{self.stack}-{self.region}{suffix}"


def _is_kustomization(folder: Path, kind: str) -> bool:
    path = folder / "kustomization.yaml"
    return path.is_file() and (yaml.safe_load(path.read_text()) or {}).get(
        "kind", "Kustomization") == kind


def renders() -> list[Render]:
    """Every overlay there is now (a stack another change adds is covered once it exists)."""
    found = []
    for overlay in sorted(MANIFESTS.glob("*/overlays/*")):
        if not _is_kustomization(overlay, "Kustomization"):
            continue
        stack = overlay.parents[1].name
        components = sorted(folder for folder in (MANIFESTS / stack).glob("components/*")
                            if _is_kustomization(folder, "Component"))
        found.append(Render(stack, overlay.name, overlay))
        found += [Render(stack, overlay.name, overlay, component) for component in components]
    return found


def binary(name: str) -> str:
    """A tool on PATH or in this Python's venv; the test skips when it is not installed."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed (the dev extras and kubectl check the manifests)")
    return found


class Renderer:
    """Renders each Render once. A Component is added to a copy of the overlay's own
    kustomization, so it gets the overlay's namespace and labels as it would in use, and the
    checkout is never written."""

    def __init__(self, scratch: Path) -> None:
        self._scratch = scratch
        self._texts: dict[Render, str] = {}

    def text(self, render: Render) -> str:
        if render not in self._texts:
            self._texts[render] = self._kustomize(self._folder(render))
        return self._texts[render]

    def objects(self, render: Render) -> list[dict[str, Any]]:
        return [doc for doc in yaml.safe_load_all(self.text(render)) if doc]

    def _folder(self, render: Render) -> Path:
        if render.component is None:
            return render.overlay
        copy = self._scratch / "manifests"
        if not copy.exists():
            shutil.copytree(MANIFESTS, copy)
        folder = copy / render.stack / "overlays" / f"{render.region}+{render.component.name}"
        shutil.copytree(copy / render.stack / "overlays" / render.region, folder)
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        kustomization.setdefault("components", []).append(
            f"../../components/{render.component.name}")
        (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        return folder

    @staticmethod
    def _kustomize(folder: Path) -> str:
        done = subprocess.run([binary("kubectl"), "kustomize", str(folder)],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"kubectl kustomize {folder} failed:\n{done.stderr}"
        return done.stdout


def pod_templates(objects: list[dict[str, Any]]
                  ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(workload, its pod template) for every workload kind."""
    for obj in objects:
        if obj["kind"] in WORKLOAD_KINDS:
            yield obj, obj["spec"]["template"]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector's matchLabels and matchExpressions against a set of labels; an empty
    selector is taken as selecting nothing (a PDB that guards nothing in particular)."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        held = {"In": key in labels and labels[key] in values,
                "NotIn": labels.get(key) not in values,
                "Exists": key in labels, "DoesNotExist": key not in labels}[operator]
        if not held:
            return False
    return bool(selector)
