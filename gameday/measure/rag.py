"""What the users of a RAG stack got: its answers (the ``ask`` and ``probe`` endpoints) as
columns, and their figures per scope, variant and degraded mode, and over time.

Definitions (DESIGN.md, SLIs for RAG; each figure over the answers of its scope, warm-up out):

- TTFT: from the request's *scheduled* send to the first token (no coordinated omission); an
  answer that never got a token has none. ITL: every gap between two tokens of an answer.
- cache hit share: answers the service marked ``X-Rag-Cache: hit`` / answers that came back.
- degraded share: good answers served from a fallback (``X-Rag-Degraded``) / good answers.
- quality: recall@k, exact match and token F1 of the labelled questions that were answered
  (``gameday.measure.quality`` defines them; a failed answer counts in availability, not here).
  A probe about a fresh document whose ingest was never acknowledged (it failed, or the run
  ended first) asks what nobody promised to know: it is not judged (``unjudged``). One whose
  ingest was acknowledged is judged, so a document an asynchronous failover lost shows up as
  a wrong answer.
- ingests (the ``ingest`` endpoint): sent, acknowledged (stored: the RPO ledger's writes), and
  of those ``pending``: stored while the embedder was down or slow, with their embedding to be
  filled in (keyword search finds them at once, vector search once filled in).
- stream continuity: a stream broke when it ended without its ``done`` event (``broken``: the
  one retry did not complete it either; ``resumed``: it did; ``duplicated``: the retry sent
  token positions the client already held); time to resume = break -> first retried token.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from gameday.config import INGEST_ENDPOINT
from gameday.measure.arrays import ARRAY_COLUMNS, RequestArrays, percentile
from gameday.measure.quality import Estimate, mean_ci, proportion_ci
from gameday.measure.windows import FaultWindow, Scope, in_scope

__all__ = ["ANSWER_COLUMNS", "ANSWER_ENDPOINTS", "AnswerStats", "Answers", "IngestStats",
           "Ingests", "RagBucket", "RagFigures", "answer_stats", "rag_buckets", "rag_figures"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]
BoolArray = npt.NDArray[np.bool_]

ANSWER_ENDPOINTS = ("ask", "probe")  # the rag stack's streamed answers (stack.yaml endpoints)
_TEXT = ("endpoint", "question", "variant", "cache", "degraded", "stream")
_NUMBERS = ("ttft_s", "resume_s", "recall", "correct", "f1")
ANSWER_COLUMNS: tuple[str, ...] = (*ARRAY_COLUMNS, "stack", *_TEXT, *_NUMBERS, "itl_s", "seq")
SCOPES: tuple[Scope, ...] = ("all", "outside_faults", "during_faults")


@dataclass(frozen=True, slots=True)
class Answers:
    """The answers of one RAG stack, in scheduled order; NaN where a number was not recorded.
    ``gaps`` holds every inter-token gap, ``gap_row`` the answer (row) each belongs to."""

    requests: RequestArrays
    endpoint: StrArray
    question: StrArray
    variant: StrArray
    cache: StrArray
    degraded: StrArray
    stream: StrArray
    ttft_s: FloatArray
    resume_s: FloatArray
    recall: FloatArray
    correct: FloatArray
    f1: FloatArray
    gaps: FloatArray
    gap_row: IntArray

    @classmethod
    def from_table(cls, table: pa.Table, stack: str = "rag") -> Answers:
        """From ``read_request_table`` with ``ANSWER_COLUMNS``: the stack's answer rows."""
        mask = pc.and_(pc.equal(table.column("stack").cast(pa.string()), stack),
                       pc.is_in(table.column("endpoint").cast(pa.string()),
                                pa.array(ANSWER_ENDPOINTS)))
        rows = table.filter(pc.fill_null(mask, False))
        gaps, gap_row = _gaps(rows.column("itl_s").to_pylist())
        columns: dict[str, Any] = {name: _text(rows, name) for name in _TEXT}
        columns.update({name: _floats(rows, name) for name in _NUMBERS})
        unpromised = _about_unacknowledged(table, rows, stack)
        for name in ("recall", "correct", "f1"):
            columns[name][unpromised] = np.nan
        return cls(RequestArrays.from_table(rows.select(list(ARRAY_COLUMNS))), **columns,
                   gaps=gaps, gap_row=gap_row)

    def __len__(self) -> int:
        return len(self.requests)

    def rows(self, lo: int, hi: int) -> Answers:
        """Rows ``lo`` to ``hi`` (excluded); ``gap_row`` is sorted, so its gaps are a slice."""
        first, last = np.searchsorted(self.gap_row, [lo, hi])
        columns = {f.name: getattr(self, f.name)[lo:hi] for f in fields(self)
                   if f.name not in ("requests", "gaps", "gap_row")}
        return Answers(self.requests.rows(lo, hi), **columns, gaps=self.gaps[first:last],
                       gap_row=self.gap_row[first:last] - lo)

    def select(self, mask: BoolArray) -> Answers:
        rows = np.flatnonzero(mask)
        renumber = np.full(len(self), -1, dtype=np.int64)
        renumber[rows] = np.arange(rows.size)
        keep = mask[self.gap_row] if self.gap_row.size else np.zeros(0, dtype=np.bool_)
        columns = {f.name: getattr(self, f.name)[mask] for f in fields(self)
                   if f.name not in ("requests", "gaps", "gap_row")}
        return Answers(self.requests.select(mask), **columns, gaps=self.gaps[keep],
                       gap_row=renumber[self.gap_row[keep]])


