"""Measure a stack's answer quality: `gameday eval rag` asks the labelled base questions once
per retrieval variant and prints recall@k, MRR, exact match and F1 with confidence intervals.

The service is the running rag stack's edge URL (`gameday up`), or `--url` (loopback only).
Exit 0 when every question was answered, 1 when some ask failed (counted in `errors`), 2 when
the input was bad or the service could not be asked. `--json FILE` writes the same figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from gameday.cli.console import out, progress
from gameday.cli.options import HomeOption, PlatformOption, resolve_platform, write_output
from gameday.config import is_loopback_url
from gameday.errors import ConfigError, GamedayError
from gameday.measure.quality import Estimate
from gameday.rageval import DEFAULT_DOCUMENTS, Evaluation, default_questions, evaluate

NAME = "eval"

_STACKS = ("rag",)


def command(
    stack: str = typer.Argument(..., help=f"the stack to evaluate: {', '.join(_STACKS)}"),
    url: str | None = typer.Option(None, "--url", show_default=False,
                                   help="the service's base URL, on loopback (default: the "
                                        "running rag stack's edge URL)"),
    k: int = typer.Option(5, "--k", min=1, max=50, help="sources asked for and judged"),
    questions: int | None = typer.Option(
        None, "--questions", min=1, show_default=False,
        help=f"ask only the first N labelled questions (default: all of the first "
             f"{DEFAULT_DOCUMENTS} base documents')"),
    confidence: float = typer.Option(0.95, "--confidence", help="of each interval"),
    json_path: Path | None = typer.Option(None, "--json", show_default=False,
                                          help="also write the figures to this file"),
    platform: PlatformOption = None,
    home: HomeOption = None,
) -> int:
    if stack not in _STACKS:
        raise ConfigError(f"unknown stack {stack!r}; expected one of {', '.join(_STACKS)}",
                          source="STACK")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"must be between 0 and 1 (exclusive), got {confidence}",
                          source="--confidence")
    target = url if url is not None else _edge_url(platform, home)
    if not is_loopback_url(target):
        raise ConfigError(f"only loopback URLs are asked (127.0.0.0/8, ::1 or localhost, "
                          f"http or https), got {target!r}", source="--url")
    asked = default_questions(limit=questions)
    progress(f"asking {len(asked)} questions per variant at {target}")
    evaluation = evaluate(target, asked, k=k, confidence=confidence)
    _print(evaluation)
    if json_path is not None:
        _write(json_path, evaluation)
    return 1 if any(figures.errors for figures in evaluation.variants) else 0


def _edge_url(platform: str | None, home: Path | None) -> str:
    opened = resolve_platform(platform, home).open()
    try:
        return opened.edge_url("rag")
    except GamedayError as exc:
        raise GamedayError(f"{str(exc).rstrip('.')}; or pass --url") from None


def _write(path: Path, evaluation: Evaluation) -> None:
    write_output(path, json.dumps(evaluation.as_dict(), indent=2) + "\n", "--json")
    out.print(f"figures: {escape(str(path))}", highlight=False)


def _print(evaluation: Evaluation) -> None:
    level = f"{evaluation.confidence:.0%}"
    table = Table("variant", "n", f"recall@{evaluation.k} [{level}]", f"MRR [{level}]",
                  f"EM [{level}]", f"F1 [{level}]", "errors", "degraded", "cache hits",
                  title=f"{evaluation.questions} labelled questions at "
                        f"{escape(evaluation.url)}")
    for figures in evaluation.variants:
        table.add_row(figures.variant, str(figures.n), _estimate(figures.recall),
                      _estimate(figures.mrr), _estimate(figures.exact_match),
                      _estimate(figures.f1), _counts(figures.errors),
                      _counts(figures.degraded), _share(figures.cache_hits, figures.n))
    for difference in evaluation.differences:
        table.add_row(f"{difference.variant} − {difference.baseline}", str(difference.n),
                      _estimate(difference.recall, signed=True),
                      _estimate(difference.mrr, signed=True),
                      _estimate(difference.exact_match, signed=True),
                      _estimate(difference.f1, signed=True), "", "", "", style="dim")
    out.print(table)


def _estimate(estimate: Estimate, *, signed: bool = False) -> str:
    if estimate.n == 0:
        return "-"
    number = "{:+.3f}" if signed else "{:.3f}"
    return (f"{number.format(estimate.mean)} "
            f"[{number.format(estimate.low)}, {number.format(estimate.high)}]")


def _counts(counts: Mapping[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "0"
    parts = ", ".join(f"{reason} ×{count}" for reason, count in sorted(counts.items()))
    return escape(f"{total} ({parts})")


def _share(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.0%})" if whole else "0"
