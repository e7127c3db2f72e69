"""The input-drift watch's samples (see ``gameday.records`` for the rest of the run folder)::

    drift.jsonl    one DriftSample per line: a model server's own comparison of its recent
                   inputs with its training data (its ``/drift``: per feature the PSI and the
                   drift test, and whether the dataset drifts), about every half second per
                   server; ``status`` 0 when it did not answer

Times are UNIX epoch seconds, taken when the watch asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gameday.jsonl import append_jsonl, read_jsonl

__all__ = ["DRIFT_FILE", "DriftSample", "FeatureSample", "append_drift_samples",
           "read_drift_samples"]

DRIFT_FILE = "drift.jsonl"


@dataclass(frozen=True, slots=True)
class FeatureSample:
    """One feature as the server judged it; ``method`` None: PSI only (no reference sample)."""

    name: str
    psi: float
    method: str | None  # ks | chi2 | wasserstein | jensenshannon
    statistic: float | None
    p_value: float | None  # the tests' (ks, chi2); None for a distance
    threshold: float | None
    drifted: bool | None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FeatureSample:
        return cls(name=str(raw["name"]), psi=float(raw["psi"]),
                   method=None if raw.get("method") is None else str(raw["method"]),
                   statistic=_number(raw.get("statistic")), p_value=_number(raw.get("p_value")),
                   threshold=_number(raw.get("threshold")),
                   drifted=None if raw.get("drifted") is None else bool(raw["drifted"]))


@dataclass(frozen=True, slots=True)
class DriftSample:
    t_s: float  # asked
    member: str
    region: str
    stack: str
    status: int  # 200; 0: no answer
    window_rows: int = 0  # inputs the comparison covered
    inputs_total: int = 0  # inputs the server recorded since it started
    dataset_drift: bool | None = None  # None: not judged (too few inputs, or no answer)
    drifted_features: int = 0
    features: tuple[FeatureSample, ...] = ()

    def max_psi(self) -> float | None:
        return max((f.psi for f in self.features), default=None)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DriftSample:
        return cls(t_s=float(raw["t_s"]), member=str(raw["member"]), region=str(raw["region"]),
                   stack=str(raw["stack"]), status=int(raw["status"]),
                   window_rows=int(raw.get("window_rows", 0)),
                   inputs_total=int(raw.get("inputs_total", 0)),
                   dataset_drift=None if raw.get("dataset_drift") is None
                   else bool(raw["dataset_drift"]),
                   drifted_features=int(raw.get("drifted_features", 0)),
                   features=tuple(FeatureSample.from_json(f) for f in raw.get("features", ())))


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def append_drift_samples(run_dir: Path, samples: Iterable[DriftSample]) -> None:
    append_jsonl(run_dir / DRIFT_FILE, (asdict(s) for s in samples))


def read_drift_samples(run_dir: Path) -> list[DriftSample]:
    """The run's drift samples by time asked; absent file: none (a torn last line skipped)."""
    samples = read_jsonl(run_dir / DRIFT_FILE, DriftSample.from_json, "a drift sample")
    return sorted(samples, key=lambda s: s.t_s)
