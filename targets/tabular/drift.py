"""Input drift: each feature's training distribution, and how far recent inputs are from it.

Per feature the service reports the PSI against the training bins (stable < 0.1 <= warn <
0.25 <= alert) and a drift test against a reference sample of the training rows, chosen as
Evidently's defaults choose it (``targets.tabular.stattests``); the dataset drifts when half
of the features or more do. A profile saved before it carried a reference sample gets PSI only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np

from targets.tabular.features import FEATURE_NAMES
from targets.tabular.stattests import FeatureKind, Method, dataset_drift, feature_test

__all__ = [
    "MIN_PSI_INPUTS",
    "PSI_ALERT",
    "PSI_WARN",
    "REFERENCE_ROWS",
    "DriftReport",
    "DriftWindow",
    "FeatureBins",
    "FeatureDrift",
    "TrainingProfile",
    "population_stability_index",
    "psi_level",
]

# A feature with at most this many distinct values gets one bin per value (hour, foreign,
# tx_last_24h); quantile edges would merge them. The same features are categorical to the
# drift test: KS assumes no ties, and on a couple of dozen values its p-values run high.
_MAX_DISCRETE_VALUES = 32
_QUANTILE_BINS = 10
# Floor for an empty bin's share so the PSI stays finite (a common choice in credit scoring).
_EMPTY_BIN_SHARE = 1e-4
#: Fewer inputs than this give no PSI and no test at all: identical distributions still score
#: about (bins - 1) / n by sampling noise alone, 0.12 for the 24 hour bins at 200 inputs.
MIN_PSI_INPUTS = 200
PSI_WARN = 0.1
PSI_ALERT = 0.25
#: Training rows kept in the profile for the drift test (seeded draw, without replacement).
REFERENCE_ROWS = 5000
PsiLevel = Literal["stable", "warn", "alert"]


@dataclass(frozen=True)
class FeatureBins:
    """One feature's bins: inner edges (bin i is edges[i-1] <= x < edges[i]) and training shares."""

    name: str
    edges: tuple[float, ...]
    proportions: tuple[float, ...]
    kind: FeatureKind = "numerical"

    def shares(self, values: np.ndarray) -> np.ndarray:
        """Share of values falling in each bin, same binning as training."""
        counts = np.bincount(
            np.searchsorted(self.edges, values, side="right"), minlength=len(self.proportions)
        )
        return counts / max(len(values), 1)


@dataclass(frozen=True)
class TrainingProfile:
    """The training distribution of every feature, saved with the model it trained: bins for
    the PSI and, per feature, a column of the reference sample (empty: an older profile)."""

    features: tuple[FeatureBins, ...]
    reference: tuple[tuple[float, ...], ...] = ()

    @classmethod
    def from_matrix(
        cls, matrix: np.ndarray, names: Sequence[str] = FEATURE_NAMES, *,
        reference_rows: int = REFERENCE_ROWS, seed: int = 0,
    ) -> TrainingProfile:
        picked = np.random.default_rng(seed).choice(
            len(matrix), size=min(reference_rows, len(matrix)), replace=False)
        sample = matrix[np.sort(picked)]
        return cls(tuple(_bins_for(name, matrix[:, i]) for i, name in enumerate(names)),
                   tuple(tuple(float(v) for v in sample[:, i]) for i in range(len(names))))

    @cached_property
    def reference_columns(self) -> tuple[np.ndarray, ...]:
        return tuple(np.asarray(column, dtype=np.float64) for column in self.reference)

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"features": [
            {"name": f.name, "kind": f.kind, "edges": list(f.edges),
             "proportions": list(f.proportions)} for f in self.features]}
        if self.reference:
            document["reference"] = {f.name: list(column)
                                     for f, column in zip(self.features, self.reference,
                                                          strict=True)}
        return document

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingProfile:
        features = tuple(
            FeatureBins(
                name=str(f["name"]),
                edges=tuple(float(e) for e in f["edges"]),
                proportions=tuple(float(p) for p in f["proportions"]),
                kind="categorical" if f.get("kind") == "categorical" else "numerical",
            )
            for f in data["features"]
        )
        columns = data.get("reference") or {}
        reference = tuple(tuple(float(v) for v in columns[f.name]) for f in features) \
            if columns else ()
        return cls(features, reference)


