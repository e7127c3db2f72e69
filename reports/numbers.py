"""How figures are written in the human-readable reports (HTML page, Markdown summary)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gameday.measure import SloResult

__all__ = ["ms", "objective", "pct", "rate", "seconds", "sentence", "slo_objective"]


def objective(kind: str, value: float) -> str:
    """An SLO's objective or measured value in the unit of its kind."""
    if kind in ("availability", "degraded_share", "waf", "openslo"):
        return pct(value)
    if kind == "quality":
        return f"{value:.3f}"
    if kind == "cost":
        return f"{value:.4g} per 1k"
    return ms(value) if kind in ("latency", "ttft") else seconds(value)


def slo_objective(result: SloResult, relation: str = "") -> str:
    """What an SLO asks for; ``relation`` (≥, ≤) is put before a plain objective."""
    if result.kind == "rpo":
        max_lost = result.parts.get("max_lost") or 0
        return f"≤ {max_lost:g} lost, ≤ {seconds(result.objective)}"
    if result.kind == "split_brain":
        return "no two writable nodes"
    plain = objective(result.kind, result.objective)
    return f"{relation} {plain}" if relation else plain


def seconds(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f} s"


def ms(value_s: float | None) -> str:
    return "—" if value_s is None else f"{value_s * 1000:.1f} ms"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.3%}"


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} /s"


def sentence(text: str) -> str:
    """A clause (as a reason reads) made the start of a sentence."""
    return text[:1].upper() + text[1:]
