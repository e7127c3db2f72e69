"""What a release's analysis measures, and how (``gameday.measure.analysis`` judges it):

- ``prometheus``: an instant query of the platform's Prometheus over the canary's own
  metrics — as Argo Rollouts' analysis does — by name (``error_rate``: the share of the
  canary version's predictions that failed; ``latency_p99``: the canary member's p99 request
  time, seconds) or as PromQL with ``{member}``, ``{version}`` and ``{window}`` filled in;
- ``shadow``: the labelled shadow set (held-out transactions with their fraud label, which
  training writes) sent straight to the canary member, scored: ``roc_auc``. A model whose
  answers are valid but wrong (a training/serving skew) passes every other check.

Every address is loopback: the members' and Prometheus's (the platform's own).
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from gameday.errors import FaultError
from gameday.measure.analysis import MetricSpec, roc_auc
from gameday.platforms.base import Member

__all__ = ["NAMED_QUERIES", "MeasureContext", "ShadowSet", "measure"]

NAMED_QUERIES = {
    # no error series in the window is no error (or vector(0)); no prediction is no data
    "error_rate": (
        '(sum(increase(tabular_predictions_total{{replica="{member}",model_version="{version}",'
        'outcome="error"}}[{window}])) or vector(0)) / sum(increase(tabular_predictions_total{{'
        'replica="{member}",model_version="{version}"}}[{window}]))'),
    "latency_p99": (
        'histogram_quantile(0.99, sum by (le) (rate(tabular_request_duration_seconds_bucket{{'
        'replica="{member}",endpoint="/predict"}}[{window}])))'),
}
_QUERY_TIMEOUT_S = 3.0
_SHADOW_TIMEOUT_S = 2.0
# on every shadow request: the server scores it but keeps it out of its drift window (the
# stratified sample is fraud-rich, not the users' inputs); targets/tabular/app.py reads it
SHADOW_HEADER = "X-Gameday-Shadow"


@dataclass(frozen=True)
class ShadowSet:
    """Labelled transactions: what a model should say about each."""

    transactions: tuple[dict[str, object], ...]
    labels: tuple[int, ...]

    @classmethod
    def load(cls, path: Path) -> ShadowSet:
        try:
            rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            transactions = tuple(dict(row["transaction"]) for row in rows)
            labels = tuple(int(row["fraud"]) for row in rows)
        except OSError as exc:
            raise FaultError(f"shadow set {path}: {exc.strerror}; `make setup` writes it") \
                from None
        except (ValueError, KeyError, TypeError) as exc:
            raise FaultError(f"shadow set {path}: not JSON lines of transaction and fraud: "
                             f"{exc}") from None
        if not transactions:
            raise FaultError(f"shadow set {path} is empty")
        return cls(transactions, labels)


@dataclass(frozen=True)
class MeasureContext:
    """Where the analysis measures: the canary, its version, since when it takes traffic."""

    prometheus_url: str | None
    member: Member
    version: str
    predict_path: str
    since_s: float
    shadow: ShadowSet | None = None
    shadow_rows: int = 400
    shadow_max_s: float = 10.0


def measure(spec: MetricSpec, ctx: MeasureContext, interval_s: float) -> tuple[float | None,
                                                                             str]:
    """The metric's value now (None: no data) and a few words on how it was taken."""
    if spec.provider == "prometheus":
        return _prometheus(spec.query, ctx, interval_s)
    return _shadow(spec.query, ctx)


def _prometheus(query: str, ctx: MeasureContext, interval_s: float) -> tuple[float | None, str]:
    if ctx.prometheus_url is None:
        raise FaultError("the analysis needs Prometheus and the platform runs none")
    # the window covers what the canary served at this step only, at least 3 scrapes (1 s)
    window_s = max(3, math.ceil(min(max(interval_s, 3.0), time.time() - ctx.since_s)))
    promql = NAMED_QUERIES.get(query, query).format(member=ctx.member.name,
                                                    version=ctx.version,
                                                    window=f"{window_s}s")
    try:
        answer = httpx.get(f"{ctx.prometheus_url}/api/v1/query", params={"query": promql},
                           timeout=_QUERY_TIMEOUT_S)
        answer.raise_for_status()
        result = answer.json()["data"]["result"]
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return None, f"query failed: {exc}"
    values = [float(sample["value"][1]) for sample in result]
    if not values or math.isnan(values[0]):
        return None, f"no data over {window_s}s"
    return values[0], f"over the last {window_s}s"


def _stratified(labels: tuple[int, ...], rows: int, seed: int) -> list[int]:
    """Every fraud of the set (a few percent: a random sample would hold a handful, and an
    AUC over a handful swings by 0.1), then legitimate ones up to ``rows``, in random order."""
    frauds = [n for n, label in enumerate(labels) if label]
    rng = random.Random(seed)
    legit = [n for n, label in enumerate(labels) if not label]
    picked = frauds[: rows // 2] + rng.sample(legit, min(len(legit),
                                                          max(0, rows - len(frauds))))
    rng.shuffle(picked)
    return picked


def _shadow(query: str, ctx: MeasureContext) -> tuple[float | None, str]:
    if query != "roc_auc":
        raise FaultError(f"shadow metric {query!r}: expected roc_auc")
    if ctx.shadow is None:
        raise FaultError("a shadow metric needs the shadow set")
    picked = _stratified(ctx.shadow.labels, ctx.shadow_rows, seed=round(ctx.since_s))
    scores, labels, failed = [], [], 0
    deadline_s = time.monotonic() + ctx.shadow_max_s
    with httpx.Client(base_url=ctx.member.url, timeout=_SHADOW_TIMEOUT_S,
                      headers={SHADOW_HEADER: "1"}) as client:
        for index in picked:
            if time.monotonic() > deadline_s:
                break
            try:
                answer = client.post(ctx.predict_path, json=ctx.shadow.transactions[index])
                score = float(answer.json()["fraud_score"]) if answer.status_code == 200 \
                    else None
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                score = None
            if score is None:
                failed += 1
                continue
            scores.append(score)
            labels.append(ctx.shadow.labels[index])
    value = roc_auc(scores, labels)
    return value, f"{len(scores)} labelled transactions scored ({sum(labels)} fraud), " \
                  f"{failed} failed"
