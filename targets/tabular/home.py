"""Where the fraud model registry lives under a model home; shared by training and serving."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ALIAS_VERSIONS",
    "CHAMPION_URI",
    "MODEL_NAME",
    "PROFILE_FILE",
    "ModelHome",
]

MODEL_NAME = "fraud"
CHAMPION_URI = f"models:/{MODEL_NAME}@champion"
#: The aliases training sets, and the registry version each points at: the two genuine
#: versions, then the bad releases (targets.tabular.candidates.BAD_RELEASES).
ALIAS_VERSIONS: dict[str, int] = {"champion": 1, "challenger": 2, "bad-slow": 3,
                                  "bad-errors": 4, "bad-silent": 5}
#: File in each model directory holding its TrainingProfile (the drift gauge's reference).
PROFILE_FILE = "training_profile.json"


@dataclass(frozen=True)
class ModelHome:
    """A model home (`artifacts/` by default): the SQLite registry, its artifacts, loose models."""

    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / "mlflow" / "mlflow.db"

    @property
    def tracking_uri(self) -> str:
        """Tracking and registry URI; sqlite:/// plus an absolute path gives four slashes."""
        return f"sqlite:///{self.db_path.resolve()}"

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "mlflow" / "artifacts"

    @property
    def dataset_path(self) -> Path:
        """The generated transactions training reads (``targets.tabular.data.write_dataset``)."""
        return self.root / "data" / "transactions.parquet"

    @property
    def shadow_set_path(self) -> Path:
        """Held-out labelled transactions (JSON lines: the transaction and ``fraud``): what a
        release's shadow analysis scores to catch a silent accuracy drop."""
        return self.root / "models" / "shadow-set.jsonl"

    @property
    def incompatible_model_dir(self) -> Path:
        """A model whose input signature does not match: what the model-broken fault hot-loads."""
        return self.root / "models" / "fraud-incompatible"