def _bins_for(name: str, values: np.ndarray) -> FeatureBins:
    distinct = np.unique(values)
    discrete = len(distinct) <= _MAX_DISCRETE_VALUES
    if discrete:
        edges = (distinct[:-1] + distinct[1:]) / 2.0
    else:
        quantiles = np.linspace(0.0, 1.0, _QUANTILE_BINS + 1)[1:-1]
        edges = np.unique(np.quantile(values, quantiles))
    provisional = FeatureBins(name, tuple(float(e) for e in edges), (0.0,) * (len(edges) + 1))
    return FeatureBins(name, provisional.edges,
                       tuple(float(s) for s in provisional.shares(values)),
                       "categorical" if discrete else "numerical")


def population_stability_index(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI = sum((actual - expected) * ln(actual / expected)); < 0.1 stable, > 0.25 shifted."""
    expected = np.clip(expected, _EMPTY_BIN_SHARE, None)
    actual = np.clip(actual, _EMPTY_BIN_SHARE, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def psi_level(psi: float) -> PsiLevel:
    return "alert" if psi >= PSI_ALERT else "warn" if psi >= PSI_WARN else "stable"


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    """One feature of the window: its PSI and its drift test (method None: no reference)."""

    name: str
    kind: FeatureKind
    psi: float
    psi_level: PsiLevel
    method: Method | None
    statistic: float | None
    p_value: float | None  # KS and chi-squared; None for a distance
    threshold: float | None  # what the p-value (below) or the distance (at or above) met
    drifted: bool | None


@dataclass(frozen=True, slots=True)
class DriftReport:
    """The window against the training profile; ``dataset_drift`` None: not judged (too few
    inputs yet, or a profile without a reference sample)."""

    window_rows: int
    window_size: int
    inputs_total: int  # inputs recorded since the service started
    reference_rows: int
    features: tuple[FeatureDrift, ...]
    drifted_features: int
    dataset_drift: bool | None

    @property
    def drift_share(self) -> float | None:
        tested = [f for f in self.features if f.drifted is not None]
        return self.drifted_features / len(tested) if tested else None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "drift_share": self.drift_share}


class DriftWindow:
    """The last `size` inputs in a ring buffer; PSI and tests are computed only when asked, and
    once per new input at most (a scrape and a watch asking twice get one computation).

    Not locked: the service records and reads it from the event loop thread only.
    """

    def __init__(self, size: int, n_features: int = len(FEATURE_NAMES)) -> None:
        if size < 1:
            raise ValueError(f"drift window size must be >= 1, got {size}")
        self._rows = np.zeros((size, n_features), dtype=np.float64)
        self._next = 0
        self._count = 0
        self._total = 0
        self._last: tuple[int, int, DriftReport] | None = None

    @property
    def count(self) -> int:
        """Inputs currently in the window (at most its size)."""
        return self._count

    @property
    def size(self) -> int:
        return len(self._rows)

    def record(self, row: Sequence[float]) -> None:
        self._rows[self._next] = row
        self._next = (self._next + 1) % len(self._rows)
        self._count = min(self._count + 1, len(self._rows))
        self._total += 1

    def _judged(self) -> bool:
        return self._count >= min(MIN_PSI_INPUTS, len(self._rows))

    def psi(self, profile: TrainingProfile) -> dict[str, float]:
        """PSI of the window against the profile, per feature; empty until the window holds
        MIN_PSI_INPUTS inputs (or is full, if it is smaller than that)."""
        return {f.name: f.psi for f in self.report(profile).features}

    def report(self, profile: TrainingProfile) -> DriftReport:
        if self._last is not None and self._last[:2] == (self._total, id(profile)):
            return self._last[2]
        features = self._features(profile) if self._judged() else ()
        tested = [f for f in features if f.drifted is not None]
        drifted = sum(1 for f in tested if f.drifted)
        report = DriftReport(
            window_rows=self._count, window_size=len(self._rows), inputs_total=self._total,
            reference_rows=len(profile.reference[0]) if profile.reference else 0,
            features=features, drifted_features=drifted,
            dataset_drift=dataset_drift(drifted, len(tested)) if tested else None)
        self._last = (self._total, id(profile), report)
        return report

    def _features(self, profile: TrainingProfile) -> tuple[FeatureDrift, ...]:
        recent = self._rows[: self._count]
        columns = profile.reference_columns
        judged = []
        for i, bins in enumerate(profile.features):
            psi = population_stability_index(np.asarray(bins.proportions),
                                             bins.shares(recent[:, i]))
            test = feature_test(columns[i], recent[:, i], bins.kind) if columns else None
            judged.append(FeatureDrift(
                name=bins.name, kind=bins.kind, psi=psi, psi_level=psi_level(psi),
                method=None if test is None else test.method,
                statistic=None if test is None else test.statistic,
                p_value=None if test is None else test.p_value,
                threshold=None if test is None else test.threshold,
                drifted=None if test is None else test.drifted))
        return tuple(judged)
