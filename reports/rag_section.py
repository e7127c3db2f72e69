"""The RAG section of ``report.html`` (suites with the rag stack only): what the users got per
scope, the A/B variants under the same faults, degraded answers and questions about fresh
documents apart, stream continuity, and the panels of ``reports.rag_charts``."""

from __future__ import annotations

from html import escape

from gameday.measure.quality import Estimate
from gameday.measure.rag import AnswerStats, RagFigures
from reports.html_table import table
from reports.numbers import ms, pct, seconds
from reports.panels import figure_div
from reports.rag_charts import rag_figures
from reports.summary import Summary

__all__ = ["rag_section"]

_SCOPES = (("all", "all"), ("outside_faults", "outside faults"),
           ("during_faults", "during faults"))
_DEFINITIONS = (
    "Answers are the ask and probe requests (warm-up out). TTFT counts from the scheduled send. "
    "Degraded share = good answers served from a fallback (keyword index when the embedder is "
    "down or slow, the replica's own index when the store is) / good answers. Quality is over "
    "the labelled questions that were answered, with 95 % intervals (Wilson for shares, "
    "bootstrap for F1); a failed answer counts in availability, not in quality. Fresh = "
    "questions about documents ingested during the run: after an asynchronous failover those "
    "the new primary lost cannot be answered; one about a document whose ingest was never "
    "acknowledged is not judged. An ingest stored while the embedder was down or slow is "
    "acknowledged with its embedding pending: keyword search finds it at once, vector search "
    "once a replica has filled it in. A stream broke when it ended without its done "
    "event; resumed = the one retry completed it, duplicated = the retry resent tokens the "
    "client held, unrecovered = neither.")
_HEADERS = ["answers", "count", "availability", "TTFT p50", "TTFT p95", "TTFT p99",
            "no token", "ITL p50", "ITL p99", "cache hits", "degraded", "recall@k",
            "exact match", "F1", "not judged", "streams broke: resumed / duplicated / "
            "unrecovered", "time to resume p50 / max"]


def rag_section(summary: Summary) -> list[str]:
    figures = summary.rag
    if figures is None:
        return []
    parts = ['<h2 id="rag">RAG: what the users got</h2>',
             f'<div class="note" id="rag-definitions">{escape(_DEFINITIONS)}</div>',
             _scope_table(figures), _ingest_table(figures)]
    parts += [figure_div(figure, div_id)
              for div_id, figure in rag_figures(summary)]
    parts += ["<h2>RAG A/B: retrieval variants under the same faults</h2>",
              _variant_table(figures),
              "<h2>RAG degraded answers and fresh documents, apart</h2>", _apart_table(figures)]
    return parts


def _scope_table(figures: RagFigures) -> str:
    rows = [("", _row(label, figures.scopes[scope])) for scope, label in _SCOPES]
    return table(_HEADERS, rows, empty="no answers were recorded",
                 ids={11: "rag-recall-{}", 2: "rag-availability-{}"},
                 row_keys=[scope for scope, _ in _SCOPES])


def _ingest_table(figures: RagFigures) -> str:
    """The document ingests per scope: acknowledged ones are stored (the RPO ledger's
    writes); pending ones were stored while the embedder was down or slow."""
    if not figures.ingests:
        return ""
    rows = [("", [label, str(stats.sent), f"{stats.acknowledged} ({pct(stats.availability)})",
                  str(stats.pending)])
            for stats, label in ((figures.ingests[scope], label) for scope, label in _SCOPES)]
    return table(["ingests", "sent", "acknowledged", "stored with the embedding pending"],
                 rows, ids={2: "rag-ingests-acknowledged-{}", 3: "rag-ingests-pending-{}"},
                 row_keys=[scope for scope, _ in _SCOPES])


def _variant_table(figures: RagFigures) -> str:
    rows, keys = [], []
    for variant, scopes in figures.variants.items():
        for scope, label in _SCOPES:
            rows.append(("", _row(f"{variant}, {label}", scopes[scope])))
            keys.append(f"{variant}-{scope}")
    return table(_HEADERS, rows, empty="no answer named its retrieval variant",
                 ids={11: "rag-recall-{}"}, row_keys=keys)


def _apart_table(figures: RagFigures) -> str:
    named = [("normal (good answers)", figures.modes["normal"]),
             ("degraded (good answers)", figures.modes["degraded"]),
             ("base questions", figures.questions["base"]),
             ("fresh questions", figures.questions["fresh"])]
    rows = [("", _row(label, stats)) for label, stats in named]
    degraded = figures.scopes["all"].degraded_by
    by = ", ".join(f"{reason}: {count}" for reason, count in sorted(degraded.items()))
    note = f'<p class="meta">Degraded answers by fallback: {escape(by or "none")}.</p>'
    return table(_HEADERS, rows, ids={11: "rag-recall-{}"},
                 row_keys=["normal", "degraded", "base", "fresh"]) + note


def _row(label: str, stats: AnswerStats) -> list[str]:
    return [label, str(stats.answers), pct(stats.availability), ms(stats.ttft_p50_s),
            ms(stats.ttft_p95_s), ms(stats.ttft_p99_s), str(stats.without_token),
            ms(stats.itl_p50_s), ms(stats.itl_p99_s), pct(stats.cache_hit_share),
            f"{stats.degraded} ({pct(stats.degraded_share)})", _estimate(stats.recall),
            _estimate(stats.exact_match), _estimate(stats.f1), str(stats.unjudged),
            f"{stats.streams_broken}: {stats.streams_resumed} / {stats.streams_duplicated} / "
            f"{stats.streams_unrecovered}",
            f"{seconds(stats.resume_p50_s)} / {seconds(stats.resume_max_s)}"]


def _estimate(estimate: Estimate) -> str:
    if estimate.n == 0:
        return "—"
    return f"{estimate.mean:.2f} [{estimate.low:.2f}, {estimate.high:.2f}] n={estimate.n}"