@dataclass(frozen=True, slots=True)
class Ingests:
    """The stack's document ingests, in scheduled order; ``degraded`` is ``embedder`` for one
    stored with its embedding pending."""

    requests: RequestArrays
    degraded: StrArray

    @classmethod
    def from_table(cls, table: pa.Table, stack: str = "rag") -> Ingests:
        """From ``read_request_table`` with ``ANSWER_COLUMNS``: the stack's ingest rows."""
        rows = table.filter(pc.fill_null(pc.and_(
            pc.equal(table.column("stack").cast(pa.string()), stack),
            pc.equal(table.column("endpoint").cast(pa.string()), INGEST_ENDPOINT)), False))
        return cls(RequestArrays.from_table(rows.select(list(ARRAY_COLUMNS))),
                   _text(rows, "degraded"))


@dataclass(frozen=True, slots=True)
class IngestStats:
    sent: int
    acknowledged: int
    pending: int  # acknowledged, stored with the embedding pending
    availability: float | None  # acknowledged / sent


def ingest_stats(ingests: Ingests, mask: BoolArray) -> IngestStats:
    ok = ingests.requests.ok[mask]
    pending = ok & (ingests.degraded[mask] != "")
    sent = int(ok.size)
    return IngestStats(sent=sent, acknowledged=int(np.count_nonzero(ok)),
                       pending=int(np.count_nonzero(pending)),
                       availability=_share(int(np.count_nonzero(ok)), sent))


