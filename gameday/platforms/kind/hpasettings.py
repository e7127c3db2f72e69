"""A suite's autoscaling entry on the real HPA (``KindHpaSettings``, part of ``KindFaults``):
for the run, the HPA that scales the component is patched with the entry's bounds, cpu target
and behaviour, read back, and put back as it was by ``restore_hpa``.

What it was is kept in the home (``hpa-before.json``) before the patch, so a harness killed
before its restore leaves it there: the next run's ``set_hpa`` keeps that, not the patched
spec, as what to put back. Not a fault: nothing of it is undone between scenarios.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gameday.errors import PlatformError
from gameday.platforms.base import check_region
from gameday.platforms.kind.env import KindEnv
from gameday.platforms.kind.kube import KubeApi

__all__ = ["HPA_FIELDS", "KindHpaSettings", "hpa_patch"]

HPA_FIELDS = ("minReplicas", "maxReplicas", "metrics", "behavior")  # what a suite sets
_BEFORE_FILE = "hpa-before.json"


def hpa_patch(current: dict[str, Any], wanted: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON Patch from ``current`` to ``wanted`` over ``HPA_FIELDS``: a field is added
    (set) where wanted, removed where only the current spec has it."""
    return [{"op": "add", "path": f"/spec/{name}", "value": wanted[name]} if name in wanted
            else {"op": "remove", "path": f"/spec/{name}"}
            for name in HPA_FIELDS if name in wanted or name in current]


def _fields(spec: dict[str, Any]) -> dict[str, Any]:
    return {name: spec[name] for name in HPA_FIELDS if spec.get(name) is not None}


def _describe(spec: dict[str, Any]) -> str:
    targets = [m["resource"]["target"].get("averageUtilization")
               for m in spec.get("metrics") or [] if m.get("type") == "Resource"
               and m["resource"].get("name") == "cpu"]
    cpu = f", cpu {targets[0]} %" if targets and targets[0] is not None else ""
    return f"min {spec.get('minReplicas', 1)} max {spec.get('maxReplicas')}{cpu}"


class KindHpaSettings:
    env: KindEnv

    @property
    def _before_path(self) -> Path:
        return self.env.home / _BEFORE_FILE

    def _befores(self) -> dict[str, dict[str, Any]]:
        if not self._before_path.exists():
            return {}
        try:
            return dict(json.loads(self._before_path.read_text()))
        except (OSError, ValueError) as exc:
            raise PlatformError(f"{self._before_path}: unreadable ({exc}); the HPAs it names "
                                "must be put back by hand (or `gameday up` again)") from None

    def _keep(self, befores: dict[str, dict[str, Any]]) -> None:
        self.env.home.mkdir(parents=True, exist_ok=True)
        temporary = self._before_path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(befores, indent=2, sort_keys=True) + "\n")
        temporary.replace(self._before_path)

    def _hpa_of(self, kube: KubeApi, stack: str, component: str, region: str) -> str:
        targets = {w.name for w in kube.workloads() if (w.stack, w.component) == (stack,
                                                                                 component)}
        names = [h.name for h in kube.hpas() if h.target in targets]
        if len(names) != 1:
            raise PlatformError(f"{region}: {len(names)} HorizontalPodAutoscalers scale "
                                f"{stack}.{component} (its manifests give it one)")
        return names[0]

    def set_hpa(self, stack: str, component: str, region: str,
                spec: dict[str, Any]) -> str:
        """Patch the region's HPA of the component with ``spec`` (``HPA_FIELDS``) and read it
        back; PlatformError if the cluster did not take it."""
        check_region(region)
        kube = self.env.kube(region)
        name = self._hpa_of(kube, stack, component, region)
        current = kube.hpa_spec(name)
        befores = self._befores()
        key = f"{region}/{name}"
        first = key not in befores
        before = befores.setdefault(key, _fields(current))
        self._keep(befores)  # first: a harness killed after the patch still puts it back
        try:
            kube.patch_hpa(name, hpa_patch(current, spec))
        except PlatformError:
            if first:  # refused: nothing changed, nothing to put back
                del befores[key]
                self._keep(befores)
            raise
        taken = _fields(kube.hpa_spec(name))
        if any(taken.get(field) != value for field, value in spec.items()):
            raise PlatformError(f"{region}: HPA {name} patched with {_describe(spec)} reads "
                                f"back {_describe(taken)}")
        return f"{region} HPA {name}: {_describe(spec)} (was {_describe(before)})"

    def restore_hpa(self, stack: str, component: str, region: str) -> str | None:
        """Put the region's HPA of the component back as it was before ``set_hpa``; None if
        it was never set."""
        check_region(region)
        kube = self.env.kube(region)
        name = self._hpa_of(kube, stack, component, region)
        befores = self._befores()
        before = befores.get(f"{region}/{name}")
        if before is None:
            return None
        kube.patch_hpa(name, hpa_patch(kube.hpa_spec(name), before))
        del befores[f"{region}/{name}"]
        self._keep(befores)
        return f"{region} HPA {name}: back to {_describe(before)}"
