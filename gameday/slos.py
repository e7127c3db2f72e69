"""What a suite's SLOs say: one model per kind, told apart by ``kind``. Judged by
``gameday.measure.slo``; the RAG kinds are defined in ``gameday.measure.rag``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from gameday.openslo import OpenSlo
from gameday.strict import Strict as _Strict

__all__ = [
    "ATTACK_CLASSES",
    "DATABASE_SLOS",
    "RAG_SLOS",
    "AttackClass",
    "AvailabilitySlo",
    "CostSlo",
    "DegradedShareSlo",
    "LatencySlo",
    "OpenSlo",
    "QualitySlo",
    "RpoSlo",
    "RtoSlo",
    "Scope",
    "Slo",
    "SplitBrainSlo",
    "TtftSlo",
    "WafSlo",
    "WriteRtoSlo",
]

Scope = Literal["all", "outside_faults", "during_faults"]


class AvailabilitySlo(_Strict):
    kind: Literal["availability"]
    name: str = ""
    objective: float = Field(gt=0, le=1)
    scope: Scope = "outside_faults"


class LatencySlo(_Strict):
    kind: Literal["latency"]
    name: str = ""
    percentile: float = Field(99, gt=0, lt=100)
    threshold_s: float = Field(gt=0)
    scope: Scope = "outside_faults"


class RtoSlo(_Strict):
    kind: Literal["rto"]
    name: str = ""
    threshold_s: float = Field(gt=0)


class RpoSlo(_Strict):
    """Acknowledged writes lost by a database fault: at most ``max_lost`` of them, and the
    oldest no more than ``max_seconds`` before the fault started."""

    kind: Literal["rpo"]
    name: str = ""
    max_lost: int = Field(0, ge=0)
    max_seconds: float = Field(0.0, ge=0)


class WriteRtoSlo(_Strict):
    """From the fault start to the first write the new primary acknowledged."""

    kind: Literal["write_rto"]
    name: str = ""
    threshold_s: float = Field(gt=0)


class SplitBrainSlo(_Strict):
    """Two nodes accepting writes at the same instant: never (the objective is zero)."""

    kind: Literal["split_brain"]
    name: str = ""


class TtftSlo(_Strict):
    """Time to first token of the RAG stack's answers, from the scheduled send; an answer
    that never got a token counts as slower than any threshold."""

    kind: Literal["ttft"]
    name: str = ""
    stack: str = "rag"
    percentile: float = Field(99, gt=0, lt=100)
    threshold_s: float = Field(gt=0)
    scope: Scope = "outside_faults"


class QualitySlo(_Strict):
    """The mean answer quality of the labelled questions answered in the scope."""

    kind: Literal["quality"]
    name: str = ""
    stack: str = "rag"
    metric: Literal["recall", "exact_match", "f1"] = "recall"
    objective: float = Field(gt=0, le=1)
    scope: Scope = "all"


class DegradedShareSlo(_Strict):
    """Good answers served from a fallback, as a share of good answers: at most ``max_share``."""

    kind: Literal["degraded_share"]
    name: str = ""
    stack: str = "rag"
    max_share: float = Field(ge=0, le=1)
    scope: Scope = "outside_faults"


class CostSlo(_Strict):
    """What a stack costs per 1,000 successful requests (``gameday.measure.cost``), in the
    price table's currency, in one region or over all its regions; ``include_standby``: a
    region that served nothing counts its cost too (over all regions only)."""

    kind: Literal["cost"]
    name: str = ""
    stack: str
    region: Literal["region-a", "region-b", "all"] = "all"
    max_per_1k: float = Field(gt=0)
    scope: Scope = "outside_faults"
    include_standby: bool = True


# the labelled set's attack classes (gameday.load.labelled.ATTACK_LABELS; a test keeps the two
# the same: this layer may not import the load's)
AttackClass = Literal["all", "sqli", "xss", "traversal", "oversized", "prompt-injection"]
ATTACK_CLASSES = ("sqli", "xss", "traversal", "oversized", "prompt-injection")


class WafSlo(_Strict):
    """The edge WAF on the labelled requests (a load with ``endpoint: attack``;
    ``gameday.measure.waf``): of ``attack_class`` (all: every attack class together), at least
    ``min_blocked_rate`` blocked at the edge (``count: stopped``: at the edge or by the
    service's own guard, e.g. the RAG stack's prompt-injection guard), and at most
    ``max_false_positive_rate`` of the benign requests blocked. In detection-only mode the
    WAF's log says what it would have blocked."""

    kind: Literal["waf"]
    name: str = ""
    attack_class: AttackClass = "all"
    count: Literal["blocked", "stopped"] = "blocked"
    min_blocked_rate: float = Field(1.0, ge=0, le=1)
    max_false_positive_rate: float = Field(0.0, ge=0, le=1)


Slo = Annotated[AvailabilitySlo | LatencySlo | RtoSlo | RpoSlo | WriteRtoSlo | SplitBrainSlo
                | TtftSlo | QualitySlo | DegradedShareSlo | CostSlo | WafSlo | OpenSlo,
                Field(discriminator="kind")]
DATABASE_SLOS = ("rpo", "write_rto", "split_brain")
RAG_SLOS = ("ttft", "quality", "degraded_share")