def _about_unacknowledged(table: pa.Table, rows: pa.Table, stack: str) -> BoolArray:
    """Which answer rows are probes about a fresh document whose ingest was not acknowledged."""
    ingests = table.filter(pc.fill_null(pc.and_(
        pc.equal(table.column("stack").cast(pa.string()), stack),
        pc.and_(pc.equal(table.column("endpoint").cast(pa.string()), INGEST_ENDPOINT),
                table.column("ok"))), False))
    acknowledged = pc.drop_null(ingests.column("seq"))
    seq = rows.column("seq")
    about = pc.fill_null(pc.and_(pc.is_valid(seq), pc.starts_with(
        rows.column("question").cast(pa.string()), "fresh-")), False)
    unpromised = pc.and_(about, pc.invert(pc.fill_null(pc.is_in(seq, acknowledged), False)))
    return np.asarray(unpromised.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _text(table: pa.Table, name: str) -> StrArray:
    values = table.column(name).cast(pa.string()).fill_null("").to_pylist()
    return np.array(values, dtype=np.str_) if values else np.array([], dtype=np.str_)


def _floats(table: pa.Table, name: str) -> FloatArray:
    return np.array(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


def _gaps(cells: Sequence[str | None]) -> tuple[FloatArray, IntArray]:
    gaps: list[float] = []
    rows: list[int] = []
    for row, cell in enumerate(cells):
        if cell:
            values = [float(gap) for gap in cell.split(";")]
            gaps += values
            rows += [row] * len(values)
    return np.array(gaps, dtype=np.float64), np.array(rows, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class AnswerStats:
    """The figures of a set of answers; None where there was nothing to measure."""

    answers: int
    ok: int
    availability: float | None
    ttft_p50_s: float | None
    ttft_p95_s: float | None
    ttft_p99_s: float | None
    without_token: int  # answers that never got a first token
    unjudged: int  # good answers about a fresh document whose ingest was never acknowledged
    itl_p50_s: float | None
    itl_p99_s: float | None
    cache_hit_share: float | None
    degraded: int  # good answers served from a fallback
    degraded_share: float | None
    degraded_by: dict[str, int]  # fallback -> good answers it served
    recall: Estimate
    exact_match: Estimate
    f1: Estimate
    streams_broken: int  # broke at least once (broken + resumed + duplicated)
    streams_resumed: int
    streams_duplicated: int
    streams_unrecovered: int
    resume_p50_s: float | None
    resume_max_s: float | None


def answer_stats(answers: Answers, confidence: float = 0.95) -> AnswerStats:
    ok = answers.requests.ok
    good = int(np.count_nonzero(ok))
    count = len(answers)
    ttft = answers.ttft_s[~np.isnan(answers.ttft_s)]
    degraded = ok & (answers.degraded != "")
    reasons, per_reason = np.unique(answers.degraded[degraded], return_counts=True)
    labelled = ok & ~np.isnan(answers.recall)
    judged = answers.cache != ""
    stream = answers.stream
    broke = np.isin(stream, ("broken", "resumed", "duplicated"))
    resume = answers.resume_s[~np.isnan(answers.resume_s)]
    return AnswerStats(
        answers=count, ok=good, availability=good / count if count else None,
        ttft_p50_s=percentile(ttft, 50), ttft_p95_s=percentile(ttft, 95),
        ttft_p99_s=percentile(ttft, 99), without_token=count - int(ttft.size),
        unjudged=int(np.count_nonzero(ok & np.isnan(answers.recall)
                                      & np.char.startswith(answers.question, "fresh-"))),
        itl_p50_s=percentile(answers.gaps, 50), itl_p99_s=percentile(answers.gaps, 99),
        cache_hit_share=_share(int(np.count_nonzero(answers.cache == "hit")),
                               int(np.count_nonzero(judged))),
        degraded=int(np.count_nonzero(degraded)),
        degraded_share=_share(int(np.count_nonzero(degraded)), good),
        degraded_by={str(r): int(n) for r, n in zip(reasons, per_reason, strict=True)},
        recall=_proportion(answers.recall[labelled], confidence),
        exact_match=_proportion(answers.correct[labelled & ~np.isnan(answers.correct)],
                                confidence),
        f1=mean_ci(answers.f1[labelled], confidence),
        streams_broken=int(np.count_nonzero(broke)),
        streams_resumed=int(np.count_nonzero(stream == "resumed")),
        streams_duplicated=int(np.count_nonzero(stream == "duplicated")),
        streams_unrecovered=int(np.count_nonzero(stream == "broken")),
        resume_p50_s=percentile(resume, 50),
        resume_max_s=float(resume.max()) if resume.size else None,
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _proportion(values: FloatArray, confidence: float) -> Estimate:
    return proportion_ci(int(np.count_nonzero(values >= 0.5)), int(values.size), confidence)


@dataclass(frozen=True, slots=True)
class RagBucket:
    """One time bucket of the answers (``t_s`` from the load start); None: no answer in it."""

    t_s: float
    answers: int
    ok: int
    ttft_p50_s: float | None
    ttft_p99_s: float | None
    itl_p99_s: float | None
    cache_hit_share: float | None
    degraded_share: float | None
    recall: float | None  # every labelled answer
    exact_match: float | None
    fresh_recall: float | None  # probes about documents ingested during the run
    labelled: int


@dataclass(frozen=True, slots=True)
class RagFigures:
    stack: str
    scopes: dict[str, AnswerStats]  # all | outside_faults | during_faults
    variants: dict[str, dict[str, AnswerStats]]  # variant -> scope -> figures
    modes: dict[str, AnswerStats]  # normal | degraded (good answers only), warm-up out
    questions: dict[str, AnswerStats]  # base | fresh (probes about ingested documents)
    ingests: dict[str, IngestStats]  # scope -> the stack's document ingests ({}: not read)
    buckets: tuple[RagBucket, ...]
    bucket_s: float


def rag_figures(answers: Answers, windows: Sequence[FaultWindow], *, warmup_end_s: float | None,
                origin_s: float, bucket_s: float, stack: str = "rag",
                ingests: Ingests | None = None) -> RagFigures:
    measured = answers.select(answers.requests.scheduled_s >= warmup_end_s) \
        if warmup_end_s is not None else answers
    masks = {scope: in_scope(measured.requests.scheduled_s, windows, scope,
                             measured.requests.end_s) for scope in SCOPES}

    good = measured.requests.ok
    fresh = np.char.startswith(measured.question, "fresh-")
    return RagFigures(
        stack=stack,
        scopes={scope: answer_stats(measured.select(mask)) for scope, mask in masks.items()},
        variants={str(variant): {scope: answer_stats(measured.select(
            mask & (measured.variant == variant))) for scope, mask in masks.items()}
            for variant in sorted(set(measured.variant.tolist()) - {""})},
        modes={"normal": answer_stats(measured.select(good & (measured.degraded == ""))),
               "degraded": answer_stats(measured.select(good & (measured.degraded != "")))},
        questions={"base": answer_stats(measured.select((measured.question != "") & ~fresh)),
                   "fresh": answer_stats(measured.select(fresh))},
        ingests={} if ingests is None else _ingest_scopes(ingests, windows, warmup_end_s),
        buckets=rag_buckets(answers, origin_s=origin_s, bucket_s=bucket_s)
        if len(answers) else (),
        bucket_s=bucket_s,
    )


def _ingest_scopes(ingests: Ingests, windows: Sequence[FaultWindow],
                   warmup_end_s: float | None) -> dict[str, IngestStats]:
    sent = ingests.requests
    measured = sent.scheduled_s >= (-math.inf if warmup_end_s is None else warmup_end_s)
    return {scope: ingest_stats(ingests, measured & in_scope(sent.scheduled_s, windows, scope,
                                                             sent.end_s)) for scope in SCOPES}


def rag_buckets(answers: Answers, *, origin_s: float, bucket_s: float) -> tuple[RagBucket, ...]:
    """Every bucket from ``origin_s`` to the last answer's scheduled send (warm-up included:
    the charts grey it)."""
    scheduled = answers.requests.scheduled_s
    count = max(1, math.ceil(round((float(scheduled.max()) - origin_s) / bucket_s, 9) + 1e-9))
    edges = np.searchsorted(scheduled, origin_s + bucket_s * np.arange(1, count))
    bounds = np.concatenate(([0], edges, [len(answers)]))
    buckets = []
    for each in range(count):
        part = answers.rows(int(bounds[each]), int(bounds[each + 1]))
        ok = part.requests.ok
        labelled = ok & ~np.isnan(part.recall)
        fresh_labelled = labelled & np.char.startswith(part.question, "fresh-")
        ttft = part.ttft_s[~np.isnan(part.ttft_s)]
        buckets.append(RagBucket(
            t_s=each * bucket_s, answers=len(part), ok=int(np.count_nonzero(ok)),
            ttft_p50_s=percentile(ttft, 50), ttft_p99_s=percentile(ttft, 99),
            itl_p99_s=percentile(part.gaps, 99),
            cache_hit_share=_share(int(np.count_nonzero(part.cache == "hit")),
                                   int(np.count_nonzero(part.cache != ""))),
            degraded_share=_share(int(np.count_nonzero(ok & (part.degraded != ""))),
                                  int(np.count_nonzero(ok))),
            recall=_mean(part.recall[labelled]),
            exact_match=_mean(part.correct[labelled & ~np.isnan(part.correct)]),
            fresh_recall=_mean(part.recall[fresh_labelled]),
            labelled=int(np.count_nonzero(labelled))))
    return tuple(buckets)


def _mean(values: FloatArray) -> float | None:
    return float(values.mean()) if values.size else None
