"""How figures are written in the human-readable reports (HTML page, Markdown summary)."""

from __future__ import annotations

__all__ = ["ms", "objective", "pct", "rate", "seconds", "sentence"]


def objective(kind: str, value: float) -> str:
    """An SLO's objective or measured value in the unit of its kind."""
    return pct(value) if kind == "availability" else (
        ms(value) if kind == "latency" else seconds(value))


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
